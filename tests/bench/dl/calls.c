/* A hot call across the dynamic-loading boundary against the same call
 * within the main module (scripts/bench-dl, docs/DynamicLoading.md), 10^8
 * calls each, three rounds, ns of CPU time per call:
 *   pointer: one loop calling through a function pointer (call_indirect),
 *            run from main on main's function (within), from main on the
 *            library's (main->lib) and from the library on main's
 *            (lib->main); the library's loop is the same C as main's;
 *   direct:  a loop calling a named function: main's own (within, a call
 *            to a defined function) against the library's call of main's
 *            function (lib->main, a call to an import). */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

__attribute__((noinline)) int local_inc(int x) {
  return x + 1;
}

/* What the library imports, and what main_direct_loop calls. faasm-codegen
 * inlines a small callee of a direct call (wasm has no noinline), which
 * would leave no call to time; a recursive one it never inlines. The
 * recursion is never taken (x >= 0). */
__attribute__((noinline)) int main_inc(int x) {
  if (x < 0) return main_inc(main_inc(x + 1));
  return x + 1;
}

__attribute__((noinline)) int main_wrap(int x) {
  return main_inc(x) + 1;
}

__attribute__((noinline)) int main_pointer_loop(int (*volatile f)(int), int n) {
  int (*g)(int) = f;
  int x = 0;
  for (int i = 0; i < n; ++i)
    x = g(x);
  return x;
}

__attribute__((noinline)) int main_direct_loop(int n) {
  int x = 0;
  for (int i = 0; i < n; ++i)
    x = main_inc(x);
  return x;
}

/* The thread's CPU time, not the wall clock: on a loaded machine the time
 * the Faaslet waits for a core is not a cost of the call. */
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
  void* h = dlopen("/lib/inc.so", RTLD_NOW);
  if (!h) {
    printf("%s\n", dlerror());
    return 1;
  }
  int (*lib)(int) = (int (*)(int))dlsym(h, "lib_inc");
  int (*libPointerLoop)(int (*)(int), int) =
      (int (*)(int (*)(int), int))dlsym(h, "lib_pointer_loop");
  int (*libDirectLoop)(int) = (int (*)(int))dlsym(h, "lib_direct_loop");
  int (*libWrap)(int) = (int (*)(int))dlsym(h, "lib_wrap");
  if (!lib || !libPointerLoop || !libDirectLoop || !libWrap) {
    printf("%s\n", dlerror());
    return 1;
  }
  /* volatile: the compiler must not see through n and fold a loop away. */
  volatile int count = 100000000;
  const int n = count;
  for (int round = 0; round < 3; ++round) {
    double t0 = now();
    int a = main_pointer_loop(local_inc, n);
    double t1 = now();
    int b = main_pointer_loop(lib, n);
    double t2 = now();
    int c = libPointerLoop(local_inc, n);
    double t3 = now();
    int d = main_direct_loop(n);
    double t4 = now();
    int e = libDirectLoop(n);
    double t5 = now();
    int f = main_pointer_loop(main_wrap, n / 2);
    double t6 = now();
    int g = main_pointer_loop(libWrap, n / 2);
    double t7 = now();
    double within = (t1 - t0) / n * 1e9, toLib = (t2 - t1) / n * 1e9, toMain = (t3 - t2) / n * 1e9;
    double directWithin = (t4 - t3) / n * 1e9, directToMain = (t5 - t4) / n * 1e9;
    /* two calls each: the pointer's and the wrapper's of main_inc */
    double wrapWithin = (t6 - t5) / n * 1e9, wrapToMain = (t7 - t6) / n * 1e9;
    printf("pointer: within main %.2f ns, main->lib %.2f ns (%.2fx), lib->main %.2f ns (%.2fx); "
           "direct: within main %.2f ns, lib->main %.2f ns (%.2fx); "
           "wrapped: within main %.2f ns, lib->main %.2f ns (%.2fx)%s\n",
           within, toLib, toLib / within, toMain, toMain / within, directWithin, directToMain,
           directToMain / directWithin, wrapWithin, wrapToMain, wrapToMain / wrapWithin,
           a == n && b == n && c == n && d == n && e == n && f == n && g == n ? "" : " WRONG");
  }
  return 0;
}
