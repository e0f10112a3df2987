/* Symmetric rank-k and rank-2k updates of the lower triangle of an n x n
 * matrix with n x m factors (argv[1] = n, m = n * 3 / 4):
 *   C = beta C + alpha A A^T, then C = beta C + alpha (A B^T + B A^T),
 * in the i-k-j order whose inner loop runs along a row of C and a column
 * of the factors. Scalar wasm.
 * Check: 256 random lower-triangle entries recomputed from the factors. */
#include "bench.h"
#include <math.h>

#define ALPHA 1.5
#define BETA 1.2

int main(int argc, char** argv) {
  int n = (int)benchSize(argc, argv, 700), m = n * 3 / 4;
  double(*a)[m] = malloc(sizeof(double) * n * m);
  double(*b)[m] = malloc(sizeof(double) * n * m);
  double(*c)[n] = malloc(sizeof(double) * n * n);
  double(*c0)[n] = malloc(sizeof(double) * n * n);
  BenchRng rng = {5};
  for (int i = 0; i < n; i++)
    for (int k = 0; k < m; k++) {
      a[i][k] = benchUniform(&rng) * 2 - 1;
      b[i][k] = benchUniform(&rng) * 2 - 1;
    }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      c[i][j] = c0[i][j] = benchUniform(&rng);

  benchStart();
  for (int i = 0; i < n; i++) {
    for (int j = 0; j <= i; j++)
      c[i][j] *= BETA;
    for (int k = 0; k < m; k++)
      for (int j = 0; j <= i; j++)
        c[i][j] += ALPHA * a[i][k] * a[j][k];
  }
  for (int i = 0; i < n; i++) {
    for (int j = 0; j <= i; j++)
      c[i][j] *= BETA;
    for (int k = 0; k < m; k++)
      for (int j = 0; j <= i; j++)
        c[i][j] += a[j][k] * ALPHA * b[i][k] + b[j][k] * ALPHA * a[i][k];
  }
  benchStop();

  double maxErr = 0, sum = 0;
  for (int probe = 0; probe < 256; probe++) {
    int i = (int)(benchNext(&rng) % (uint64_t)n);
    int j = (int)(benchNext(&rng) % (uint64_t)(i + 1));
    double aa = 0, ab = 0;
    for (int k = 0; k < m; k++) {
      aa += a[i][k] * a[j][k];
      ab += a[i][k] * b[j][k] + b[i][k] * a[j][k];
    }
    double expected = BETA * (BETA * c0[i][j] + ALPHA * aa) + ALPHA * ab;
    maxErr = fmax(maxErr, fabs(expected - c[i][j]) / (fabs(expected) + 1));
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++)
      sum += c[i][j];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, maxErr < 1e-9, "lower-triangle entries differ from recomputation");
}
