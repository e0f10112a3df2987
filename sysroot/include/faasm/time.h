// Faasm's timing helpers (faasm/cpp libfaasm's time.h). Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/time.h is C++"
#endif

#include <stdio.h>
#include <time.h>

// Timings printed ("TIME: <name> <ms>") in native builds, or in wasm when
// WASM_PROF is 1; nothing otherwise.
#if WASM_PROF == 1 || !defined(__wasm__)
#define FAASM_PROF_START(profVar) clock_t profVar = clock();
#define FAASM_PROF_END(profVar)                                                                    \
  float diff_##profVar = ((clock() - profVar) * 1000.0f) / CLOCKS_PER_SEC;                         \
  printf("TIME: %s %f\n", #profVar, diff_##profVar);
#else
#define FAASM_PROF_START(profVar)
#define FAASM_PROF_END(profVar)
#endif

namespace faasm {

// Wall-clock time in seconds since 1970, to the microsecond or better.
inline double getSecondsSinceEpoch() {
  struct timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return double(now.tv_sec) + double(now.tv_nsec) / 1e9;
}

} // namespace faasm
