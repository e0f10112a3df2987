// Computes for a while (input: millions of iterations), then outputs
// "slow:" + the input: a call long enough to kill its worker under it.
#include "faasm/faasm.h"

#include <stdlib.h>
#include <string.h>

int main(void) {
  static uint8_t buffer[64];
  int32_t n = faasmGetInputSize();
  if (n > (int32_t)sizeof buffer - 6) n = sizeof buffer - 6;
  memcpy(buffer, "slow:", 5);
  faasmGetInput(buffer + 5, n);
  buffer[5 + n] = 0;
  long millions = atol((const char*)buffer + 5);
  for (volatile long i = 0; i < millions * 1000000L; ++i) {
  }
  faasmSetOutput(buffer, n + 5);
  return 0;
}
