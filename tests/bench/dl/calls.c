/* A hot call across the dynamic-loading boundary against the same call
 * within the main module (scripts/bench-dl, docs/DynamicLoading.md): 10^8
 * calls through a function pointer each way, three rounds, ns per call. */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

__attribute__((noinline)) int local_inc(int x) {
  return x + 1;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
  void* h = dlopen("/lib/inc.so", RTLD_NOW);
  if (!h) {
    printf("%s\n", dlerror());
    return 1;
  }
  /* volatile: the compiler must not see through the pointers and inline. */
  int (*volatile lib)(int) = (int (*)(int))dlsym(h, "lib_inc");
  int (*volatile local)(int) = local_inc;
  int (*libLoop)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(h, "lib_loop");
  const int n = 100000000;
  for (int round = 0; round < 3; ++round) {
    int (*f)(int) = local;
    double t0 = now();
    int x = 0;
    for (int i = 0; i < n; ++i)
      x = f(x);
    double t1 = now();
    f = lib;
    int y = 0;
    for (int i = 0; i < n; ++i)
      y = f(y);
    double t2 = now();
    int z = libLoop(local, n);
    double t3 = now();
    double within = (t1 - t0) / n * 1e9, toLib = (t2 - t1) / n * 1e9, toMain = (t3 - t2) / n * 1e9;
    printf("within main %.2f ns, main->lib %.2f ns (%.2fx), lib->main %.2f ns (%.2fx)%s\n", within,
           toLib, toLib / within, toMain, toMain / within,
           x == n && y == n && z == n ? "" : " WRONG");
  }
  return 0;
}
