// A Faasm function with state that must not survive a call: a counter set up
// by a constructor and the zygote hook, bumped by every call. Run warm
// (faasm-run --warm N) every call must still see the initial value, and a
// snapshot taken with FAASM_SEED set must carry the seed to a process that
// restores it without running initialisation again.
#include "faasm/faasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int counter = 1;
static int seed = -1;
static char scratch[200000]; // dirtied by every call, must read as zero at entry

__attribute__((constructor)) static void setUp(void) {
  // Not a constant the compiler can fold: the environment decides.
  counter += 100 + (getenv("FAASM_COUNTER_EXTRA") != NULL);
}

FAASM_ZYGOTE() {
  const char* s = getenv("FAASM_SEED");
  seed = s ? atoi(s) : 0;
  counter += 1000;
  return 0;
}

FAASM_MAIN_FUNC() {
  int dirty = 0;
  for (size_t i = 0; i < sizeof scratch; i += 4096)
    dirty |= scratch[i];
  memset(scratch, 0x5a, sizeof scratch);
  // Grow the memory too: a warm reset must shrink it back, and the grown
  // pages must read as zero again on the next call.
  volatile char* big = malloc(4 << 20);
  if (big) {
    for (size_t i = 0; i < (4 << 20); i += 4096)
      dirty |= big[i];
    for (size_t i = 0; i < (4 << 20); i += 512)
      big[i] = 1;
  }

  char out[96];
  int n = snprintf(out, sizeof out, "counter=%d seed=%d dirty=%d\n", counter, seed, dirty);
  faasmSetOutput((const uint8_t*)out, n);
  printf("stdout counter=%d\n", counter);
  counter++;
  return 0;
}
