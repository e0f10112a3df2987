// A counter in Faasm state, incremented under the state write lock. Many
// Faaslets running this at once must lose no update.
//
//   state-counter <key> add <n>   n times: lock, read, add one, write, unlock
//   state-counter <key> get       prints the counter
#include <faasm/faasm.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int32_t readCounter(const char* key) {
  int32_t value = 0;
  if (faasmReadStateSize(key) >= (int32_t)sizeof value)
    faasmReadState(key, (uint8_t*)&value, sizeof value);
  return value;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: state-counter KEY add N | KEY get\n");
    return 2;
  }
  const char* key = argv[1];
  if (strcmp(argv[2], "get") == 0) {
    printf("%d\n", readCounter(key));
    return 0;
  }
  if (strcmp(argv[2], "add") != 0 || argc < 4) return 2;
  int n = atoi(argv[3]);
  for (int i = 0; i < n; ++i) {
    faasmLockStateWrite(key);
    int32_t value = readCounter(key) + 1;
    faasmWriteState(key, (const uint8_t*)&value, sizeof value);
    faasmUnlockStateWrite(key);
  }
  return 0;
}
