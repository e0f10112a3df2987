/* Dense matrix multiply, C = A * B, double precision, n x n (argv[1] = n),
 * cache-blocked i-k-j loops. Check: Freivalds' test, A (B x) against C x for
 * a random vector x. */
#include "bench.h"
#include <math.h>

#define BLOCK 64

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1088);
  double* a = malloc(sizeof(double) * n * n);
  double* b = malloc(sizeof(double) * n * n);
  double* c = calloc(n * n, sizeof(double));
  BenchRng rng = {42};
  for (long i = 0; i < n * n; i++)
    a[i] = benchUniform(&rng) * 2 - 1;
  for (long i = 0; i < n * n; i++)
    b[i] = benchUniform(&rng) * 2 - 1;

  benchStart();
  for (long ii = 0; ii < n; ii += BLOCK)
    for (long kk = 0; kk < n; kk += BLOCK)
      for (long jj = 0; jj < n; jj += BLOCK) {
        long iEnd = ii + BLOCK < n ? ii + BLOCK : n;
        long kEnd = kk + BLOCK < n ? kk + BLOCK : n;
        long jEnd = jj + BLOCK < n ? jj + BLOCK : n;
        for (long i = ii; i < iEnd; i++)
          for (long k = kk; k < kEnd; k++) {
            double aik = a[i * n + k];
            double* cRow = c + i * n;
            const double* bRow = b + k * n;
            for (long j = jj; j < jEnd; j++)
              cRow[j] += aik * bRow[j];
          }
      }
  benchStop();

  double* x = malloc(sizeof(double) * n);
  double* y = malloc(sizeof(double) * n);
  for (long i = 0; i < n; i++)
    x[i] = benchUniform(&rng);
  for (long i = 0; i < n; i++) {
    double s = 0;
    for (long j = 0; j < n; j++)
      s += b[i * n + j] * x[j];
    y[i] = s;
  }
  double maxErr = 0, sum = 0;
  for (long i = 0; i < n; i++) {
    double abx = 0, cx = 0;
    for (long j = 0; j < n; j++)
      abx += a[i * n + j] * y[j], cx += c[i * n + j] * x[j];
    double err = fabs(abx - cx);
    if (err > maxErr) maxErr = err;
  }
  for (long i = 0; i < n * n; i++)
    sum += c[i];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, maxErr < 1e-9 * n, "Freivalds check: A(Bx) != Cx");
}
