/* LU factorisation with partial pivoting of a dense n x n system
 * (argv[1] = n), then forward and back substitution. Check: b = A x for a
 * known x; the solution must match it. */
#include "bench.h"
#include <math.h>

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1152);
  double* a = malloc(sizeof(double) * n * n);
  double* rhs = calloc(n, sizeof(double));
  double* xKnown = malloc(sizeof(double) * n);
  long* perm = malloc(sizeof(long) * n);
  BenchRng rng = {7};
  for (long i = 0; i < n * n; i++)
    a[i] = benchUniform(&rng) * 2 - 1;
  for (long i = 0; i < n; i++)
    xKnown[i] = 1.0 + (double)(i % 10) * 0.1;
  for (long i = 0; i < n; i++)
    for (long j = 0; j < n; j++)
      rhs[i] += a[i * n + j] * xKnown[j];

  benchStart();
  for (long i = 0; i < n; i++)
    perm[i] = i;
  for (long k = 0; k < n; k++) {
    long pivot = k;
    double best = fabs(a[k * n + k]);
    for (long i = k + 1; i < n; i++)
      if (fabs(a[i * n + k]) > best) best = fabs(a[i * n + k]), pivot = i;
    if (pivot != k) {
      for (long j = 0; j < n; j++) {
        double t = a[k * n + j];
        a[k * n + j] = a[pivot * n + j];
        a[pivot * n + j] = t;
      }
      long t = perm[k];
      perm[k] = perm[pivot];
      perm[pivot] = t;
    }
    double inv = 1.0 / a[k * n + k];
    for (long i = k + 1; i < n; i++) {
      double l = a[i * n + k] * inv;
      a[i * n + k] = l;
      double* row = a + i * n;
      const double* pivotRow = a + k * n;
      for (long j = k + 1; j < n; j++)
        row[j] -= l * pivotRow[j];
    }
  }
  double* x = malloc(sizeof(double) * n);
  for (long i = 0; i < n; i++) {
    double s = rhs[perm[i]];
    for (long j = 0; j < i; j++)
      s -= a[i * n + j] * x[j];
    x[i] = s;
  }
  for (long i = n - 1; i >= 0; i--) {
    double s = x[i];
    for (long j = i + 1; j < n; j++)
      s -= a[i * n + j] * x[j];
    x[i] = s / a[i * n + i];
  }
  benchStop();

  double maxErr = 0, sum = 0;
  for (long i = 0; i < n; i++) {
    double err = fabs(x[i] - xKnown[i]);
    if (err > maxErr) maxErr = err;
    sum += x[i];
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, maxErr < 1e-6, "solution of LU x = b differs from the known x");
}
