// How many Faaslets of a test run at once, counted by the guests themselves
// in Faasm state under its write lock: census(+1) when a call starts,
// census(-1) when it ends. The value is {alive, peak}, two int32s.
#pragma once

#include <faasm/faasm.h>

#include <stdint.h>

#define CENSUS_KEY "census"

static inline void census(int32_t delta) {
  int32_t v[2] = {0, 0};
  faasmLockStateWrite(CENSUS_KEY);
  if (faasmReadStateSize(CENSUS_KEY) >= (int32_t)sizeof v)
    faasmReadState(CENSUS_KEY, (uint8_t*)v, sizeof v);
  v[0] += delta;
  if (v[0] > v[1]) v[1] = v[0];
  faasmWriteState(CENSUS_KEY, (const uint8_t*)v, sizeof v);
  faasmUnlockStateWrite(CENSUS_KEY);
}

static inline int32_t censusPeak(void) {
  int32_t v[2] = {0, 0};
  faasmLockStateRead(CENSUS_KEY);
  if (faasmReadStateSize(CENSUS_KEY) >= (int32_t)sizeof v)
    faasmReadState(CENSUS_KEY, (uint8_t*)v, sizeof v);
  faasmUnlockStateRead(CENSUS_KEY);
  return v[1];
}

// The call's input as a NUL-terminated string (at most size - 1 bytes).
static inline const char* inputText(char* buffer, int32_t size) {
  int32_t n = faasmGetInputSize();
  if (n > size - 1) n = size - 1;
  faasmGetInput((uint8_t*)buffer, n);
  buffer[n] = 0;
  return buffer;
}
