/* Mandelbrot set escape counts on an n x n grid (argv[1] = n) over
 * [-2, 1] x [-1.5, 1.5], at most 500 iterations, in double precision.
 * Built with -msimd128 for wasm. Check: the grid's rows are placed
 * symmetrically about the real axis so that row k and row n-1-k have exactly
 * negated imaginary parts, and the set is symmetric under conjugation (exactly
 * so in floating point), so their counts must be equal; c = 0 never escapes. */
#include "bench.h"
#include <string.h>

#define MAX_ITER 500

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1104) & ~1L;
  uint16_t* counts = malloc(sizeof(uint16_t) * n * n);
  double step = 3.0 / (double)n;

  benchStart();
  for (long row = 0; row < n; row++) {
    double ci = ((double)row + 0.5 - (double)(n / 2)) * step;
    for (long col = 0; col < n; col++) {
      double cr = -2.0 + (double)col * step;
      double zr = 0, zi = 0;
      int k = 0;
      while (k < MAX_ITER && zr * zr + zi * zi <= 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        k++;
      }
      counts[row * n + col] = (uint16_t)k;
    }
  }
  benchStop();

  int ok = 1;
  uint64_t total = 0, weighted = 0;
  for (long row = 0; row < n; row++) {
    if (memcmp(counts + row * n, counts + (n - 1 - row) * n, sizeof(uint16_t) * n) != 0) ok = 0;
    for (long col = 0; col < n; col++)
      total += counts[row * n + col], weighted += counts[row * n + col] * (uint64_t)(col + 1);
  }
  /* Column 2n/3 is cr = 0; the rows nearest the axis have |ci| = step/2. */
  if (counts[(n / 2) * n + (2 * n) / 3] != MAX_ITER && (2 * n) % 3 == 0) ok = 0;
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%llu/%llu", (unsigned long long)total,
           (unsigned long long)weighted);
  return benchFinish(checksum, ok, "escape counts are not symmetric about the real axis");
}
