/* Sparse logistic-regression SGD (the Hogwild-style update of Faasm's
 * SGD experiment, on one thread): 100,000 features, samples with 24 non-zero
 * features in CSR form, labels from a hidden weight vector; argv[1] epochs
 * over 50,000 samples. The sigmoid is the rational x/(1+|x|) form, so no
 * libm. Check: training accuracy must reach 85% (a broken update stays near
 * 50%) and the loss proxy must fall. */
#include "bench.h"

#define FEATURES 100000
#define SAMPLES 50000
#define NONZEROS 24

static inline float squash(float z) {
  return 0.5f + 0.5f * z / (1.0f + (z < 0 ? -z : z));
}

static long correctCount(const float* w, const uint32_t* cols, const float* vals,
                         const float* labels) {
  long correct = 0;
  for (long s = 0; s < SAMPLES; s++) {
    float z = 0;
    for (int k = 0; k < NONZEROS; k++)
      z += w[cols[s * NONZEROS + k]] * vals[s * NONZEROS + k];
    correct += (z > 0) == (labels[s] > 0.5f);
  }
  return correct;
}

int main(int argc, char** argv) {
  long epochs = benchSize(argc, argv, 110);
  float* hidden = malloc(sizeof(float) * FEATURES);
  float* w = calloc(FEATURES, sizeof(float));
  uint32_t* cols = malloc(sizeof(uint32_t) * SAMPLES * NONZEROS);
  float* vals = malloc(sizeof(float) * SAMPLES * NONZEROS);
  float* labels = malloc(sizeof(float) * SAMPLES);
  BenchRng rng = {31337};
  for (long f = 0; f < FEATURES; f++)
    hidden[f] = (float)(benchUniform(&rng) * 2 - 1);
  for (long s = 0; s < SAMPLES; s++) {
    float z = 0;
    for (int k = 0; k < NONZEROS; k++) {
      /* Skewed feature popularity, as in real sparse data. */
      double u = benchUniform(&rng);
      uint32_t col = (uint32_t)(u * u * FEATURES);
      float val = (float)benchUniform(&rng);
      cols[s * NONZEROS + k] = col;
      vals[s * NONZEROS + k] = val;
      z += hidden[col] * val;
    }
    labels[s] = z > 0 ? 1.0f : 0.0f;
  }
  long before = correctCount(w, cols, vals, labels);

  double lossFirst = 0, lossLast = 0;
  benchStart();
  for (long e = 0; e < epochs; e++) {
    float rate = 0.5f / (1.0f + 0.1f * (float)e);
    double loss = 0;
    for (long s = 0; s < SAMPLES; s++) {
      const uint32_t* c = cols + s * NONZEROS;
      const float* v = vals + s * NONZEROS;
      float z = 0;
      for (int k = 0; k < NONZEROS; k++)
        z += w[c[k]] * v[k];
      float err = squash(z) - labels[s];
      loss += (double)(err * err);
      float g = rate * err;
      for (int k = 0; k < NONZEROS; k++)
        w[c[k]] -= g * v[k];
    }
    if (e == 0) lossFirst = loss;
    lossLast = loss;
  }
  benchStop();

  long after = correctCount(w, cols, vals, labels);
  double norm = 0;
  for (long f = 0; f < FEATURES; f++)
    norm += (double)w[f] * w[f];
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%ld/%.6e", after, norm);
  int ok = after > SAMPLES * 85 / 100 && after > before && (epochs < 2 || lossLast < lossFirst);
  return benchFinish(checksum, ok, "SGD did not learn the labels");
}
