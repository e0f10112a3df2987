// Global state across hosts: what tests/e2e-state-global runs on several
// "hosts" (faasm-run processes with separate local tiers) sharing one Redis.
//
//   state-global KEY put SIZE SEED        write a SIZE-byte value made from SEED, push it
//   state-global KEY put-loop SIZE FROM N  put seeds FROM .. FROM+N-1, printing each pushed
//   state-global KEY get                  pull; print "SIZE seed S" or "SIZE torn"
//   state-global KEY chunk SIZE CHUNK I..  pull, then per chunk index I: write CHUNK bytes of
//                                          value I+1 at I*CHUNK and push partial
//   state-global KEY chunks CHUNK N       pull; print each chunk's first byte
//   state-global KEY counter K            K times: global write lock, pull, add one, push,
//                                          unlock
//   state-global KEY hold MS VALUE        global write lock, pull, busy-wait MS (wall
//                                          clock), write VALUE, push, unlock
//   state-global KEY value                pull; print the value as text
// A value made from seed S: bytes 0..3 hold S, byte i >= 4 is
// (i * 131 + S * 7 + (i >> 12)) mod 256, so a mix of two seeds shows.
#include <faasm/faasm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint8_t patternByte(uint32_t seed, uint32_t i) {
  return (uint8_t)(i * 131u + seed * 7u + (i >> 12));
}

static void fill(uint8_t* v, uint32_t size, uint32_t seed) {
  for (uint32_t i = 4; i < size; ++i)
    v[i] = patternByte(seed, i);
  if (size >= 4) memcpy(v, &seed, 4);
}

static void put(const char* key, uint32_t size, uint32_t seed) {
  uint8_t* v = malloc(size ? size : 1);
  fill(v, size, seed);
  faasmWriteState(key, v, (int32_t)size);
  faasmPushState(key);
  free(v);
}

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: state-global KEY put|put-loop|get|chunk|chunks|counter|hold|value ...\n");
    return 2;
  }
  const char* key = argv[1];
  const char* mode = argv[2];
  if (!strcmp(mode, "put") && argc == 5) {
    put(key, (uint32_t)atol(argv[3]), (uint32_t)atol(argv[4]));
  } else if (!strcmp(mode, "put-loop") && argc == 6) {
    uint32_t size = (uint32_t)atol(argv[3]), from = (uint32_t)atol(argv[4]);
    int n = atoi(argv[5]);
    for (int i = 0; i < n; ++i) {
      put(key, size, from + (uint32_t)i);
      printf("pushed %u\n", from + (uint32_t)i);
      fflush(stdout);
    }
  } else if (!strcmp(mode, "get")) {
    faasmPullState(key, 0);
    int32_t size = faasmReadStateSize(key);
    uint8_t* v = malloc(size > 0 ? (size_t)size : 1);
    faasmReadState(key, v, size);
    uint32_t seed = 0;
    if (size >= 4) memcpy(&seed, v, 4);
    int ok = size >= 4;
    for (int32_t i = 4; ok && i < size; ++i)
      ok = v[i] == patternByte(seed, (uint32_t)i);
    if (ok)
      printf("%d seed %u\n", size, seed);
    else
      printf("%d torn\n", size);
    free(v);
  } else if (!strcmp(mode, "chunk") && argc >= 6) {
    int32_t size = atoi(argv[3]), chunk = atoi(argv[4]);
    faasmPullState(key, size);
    for (int a = 5; a < argc; ++a) {
      int32_t index = atoi(argv[a]);
      uint8_t* c = malloc((size_t)chunk);
      memset(c, index + 1, (size_t)chunk);
      faasmWriteStateOffset(key, size, index * chunk, c, chunk);
      faasmPushStatePartial(key);
      free(c);
    }
  } else if (!strcmp(mode, "chunks") && argc == 5) {
    int32_t chunk = atoi(argv[3]), n = atoi(argv[4]);
    faasmPullState(key, chunk * n);
    for (int32_t i = 0; i < n; ++i) {
      uint8_t b = 0;
      faasmReadStateOffset(key, chunk * n, i * chunk, &b, 1);
      printf("%s%u", i ? " " : "", b);
    }
    printf("\n");
  } else if (!strcmp(mode, "counter") && argc == 4) {
    int k = atoi(argv[3]);
    for (int i = 0; i < k; ++i) {
      faasmLockStateGlobalWrite(key);
      faasmPullState(key, 4);
      int32_t value = 0;
      faasmReadState(key, (uint8_t*)&value, 4);
      ++value;
      faasmWriteState(key, (const uint8_t*)&value, 4);
      faasmPushState(key);
      faasmUnlockStateGlobalWrite(key);
    }
  } else if (!strcmp(mode, "hold") && argc == 5) {
    double ms = atof(argv[3]);
    faasmLockStateGlobalWrite(key);
    faasmPullState(key, 0);
    double start = nowMs();
    while (nowMs() - start < ms) {
    }
    faasmWriteState(key, (const uint8_t*)argv[4], (int32_t)strlen(argv[4]));
    faasmPushState(key);
    faasmUnlockStateGlobalWrite(key);
  } else if (!strcmp(mode, "value")) {
    faasmPullState(key, 0);
    int32_t size = faasmReadStateSize(key);
    char* v = calloc((size_t)size + 1, 1);
    faasmReadState(key, (uint8_t*)v, size);
    printf("%s\n", v);
    free(v);
  } else {
    fprintf(stderr, "state-global: bad arguments\n");
    return 2;
  }
  return 0;
}
