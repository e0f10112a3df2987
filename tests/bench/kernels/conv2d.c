/* 2D convolution layer as in a CNN: 16 input channels of n x n
 * (argv[1] = n), 32 output channels, 3x3 kernels, valid padding, float, then
 * bias and ReLU into a second buffer. Built with -msimd128 for wasm.
 * Check: before ReLU, the sum of each output channel equals
 * sum over (ci, ky, kx) of w * (sum of the input window shifted by ky, kx),
 * computed independently from 2D prefix sums in double precision. */
#include "bench.h"
#include <math.h>

#define CIN 16
#define COUT 32
#define K 3

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 160);
  long m = n - K + 1;
  float* in = malloc(sizeof(float) * CIN * n * n);
  float* w = malloc(sizeof(float) * COUT * CIN * K * K);
  float* bias = malloc(sizeof(float) * COUT);
  float* out = malloc(sizeof(float) * COUT * m * m);
  float* act = malloc(sizeof(float) * COUT * m * m);
  BenchRng rng = {8};
  for (long i = 0; i < CIN * n * n; i++)
    in[i] = (float)benchUniform(&rng);
  for (long i = 0; i < COUT * CIN * K * K; i++)
    w[i] = (float)(benchUniform(&rng) - 0.5);
  for (long i = 0; i < COUT; i++)
    bias[i] = (float)(benchUniform(&rng) - 0.5);

  benchStart();
  for (int rep = 0; rep < 12; rep++) {
    for (long co = 0; co < COUT; co++) {
      float* o = out + co * m * m;
      for (long i = 0; i < m * m; i++)
        o[i] = 0;
      for (long ci = 0; ci < CIN; ci++)
        for (int ky = 0; ky < K; ky++)
          for (int kx = 0; kx < K; kx++) {
            float wv = w[((co * CIN + ci) * K + ky) * K + kx];
            const float* src = in + ci * n * n + ky * n + kx;
            for (long y = 0; y < m; y++) {
              float* orow = o + y * m;
              const float* srow = src + y * n;
              for (long x = 0; x < m; x++)
                orow[x] += wv * srow[x];
            }
          }
      float* a = act + co * m * m;
      for (long i = 0; i < m * m; i++) {
        float v = o[i] + bias[co];
        a[i] = v > 0 ? v : 0;
      }
    }
  }
  benchStop();

  /* prefix[ci][y][x] = sum of in[ci][0..y)[0..x) */
  double* prefix = calloc((size_t)CIN * (n + 1) * (n + 1), sizeof(double));
  for (long ci = 0; ci < CIN; ci++) {
    double* p = prefix + ci * (n + 1) * (n + 1);
    for (long y = 0; y < n; y++)
      for (long x = 0; x < n; x++)
        p[(y + 1) * (n + 1) + x + 1] = in[ci * n * n + y * n + x] + p[y * (n + 1) + x + 1] +
                                       p[(y + 1) * (n + 1) + x] - p[y * (n + 1) + x];
  }
  int ok = 1;
  double total = 0;
  for (long co = 0; co < COUT; co++) {
    double expected = 0, got = 0, magnitude = 0;
    for (long ci = 0; ci < CIN; ci++) {
      const double* p = prefix + ci * (n + 1) * (n + 1);
      for (int ky = 0; ky < K; ky++)
        for (int kx = 0; kx < K; kx++) {
          long y0 = ky, x0 = kx, y1 = ky + m, x1 = kx + m;
          double window = p[y1 * (n + 1) + x1] - p[y0 * (n + 1) + x1] - p[y1 * (n + 1) + x0] +
                          p[y0 * (n + 1) + x0];
          double wv = w[((co * CIN + ci) * K + ky) * K + kx];
          expected += wv * window;
          magnitude += fabs(wv) * window;
        }
    }
    for (long i = 0; i < m * m; i++)
      got += out[co * m * m + i], total += act[co * m * m + i];
    if (fabs(got - expected) > 1e-4 * magnitude) ok = 0;
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%.6e", total);
  return benchFinish(checksum, ok, "convolution output sums differ from the prefix-sum check");
}
