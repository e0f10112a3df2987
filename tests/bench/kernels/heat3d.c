/* 3-D heat equation, 7-point stencil on an n x n x n grid (argv[1] = n),
 * alternating between two arrays: each step computes B from A, then A from
 * B. Scalar wasm (no -msimd128).
 * The boundary holds u = x^2 + y^2 - 2 z^2, harmonic, and so a fixed point
 * of the update. Check: starting from a zero interior, the max error against
 * it must have shrunk. */
#include "bench.h"
#include <math.h>

#define STEPS 30

static double exactAt(int i, int j, int k, int n) {
  double x = (double)i / n, y = (double)j / n, z = (double)k / n;
  return x * x + y * y - 2 * z * z;
}

static double maxError(int n, double (*a)[n][n]) {
  double m = 0;
  for (int i = 1; i < n - 1; i++)
    for (int j = 1; j < n - 1; j++)
      for (int k = 1; k < n - 1; k++) {
        double e = fabs(a[i][j][k] - exactAt(i, j, k, n));
        if (e > m) m = e;
      }
  return m;
}

static void step(int n, double (*out)[n][n], double (*in)[n][n]) {
  for (int i = 1; i < n - 1; i++)
    for (int j = 1; j < n - 1; j++)
      for (int k = 1; k < n - 1; k++)
        out[i][j][k] = 0.125 * (in[i + 1][j][k] - 2.0 * in[i][j][k] + in[i - 1][j][k]) +
                       0.125 * (in[i][j + 1][k] - 2.0 * in[i][j][k] + in[i][j - 1][k]) +
                       0.125 * (in[i][j][k + 1] - 2.0 * in[i][j][k] + in[i][j][k - 1]) +
                       in[i][j][k];
}

int main(int argc, char** argv) {
  int n = (int)benchSize(argc, argv, 160) + 2;
  double(*a)[n][n] = calloc((size_t)n * n * n, sizeof(double));
  double(*b)[n][n] = calloc((size_t)n * n * n, sizeof(double));
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      for (int k = 0; k < n; k++)
        if (i == 0 || j == 0 || k == 0 || i == n - 1 || j == n - 1 || k == n - 1)
          a[i][j][k] = b[i][j][k] = exactAt(i, j, k, n);
  double before = maxError(n, a);

  benchStart();
  for (int t = 0; t < STEPS; t++) {
    step(n, b, a);
    step(n, a, b);
  }
  benchStop();

  double after = maxError(n, a), sum = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      for (int k = 0; k < n; k++)
        sum += a[i][j][k];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, after < before && after > 0,
                     "error against the exact harmonic solution did not shrink");
}
