// A small MLP forward pass with Eigen (inference of a 256-512-512-10 ReLU
// network, float), over argv[1] batches of 64 inputs. Built with -msimd128
// for wasm. Check: for every batch, a few columns are recomputed with plain
// loops in double precision and must agree to 1e-3 relative; the checksum is
// the histogram of predicted classes (robust to summation order).
#include "bench.h"

#include <Eigen/Dense>
#include <cmath>

namespace {
constexpr int kIn = 256, kHidden = 512, kOut = 10, kBatch = 64;

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<float, Eigen::Dynamic, 1>;

Matrix randomMatrix(BenchRng& rng, int rows, int cols, float scale) {
  Matrix m(rows, cols);
  for (int j = 0; j < cols; j++)
    for (int i = 0; i < rows; i++)
      m(i, j) = static_cast<float>(benchUniform(&rng) * 2 - 1) * scale;
  return m;
}

// The network for one input column, with plain loops in double precision.
void referenceForward(const Matrix& w1, const Vector& b1, const Matrix& w2, const Vector& b2,
                      const Matrix& w3, const Vector& b3, const float* x, double* out) {
  double h1[kHidden], h2[kHidden];
  for (int i = 0; i < kHidden; i++) {
    double s = b1(i);
    for (int k = 0; k < kIn; k++)
      s += static_cast<double>(w1(i, k)) * x[k];
    h1[i] = s > 0 ? s : 0;
  }
  for (int i = 0; i < kHidden; i++) {
    double s = b2(i);
    for (int k = 0; k < kHidden; k++)
      s += static_cast<double>(w2(i, k)) * h1[k];
    h2[i] = s > 0 ? s : 0;
  }
  for (int i = 0; i < kOut; i++) {
    double s = b3(i);
    for (int k = 0; k < kHidden; k++)
      s += static_cast<double>(w3(i, k)) * h2[k];
    out[i] = s;
  }
}
} // namespace

int main(int argc, char** argv) {
  long batches = benchSize(argc, argv, 160);
  BenchRng rng = {4242};
  Matrix w1 = randomMatrix(rng, kHidden, kIn, 0.0625f);
  Matrix w2 = randomMatrix(rng, kHidden, kHidden, 0.0442f);
  Matrix w3 = randomMatrix(rng, kOut, kHidden, 0.0442f);
  Vector b1 = randomMatrix(rng, kHidden, 1, 0.1f);
  Vector b2 = randomMatrix(rng, kHidden, 1, 0.1f);
  Vector b3 = randomMatrix(rng, kOut, 1, 0.1f);
  Matrix inputs = randomMatrix(rng, kIn, kBatch * 4, 1.0f);

  long histogram[kOut] = {0};
  bool ok = true;
  double worst = 0;
  double computeSeconds = 0, wallSeconds = 0;
  Matrix h1(kHidden, kBatch), h2(kHidden, kBatch), out(kOut, kBatch);
  for (long b = 0; b < batches; b++) {
    // Each batch perturbs its inputs so no two batches are alike.
    Matrix x = inputs.middleCols((b % 4) * kBatch, kBatch);
    x.array() += static_cast<float>(b) * 1e-3f;

    benchStart();
    h1.noalias() = w1 * x;
    h1 = (h1.colwise() + b1).cwiseMax(0.0f);
    h2.noalias() = w2 * h1;
    h2 = (h2.colwise() + b2).cwiseMax(0.0f);
    out.noalias() = w3 * h2;
    out.colwise() += b3;
    benchStop();
    computeSeconds += benchCpuSeconds;
    wallSeconds += benchWallSeconds;

    for (int j = 0; j < kBatch; j++) {
      Eigen::Index best;
      out.col(j).maxCoeff(&best);
      histogram[best]++;
    }
    for (int j = 0; j < kBatch; j += 21) {
      double reference[kOut];
      referenceForward(w1, b1, w2, b2, w3, b3, x.col(j).data(), reference);
      for (int i = 0; i < kOut; i++) {
        double err = std::fabs(reference[i] - out(i, j)) / (1.0 + std::fabs(reference[i]));
        if (err > worst) worst = err;
      }
    }
  }
  benchCpuSeconds = computeSeconds;
  benchWallSeconds = wallSeconds;
  if (worst > 1e-3) ok = false;

  char checksum[160];
  int at = 0;
  for (int i = 0; i < kOut; i++)
    at += snprintf(checksum + at, sizeof checksum - at, i ? ",%ld" : "%ld", histogram[i]);
  return benchFinish(checksum, ok, "Eigen forward pass differs from the plain-loop reference");
}
