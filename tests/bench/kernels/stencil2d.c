/* 2-D 5-point stencil on an n x n grid (argv[1] = n), alternating between
 * two arrays in each step (B from A, then A from B), int indices and
 * row-major 2-D arrays. Scalar wasm (no -msimd128); jacobi2d is the SIMD
 * variant with one sweep per step.
 * The boundary holds u = x^2 - y^2, whose 5-point average is exact, so it
 * is a fixed point. Check: from a zero interior, the max error against it
 * must have shrunk. */
#include "bench.h"
#include <math.h>

#define STEPS 200

static double exactAt(int i, int j, int n) {
  double x = (double)i / n, y = (double)j / n;
  return x * x - y * y;
}

static double maxError(int n, double (*a)[n]) {
  double m = 0;
  for (int i = 1; i < n - 1; i++)
    for (int j = 1; j < n - 1; j++) {
      double e = fabs(a[i][j] - exactAt(i, j, n));
      if (e > m) m = e;
    }
  return m;
}

int main(int argc, char** argv) {
  int n = (int)benchSize(argc, argv, 1000) + 2;
  double(*a)[n] = calloc((size_t)n * n, sizeof(double));
  double(*b)[n] = calloc((size_t)n * n, sizeof(double));
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      if (i == 0 || j == 0 || i == n - 1 || j == n - 1) a[i][j] = b[i][j] = exactAt(i, j, n);
  double before = maxError(n, a);

  benchStart();
  for (int t = 0; t < STEPS; t++) {
    for (int i = 1; i < n - 1; i++)
      for (int j = 1; j < n - 1; j++)
        b[i][j] = 0.2 * (a[i][j] + a[i][j - 1] + a[i][j + 1] + a[i + 1][j] + a[i - 1][j]);
    for (int i = 1; i < n - 1; i++)
      for (int j = 1; j < n - 1; j++)
        a[i][j] = 0.2 * (b[i][j] + b[i][j - 1] + b[i][j + 1] + b[i + 1][j] + b[i - 1][j]);
  }
  benchStop();

  double after = maxError(n, a), sum = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sum += a[i][j];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, after < before && after > 0,
                     "error against the exact harmonic solution did not shrink");
}
