/* Shared helpers of the benchmark kernels (C and C++).
 *
 * Contract of every kernel, relied on by scripts/bench-code:
 *  - argv[1], when given, is the problem size (its meaning is stated in the
 *    kernel's header comment); the default is tuned to run >= 0.3 s natively;
 *  - it times only its compute phase, not input generation or the check, and
 *    prints `time_s=<thread CPU seconds>`, `wall_s=<seconds>` and
 *    `checksum=<text>` on stdout;
 *  - it checks its own result against an independent computation or an
 *    invariant, and exits 1 with `FAILED: <why>` on stderr when it is wrong.
 * No kernel calls libm's transcendental functions: glibc and wasi-libc round
 * them differently, and every peer must print the same checksum as native. */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The compute phase is timed in CPU time of the calling thread (the machine is
 * shared, so wall time mostly measures the neighbours) and in wall time. */
static double benchCpuStart, benchWallStart, benchCpuSeconds, benchWallSeconds;

static inline double benchClock(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void benchStart(void) {
  benchWallStart = benchClock(CLOCK_MONOTONIC);
  benchCpuStart = benchClock(CLOCK_THREAD_CPUTIME_ID);
}

static inline void benchStop(void) {
  benchCpuSeconds = benchClock(CLOCK_THREAD_CPUTIME_ID) - benchCpuStart;
  benchWallSeconds = benchClock(CLOCK_MONOTONIC) - benchWallStart;
}

static inline long benchSize(int argc, char** argv, long defaultSize) {
  if (argc > 1) {
    long value = strtol(argv[1], NULL, 10);
    if (value > 0) return value;
    fprintf(stderr, "FAILED: size must be a positive integer, got '%s'\n", argv[1]);
    exit(2);
  }
  return defaultSize;
}

/* xorshift64*: deterministic input data, identical on every peer. */
typedef struct {
  uint64_t s;
} BenchRng;
static inline uint64_t benchNext(BenchRng* r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1DULL;
}
/* Uniform in [0, 1). */
static inline double benchUniform(BenchRng* r) {
  return (double)(benchNext(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* splitmix64 finaliser: a bijection on 64-bit integers. */
static inline uint64_t benchMix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

/* Prints the report lines; returns the process exit status. */
static inline int benchFinish(const char* checksum, int ok, const char* why) {
  printf("time_s=%.6f\nwall_s=%.6f\nchecksum=%s\n", benchCpuSeconds, benchWallSeconds, checksum);
  fflush(stdout);
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", why);
    return 1;
  }
  return 0;
}

#endif
