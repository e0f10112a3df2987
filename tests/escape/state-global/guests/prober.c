// A hostile function for the global state tier: names keys crafted to
// alias another user's Redis keys, and reports what it could see.
//
//   prober probe KEY...   for each key: pull, print "<size> <bytes as text>",
//                         then write "mallory" to it and push (whole, then partial)
//   prober put KEY TEXT   write TEXT, push
//   prober get KEY        pull, print the value as text
#include <faasm/faasm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void show(const char* key) {
  faasmPullState(key, 0);
  int32_t size = faasmReadStateSize(key);
  char* v = calloc((size_t)size + 1, 1);
  if (size) faasmReadState(key, (uint8_t*)v, size);
  printf("%d %s\n", size, v);
  free(v);
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "probe")) {
    for (int i = 2; i < argc; ++i) {
      show(argv[i]);
      faasmWriteState(argv[i], (const uint8_t*)"mallory", 7);
      faasmPushState(argv[i]);
      faasmWriteStateOffset(argv[i], 7, 0, (const uint8_t*)"M", 1);
      faasmPushStatePartial(argv[i]);
      faasmAppendState(argv[i], (const uint8_t*)"m", 1);
    }
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "put")) {
    faasmWriteState(argv[2], (const uint8_t*)argv[3], (int32_t)strlen(argv[3]));
    faasmPushState(argv[2]);
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "get")) {
    show(argv[2]);
    return 0;
  }
  fprintf(stderr, "usage: prober probe KEY... | put KEY TEXT | get KEY\n");
  return 2;
}
