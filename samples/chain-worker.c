// The worker of chain-fanout: squares the number it is given.
#include "faasm/faasm.h"

#include <stdio.h>
#include <stdlib.h>

FAASM_MAIN_FUNC() {
  char input[32] = {0};
  faasmGetInput((uint8_t*)input, sizeof input - 1);
  long k = atol(input);
  char out[32];
  int len = snprintf(out, sizeof out, "%ld", k * k);
  faasmSetOutput((const uint8_t*)out, len);
  return 0;
}
