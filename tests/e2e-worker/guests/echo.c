// Output = "echo:" + input; returns the input's length modulo 100 when the
// input starts with "rc=" (so a test can pick the return code).
#include "faasm/faasm.h"

#include <stdlib.h>
#include <string.h>

int main(void) {
  static uint8_t buffer[4096];
  int32_t n = faasmGetInputSize();
  if (n > (int32_t)sizeof buffer - 5) n = sizeof buffer - 5;
  memcpy(buffer, "echo:", 5);
  faasmGetInput(buffer + 5, n);
  faasmSetOutput(buffer, n + 5);
  if (n > 3 && memcmp(buffer + 5, "rc=", 3) == 0) return atoi((const char*)buffer + 8);
  return 0;
}
