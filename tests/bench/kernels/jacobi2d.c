/* 2D Jacobi stencil (5-point Laplace relaxation) on an n x n grid
 * (argv[1] = n), 300 sweeps. Built with -msimd128 for wasm.
 * The boundary holds u = x^2 - y^2, whose 5-point Laplacian is exactly zero,
 * so it is the discrete solution. Check: the max error against it, starting
 * from a zero interior, must have shrunk (Jacobi contracts it). */
#include "bench.h"
#include <math.h>

#define SWEEPS 300

static double exactAt(long i, long j, long n) {
  double x = (double)i / (double)n, y = (double)j / (double)n;
  return x * x - y * y;
}

static double maxError(const double* u, long n) {
  double m = 0;
  for (long i = 1; i < n - 1; i++)
    for (long j = 1; j < n - 1; j++) {
      double e = fabs(u[i * n + j] - exactAt(i, j, n));
      if (e > m) m = e;
    }
  return m;
}

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1024) + 2;
  double* u = calloc(n * n, sizeof(double));
  double* v = calloc(n * n, sizeof(double));
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++)
      if (i == 0 || j == 0 || i == n - 1 || j == n - 1)
        u[i * n + j] = v[i * n + j] = exactAt(i, j, n);
  double before = maxError(u, n);

  benchStart();
  for (int s = 0; s < SWEEPS; s++) {
    for (long i = 1; i < n - 1; i++) {
      const double* up = u + (i - 1) * n;
      const double* mid = u + i * n;
      const double* down = u + (i + 1) * n;
      double* out = v + i * n;
      for (long j = 1; j < n - 1; j++)
        out[j] = 0.25 * (up[j] + down[j] + mid[j - 1] + mid[j + 1]);
    }
    double* t = u;
    u = v;
    v = t;
  }
  benchStop();

  double after = maxError(u, n), sum = 0;
  for (long i = 0; i < n * n; i++)
    sum += u[i];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, after < before && after > 0,
                     "error against the exact harmonic solution did not shrink");
}
