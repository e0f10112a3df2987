/* The library side of calls.c. */
__attribute__((noinline)) int lib_inc(int x) {
  return x + 1;
}

int lib_loop(int (*volatile f)(int), int n) {
  int x = 0;
  for (int i = 0; i < n; ++i)
    x = f(x);
  return x;
}
