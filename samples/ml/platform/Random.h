// Deterministic pseudo-random numbers, the same bits on every platform: the
// data set, the model weights and the test images are made from these.
#pragma once

#include <cmath>
#include <cstdint>

namespace ml {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// SplitMix64 (Steele, Lea and Flood).
class Rng {
public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() { return mix64(state_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, 1), 53 bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), n > 0 (multiply-shift; the bias is below 2^-32 for n < 2^32).
  uint32_t below(uint32_t n) { return uint32_t(((next() >> 32) * uint64_t(n)) >> 32); }
  // Standard normal (Box-Muller). Uses libm: native tools only where bits matter.
  double normal() {
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
  }
  // Approximately normal from 12 uniforms (Irwin-Hall), exact in every libc:
  // for weights that both builds make themselves.
  float normalPortable() {
    double s = 0;
    for (int i = 0; i < 12; ++i)
      s += uniform();
    return float(s - 6.0);
  }

private:
  uint64_t state_;
};

} // namespace ml
