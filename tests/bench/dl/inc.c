/* The library side of calls.c. Each loop here is, byte for byte, the same
 * C as its counterpart in calls.c, so the two compile to the same wasm and
 * differ only in the module they live in. */
int main_inc(int x); /* an import from the main module */

__attribute__((noinline)) int lib_inc(int x) {
  return x + 1;
}

/* f is read once, before the loop: the loop is the call alone. */
__attribute__((noinline)) int lib_pointer_loop(int (*volatile f)(int), int n) {
  int (*g)(int) = f;
  int x = 0;
  for (int i = 0; i < n; ++i)
    x = g(x);
  return x;
}

__attribute__((noinline)) int lib_direct_loop(int n) {
  int x = 0;
  for (int i = 0; i < n; ++i)
    x = main_inc(x);
  return x;
}

/* One call of main's function per call of this one: the import's target is
 * looked up on every call, not once before a loop. */
__attribute__((noinline)) int lib_wrap(int x) {
  return main_inc(x) + 1;
}
