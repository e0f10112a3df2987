/* Batched matrix-vector products (a multiresolution kernel): every row
 * a[r][q][*] of an r x q x p tensor is replaced by its product with a p x p
 * matrix c4 (argv[1] = p; r = q = p / 2), through a scratch vector.
 * Scalar wasm.
 * The timing is the sum over PASSES passes, each on a fresh copy.
 * Check: 128 random rows recomputed from a saved copy of the input. */
#include "bench.h"
#include <math.h>
#include <string.h>

#define PASSES 4

int main(int argc, char** argv) {
  int np = (int)benchSize(argc, argv, 128), nr = np / 2, nq = np / 2;
  size_t bytes = sizeof(double) * (size_t)nr * nq * np;
  double(*a)[nq][np] = malloc(bytes);
  double(*in)[nq][np] = malloc(bytes);
  double(*c4)[np] = malloc(sizeof(double) * np * np);
  double* sum = malloc(sizeof(double) * np);
  BenchRng rng = {3};
  for (int r = 0; r < nr; r++)
    for (int q = 0; q < nq; q++)
      for (int p = 0; p < np; p++)
        a[r][q][p] = benchUniform(&rng) * 2 - 1;
  for (int s = 0; s < np; s++)
    for (int p = 0; p < np; p++)
      c4[s][p] = (benchUniform(&rng) * 2 - 1) / np;

  double maxErr = 0, cpu = 0, wall = 0;
  for (int pass = 0; pass < PASSES; pass++) {
    memcpy(in, a, bytes);
    benchStart();
    for (int r = 0; r < nr; r++)
      for (int q = 0; q < nq; q++) {
        for (int p = 0; p < np; p++) {
          sum[p] = 0;
          for (int s = 0; s < np; s++)
            sum[p] += a[r][q][s] * c4[s][p];
        }
        for (int p = 0; p < np; p++)
          a[r][q][p] = sum[p];
      }
    benchStop();
    cpu += benchCpuSeconds;
    wall += benchWallSeconds;
    for (int probe = 0; probe < 128 / PASSES; probe++) {
      int r = (int)(benchNext(&rng) % (uint64_t)nr), q = (int)(benchNext(&rng) % (uint64_t)nq);
      for (int p = 0; p < np; p++) {
        double s = 0;
        for (int k = 0; k < np; k++)
          s += in[r][q][k] * c4[k][p];
        maxErr = fmax(maxErr, fabs(s - a[r][q][p]));
      }
    }
  }
  benchCpuSeconds = cpu;
  benchWallSeconds = wall;
  double total = 0;
  for (int r = 0; r < nr; r++)
    for (int q = 0; q < nq; q++)
      for (int p = 0; p < np; p++)
        total += a[r][q][p];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", total);
  return benchFinish(checksum, maxErr < 1e-12, "rows differ from their recomputation");
}
