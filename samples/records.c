// C features a function typically needs: printf formatting, malloc/free,
// qsort with a comparator, and calls through a table of function pointers.
// Its arguments (after the program name) are sorted and printed too. The
// output is deterministic, so the end-to-end tests compare it byte for byte
// with a native build of this same file.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char name[16];
  int score;
  double weight;
} Record;

static int byScoreThenName(const void* a, const void* b) {
  const Record* x = a;
  const Record* y = b;
  if (x->score != y->score) {
    return x->score < y->score ? -1 : 1;
  }
  return strcmp(x->name, y->name);
}

static int byString(const void* a, const void* b) {
  return strcmp(*(const char* const*)a, *(const char* const*)b);
}

static int64_t opSum(const Record* r, size_t n) {
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += r[i].score;
  }
  return total;
}

static int64_t opMax(const Record* r, size_t n) {
  int64_t best = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if (r[i].score > best) {
      best = r[i].score;
    }
  }
  return best;
}

static int64_t opChecksum(const Record* r, size_t n) {
  uint32_t h = 2166136261u; // FNV-1a over names and scores
  for (size_t i = 0; i < n; i++) {
    for (const char* c = r[i].name; *c; c++) {
      h = (h ^ (uint8_t)*c) * 16777619u;
    }
    h = (h ^ (uint32_t)r[i].score) * 16777619u;
  }
  return h;
}

typedef int64_t (*Operation)(const Record*, size_t);

static const struct {
  const char* name;
  Operation run;
} operations[] = {
    {"sum", opSum},
    {"max", opMax},
    {"checksum", opChecksum},
};

int main(int argc, char** argv) {
  static const char* names[] = {"delta", "alpha", "echo", "charlie", "bravo", "golf", "foxtrot"};
  const size_t count = sizeof(names) / sizeof(names[0]);

  Record* records = malloc(count * sizeof(Record));
  if (records == NULL) {
    return 2;
  }
  uint32_t seed = 12345;
  for (size_t i = 0; i < count; i++) {
    seed = seed * 1103515245u + 12345u; // fixed LCG: same numbers everywhere
    snprintf(records[i].name, sizeof(records[i].name), "%s", names[i]);
    records[i].score = (int)((seed >> 16) % 100);
    records[i].weight = records[i].score / 8.0;
  }

  qsort(records, count, sizeof(Record), byScoreThenName);
  for (size_t i = 0; i < count; i++) {
    printf("%-8s %3d %7.3f\n", records[i].name, records[i].score, records[i].weight);
  }

  for (size_t i = 0; i < sizeof(operations) / sizeof(operations[0]); i++) {
    printf("%s = %lld\n", operations[i].name, (long long)operations[i].run(records, count));
  }
  printf("hex 0x%08x, char %c, string '%.3s'\n", 48879u, 'F', "faasm");

  // Many small blocks, freed out of order, to exercise the allocator.
  char** blocks = calloc(64, sizeof(char*));
  size_t bytes = 0;
  for (int i = 0; i < 64; i++) {
    blocks[i] = malloc((size_t)(i * 37 % 200 + 1));
    memset(blocks[i], i, (size_t)(i * 37 % 200 + 1));
    bytes += (size_t)(i * 37 % 200 + 1);
  }
  for (int i = 0; i < 64; i += 2) {
    free(blocks[i]);
  }
  for (int i = 1; i < 64; i += 2) {
    free(blocks[i]);
  }
  free(blocks);
  printf("allocated and freed %zu bytes in 64 blocks\n", bytes);

  if (argc > 1) {
    qsort(argv + 1, (size_t)(argc - 1), sizeof(char*), byString);
    printf("arguments:");
    for (int i = 1; i < argc; i++) {
      printf(" %s", argv[i]);
    }
    printf("\n");
  }

  free(records);
  return 0;
}
