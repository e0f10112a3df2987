// A value mapped before the function's first allocation (C): the
// initialisation maps it, then main allocates until its heap has grown past
// the mapping. No allocation may land inside the mapped value, and the
// value's bytes must be as written. wasi-libc's malloc makes its heap at the
// first allocation out of everything up to the memory's end at that moment,
// which includes a value mapped earlier unless faasm.h's wrapper made the
// heap first.
#include <faasm/faasm.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { kValueBytes = 64 * 1024, kBlockBytes = 64 * 1024, kMaxBlocks = 1024 };

static const char* const kKey = "guestapi-first";
static uint8_t* value;

static uint8_t pattern(size_t i) {
  return (uint8_t)(i * 7 + 3);
}

// Runs before main and before anything of wasi-libc allocates.
__attribute__((constructor)) static void mapFirst(void) {
  static uint8_t initial[kValueBytes];
  for (size_t i = 0; i < kValueBytes; i++)
    initial[i] = pattern(i);
  faasmWriteState(kKey, initial, kValueBytes);
  value = faasmReadStatePtr(kKey, kValueBytes);
}

int main(void) {
  uintptr_t lo = (uintptr_t)value, hi = lo + kValueBytes;
  int inside = 0, past = 0;
  for (int i = 0; i < kMaxBlocks && !past; i++) {
    uint8_t* block = malloc(kBlockBytes);
    if (!block) break;
    uintptr_t b = (uintptr_t)block;
    if (b < hi && b + kBlockBytes > lo) inside++;
    if (b >= hi) past = 1;
    memset(block, 0xee, kBlockBytes);
  }
  size_t changed = 0;
  for (size_t i = 0; i < kValueBytes; i++)
    changed += value[i] != pattern(i);
  printf("heap grown past the value: %s; allocations inside it: %d; bytes changed: %zu\n",
         past ? "yes" : "no", inside, changed);
  return past && inside == 0 && changed == 0 ? 0 : 1;
}
