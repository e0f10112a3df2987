// Chains "slow" N times with the same input and awaits each: input
// "N:millions" (N 1..32); outputs the children's outputs joined by ','. A
// child that does not end with 0 makes the call return 4.
#include "faasm/faasm.h"

#include <stdlib.h>
#include <string.h>

int main(void) {
  char input[32] = {0};
  faasmGetInput((uint8_t*)input, sizeof input - 1);
  char* colon = strchr(input, ':');
  if (!colon) return 2;
  *colon = 0;
  int n = atoi(input);
  const char* arg = colon + 1;
  if (n < 1 || n > 32) return 2;
  uint32_t ids[32];
  for (int i = 0; i < n; ++i) {
    ids[i] = faasmChainNamed("slow", (const uint8_t*)arg, (int32_t)strlen(arg));
    if (!ids[i]) return 3;
  }
  static char out[32 * 64];
  size_t used = 0;
  for (int i = 0; i < n; ++i) {
    char buffer[60];
    if (faasmAwaitCall(ids[i]) != 0) return 4;
    int32_t got = faasmGetOutput(ids[i], (uint8_t*)buffer, sizeof buffer);
    if (got < 0 || got > (int32_t)sizeof buffer) return 5;
    if (i) out[used++] = ',';
    memcpy(out + used, buffer, (size_t)got);
    used += (size_t)got;
  }
  faasmSetOutput((uint8_t*)out, (int32_t)used);
  return 0;
}
