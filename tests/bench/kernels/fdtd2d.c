/* 2-D finite-difference time domain: three fields ex, ey, hz on an
 * nx x ny grid (argv[1] = nx = ny), STEPS steps, each updating ey, then ex
 * from hz, then hz from both, with a source row fed into ey. Scalar wasm.
 * Check: the same steps computed again, one cell at a time with the loops
 * interchanged (each cell's formula and its inputs are the same, so the
 * result must be identical bit for bit). */
#include "bench.h"
#include <string.h>

#define STEPS 120

static void reference(int n, double (*ex)[n], double (*ey)[n], double (*hz)[n],
                      const double* source) {
  for (int t = 0; t < STEPS; t++) {
    for (int j = 0; j < n; j++)
      ey[0][j] = source[t];
    for (int j = 0; j < n; j++)
      for (int i = 1; i < n; i++)
        ey[i][j] = ey[i][j] - 0.5 * (hz[i][j] - hz[i - 1][j]);
    for (int j = 1; j < n; j++)
      for (int i = 0; i < n; i++)
        ex[i][j] = ex[i][j] - 0.5 * (hz[i][j] - hz[i][j - 1]);
    for (int j = 0; j < n - 1; j++)
      for (int i = 0; i < n - 1; i++)
        hz[i][j] = hz[i][j] - 0.7 * (ex[i][j + 1] - ex[i][j] + ey[i + 1][j] - ey[i][j]);
  }
}

int main(int argc, char** argv) {
  int n = (int)benchSize(argc, argv, 1000);
  size_t bytes = (size_t)n * n * sizeof(double);
  double(*ex)[n] = malloc(bytes);
  double(*ey)[n] = malloc(bytes);
  double(*hz)[n] = malloc(bytes);
  double* source = malloc(sizeof(double) * STEPS);
  BenchRng rng = {7};
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      ex[i][j] = benchUniform(&rng);
      ey[i][j] = benchUniform(&rng);
      hz[i][j] = benchUniform(&rng);
    }
  for (int t = 0; t < STEPS; t++)
    source[t] = t;
  double(*rex)[n] = malloc(bytes);
  double(*rey)[n] = malloc(bytes);
  double(*rhz)[n] = malloc(bytes);
  memcpy(rex, ex, bytes);
  memcpy(rey, ey, bytes);
  memcpy(rhz, hz, bytes);

  benchStart();
  for (int t = 0; t < STEPS; t++) {
    for (int j = 0; j < n; j++)
      ey[0][j] = source[t];
    for (int i = 1; i < n; i++)
      for (int j = 0; j < n; j++)
        ey[i][j] = ey[i][j] - 0.5 * (hz[i][j] - hz[i - 1][j]);
    for (int i = 0; i < n; i++)
      for (int j = 1; j < n; j++)
        ex[i][j] = ex[i][j] - 0.5 * (hz[i][j] - hz[i][j - 1]);
    for (int i = 0; i < n - 1; i++)
      for (int j = 0; j < n - 1; j++)
        hz[i][j] = hz[i][j] - 0.7 * (ex[i][j + 1] - ex[i][j] + ey[i + 1][j] - ey[i][j]);
  }
  benchStop();

  reference(n, rex, rey, rhz, source);
  int same =
      memcmp(ex, rex, bytes) == 0 && memcmp(ey, rey, bytes) == 0 && memcmp(hz, rhz, bytes) == 0;
  double sum = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sum += hz[i][j];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, same, "fields differ from the cell-by-cell recomputation");
}
