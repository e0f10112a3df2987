// Chains "echo" N times (N = input, default 3), awaits each, and outputs
// their outputs joined by ','.
#include "faasm/faasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char input[16] = {0};
  faasmGetInput((uint8_t*)input, sizeof input - 1);
  int n = input[0] ? atoi(input) : 3;
  if (n < 1 || n > 16) return 2;
  uint32_t ids[16];
  for (int i = 0; i < n; ++i) {
    char arg[8];
    int len = snprintf(arg, sizeof arg, "%d", i);
    ids[i] = faasmChainNamed("echo", (const uint8_t*)arg, len);
    if (!ids[i]) return 3;
  }
  static char out[1024];
  size_t used = 0;
  for (int i = 0; i < n; ++i) {
    char buffer[64];
    if (faasmAwaitCall(ids[i]) != 0) return 4;
    int32_t got = faasmGetOutput(ids[i], (uint8_t*)buffer, sizeof buffer);
    if (got < 0 || got > (int32_t)sizeof buffer) return 5;
    if (i) out[used++] = ',';
    memcpy(out + used, buffer, got);
    used += got;
  }
  faasmSetOutput((uint8_t*)out, used);
  return 0;
}
