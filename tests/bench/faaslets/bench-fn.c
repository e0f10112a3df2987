// The benchmark's guest function, built twice: with 1 MiB and with 256 MiB of
// memory that init() writes (so the snapshot is all dirty, initialised data).
// No libc: the exports are the whole interface. The same file is built
// natively (-DBENCH_NATIVE) for the runc container peer.
#ifndef BENCH_INIT_BYTES
#define BENCH_INIT_BYTES (1u << 20)
#endif

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(name)))
#else
#define EXPORT(name)
#endif

static unsigned char data[BENCH_INIT_BYTES];

EXPORT("init") void init(void) {
  for (unsigned i = 0; i < BENCH_INIT_BYTES; ++i)
    data[i] = (unsigned char)(i * 31u + 7u);
}

// One call: a read of the initialised data and a write (a dirtied page).
EXPORT("run") int run(int x) {
  unsigned i = (unsigned)x % BENCH_INIT_BYTES;
  data[i] ^= 1;
  return data[i] + x;
}

#ifdef BENCH_NATIVE
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// As a container's process: print the monotonic time at entry (ns), then init
// and run; with "idle", stay alive after the call (for the memory figures).
int main(int argc, char** argv) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  init();
  int r = run(42);
  printf("%lld %d\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, r);
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "idle") == 0)
    for (;;)
      pause();
  return 0;
}
#endif
