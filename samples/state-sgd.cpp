// HOGWILD!-style SGD (Recht et al., 2011): several Faaslets train one linear
// model at once, each updating the shared weights in place, without locks,
// through a pointer from faasmReadStatePtr. The weights are a state value
// mapped into every worker's linear memory, so an update by one worker is
// seen by the others at once, with no copy and no push.
//
//   state-sgd <key> init                         zero weights
//   state-sgd <key> train <worker> <workers> <epochs>
//   state-sgd <key> loss                         prints the mean squared error
// The data set is synthetic and the same in every worker: y = w* . x + noise.
#include <faasm/faasm.h>

#include <Eigen/Dense>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kFeatures = 32;
constexpr int kSamples = 2048;
constexpr float kLearningRate = 0.01f;

using Vector = Eigen::Matrix<float, kFeatures, 1>;

// Deterministic value in [-1, 1) from (i, j).
float uniform(uint32_t i, uint32_t j) {
  uint32_t h = i * 2654435761u ^ (j + 0x9E3779B9u) * 2246822519u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  return float(h & 0xFFFFFF) / float(0x800000) - 1.0f;
}

Vector features(int sample) {
  Vector x;
  for (int j = 0; j < kFeatures; ++j)
    x[j] = uniform(uint32_t(sample), uint32_t(j));
  return x;
}

Vector trueWeights() {
  Vector w;
  for (int j = 0; j < kFeatures; ++j)
    w[j] = uniform(1000003u, uint32_t(j)) * 2.0f;
  return w;
}

float label(int sample, const Vector& wTrue) {
  return wTrue.dot(features(sample)) + 0.01f * uniform(uint32_t(sample), 777u);
}

Eigen::Map<Vector> sharedWeights(const char* key) {
  auto* p = reinterpret_cast<float*>(faasmReadStatePtr(key, kFeatures * sizeof(float)));
  return Eigen::Map<Vector>(p);
}

float loss(const Vector& w) {
  Vector wTrue = trueWeights();
  float sum = 0;
  for (int i = 0; i < kSamples; ++i) {
    float e = w.dot(features(i)) - label(i, wTrue);
    sum += e * e;
  }
  return sum / kSamples;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const char* key = argv[1];
  if (std::strcmp(argv[2], "init") == 0) {
    Vector zero = Vector::Zero();
    faasmWriteState(key, reinterpret_cast<const uint8_t*>(zero.data()), kFeatures * sizeof(float));
    return 0;
  }
  if (std::strcmp(argv[2], "loss") == 0) {
    Vector w = sharedWeights(key);
    std::printf("%.6f\n", double(loss(w)));
    return 0;
  }
  if (std::strcmp(argv[2], "train") != 0 || argc < 6) return 2;
  int worker = std::atoi(argv[3]), workers = std::atoi(argv[4]), epochs = std::atoi(argv[5]);
  if (workers < 1 || worker < 0 || worker >= workers) return 2;
  Eigen::Map<Vector> w = sharedWeights(key);
  Vector wTrue = trueWeights();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    for (int i = worker; i < kSamples; i += workers) {
      Vector x = features(i);
      float error = w.dot(x) - label(i, wTrue);
      w -= kLearningRate * error * x; // in place, in the shared pages: HOGWILD
    }
  }
  std::printf("worker %d: local loss %.6f\n", worker, double(loss(w)));
  return 0;
}
