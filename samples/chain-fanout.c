// Fan-out/fan-in chaining: chains N calls of chain-worker, each with its own
// input, awaits them all, and combines their outputs.
//   faasm-run --functions DIR --input 5 DIR/chain-fanout.so
//   -> "sum of squares 1..5 = 55 (workers: 1 4 9 16 25)"
#include "faasm/faasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORKERS 64

FAASM_MAIN_FUNC() {
  char input[32] = {0};
  int32_t inputSize = faasmGetInputSize();
  faasmGetInput((uint8_t*)input, sizeof input - 1);
  int n = inputSize > 0 ? atoi(input) : 4;
  if (n < 1 || n > MAX_WORKERS) {
    fprintf(stderr, "chain-fanout: want 1..%d workers, got %d\n", MAX_WORKERS, n);
    return 2;
  }

  uint32_t ids[MAX_WORKERS];
  for (int i = 0; i < n; ++i) {
    char arg[16];
    int len = snprintf(arg, sizeof arg, "%d", i + 1);
    ids[i] = faasmChainNamed("chain-worker", (const uint8_t*)arg, len);
    if (ids[i] == 0) {
      fprintf(stderr, "chain-fanout: no function chain-worker\n");
      return 3;
    }
  }

  long sum = 0;
  char list[MAX_WORKERS * 12] = {0};
  size_t used = 0;
  for (int i = 0; i < n; ++i) {
    int32_t rc = faasmAwaitCall(ids[i]);
    if (rc != 0) {
      fprintf(stderr, "chain-fanout: worker %d failed with %d\n", i + 1, rc);
      return 4;
    }
    char out[32] = {0};
    int32_t size = faasmGetOutput(ids[i], (uint8_t*)out, sizeof out - 1);
    if (size < 0 || size >= (int32_t)sizeof out) return 5;
    long value = atol(out);
    sum += value;
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%ld", i ? " " : "", value);
  }

  char result[sizeof list + 64];
  int len =
      snprintf(result, sizeof result, "sum of squares 1..%d = %ld (workers: %s)\n", n, sum, list);
  faasmSetOutput((const uint8_t*)result, len);
  return 0;
}
