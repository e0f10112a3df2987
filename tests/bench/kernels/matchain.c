/* A chain of matrix products, G = (A B)(C D), n x n doubles (argv[1] = n),
 * each product in i-j-k order with the sum kept in the output element (the
 * textbook loop nest, unblocked). Scalar wasm.
 * Check: G x against A (B (C (D x))) for a random vector x (Freivalds). */
#include "bench.h"
#include <math.h>

static void product(int n, double (*out)[n], double (*x)[n], double (*y)[n]) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      out[i][j] = 0;
      for (int k = 0; k < n; k++)
        out[i][j] += x[i][k] * y[k][j];
    }
}

static void applyTo(int n, double (*m)[n], const double* v, double* out) {
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int j = 0; j < n; j++)
      s += m[i][j] * v[j];
    out[i] = s;
  }
}

int main(int argc, char** argv) {
  int n = (int)benchSize(argc, argv, 520);
  size_t bytes = (size_t)n * n * sizeof(double);
  double(*a)[n] = malloc(bytes);
  double(*b)[n] = malloc(bytes);
  double(*c)[n] = malloc(bytes);
  double(*d)[n] = malloc(bytes);
  double(*e)[n] = malloc(bytes);
  double(*f)[n] = malloc(bytes);
  double(*g)[n] = malloc(bytes);
  BenchRng rng = {11};
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      a[i][j] = benchUniform(&rng) * 2 - 1;
      b[i][j] = benchUniform(&rng) * 2 - 1;
      c[i][j] = benchUniform(&rng) * 2 - 1;
      d[i][j] = benchUniform(&rng) * 2 - 1;
    }

  benchStart();
  product(n, e, a, b);
  product(n, f, c, d);
  product(n, g, e, f);
  benchStop();

  double* x = malloc(sizeof(double) * n);
  double* u = malloc(sizeof(double) * n);
  double* v = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++)
    x[i] = benchUniform(&rng);
  applyTo(n, d, x, u);
  applyTo(n, c, u, v);
  applyTo(n, b, v, u);
  applyTo(n, a, u, v);
  applyTo(n, g, x, u);
  double maxErr = 0, scale = 0, sum = 0;
  for (int i = 0; i < n; i++) {
    maxErr = fmax(maxErr, fabs(u[i] - v[i]));
    scale = fmax(scale, fabs(v[i]));
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      sum += g[i][j];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", sum);
  return benchFinish(checksum, maxErr <= 1e-9 * (scale + 1),
                     "Freivalds check: (AB)(CD)x != A(B(C(Dx)))");
}
