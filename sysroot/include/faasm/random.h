// Faasm's random helpers (faasm/cpp libfaasm's random.h). Header only.
//
// The generator is seeded (from WASI's random_get) on its first use, never
// before: a generator seeded by a constructor would be seeded once, in the
// Proto-Faaslet, and every call forked from its snapshot would draw the same
// numbers.
#pragma once

#ifndef __cplusplus
#error "faasm/random.h is C++"
#endif

#include <algorithm>
#include <cstddef>
#include <random>
#include <string>

namespace faasm {

inline std::mt19937& randomEngine() {
  static std::mt19937 engine{std::random_device{}()};
  return engine;
}

// Uniform in [iStart, iEnd], both included.
inline int randomInteger(int iStart, int iEnd) {
  return std::uniform_int_distribution<int>(iStart, iEnd)(randomEngine());
}

// Uniform in [0, 1).
inline float randomFloat() {
  return std::uniform_real_distribution<float>(0, 1)(randomEngine());
}

inline void shuffleArray(int* arrayIn, size_t arrayLen) {
  std::shuffle(arrayIn, arrayIn + arrayLen, randomEngine());
}

// 0 .. rangeLen - 1 in a random order, in a new array.
inline int* randomIntRange(int rangeLen) {
  int* range = new int[rangeLen > 0 ? size_t(rangeLen) : 1];
  for (int i = 0; i < rangeLen; ++i)
    range[i] = i;
  shuffleArray(range, rangeLen > 0 ? size_t(rangeLen) : 0);
  return range;
}

// len characters drawn from 1-9, A-Z and a-z (Faasm's alphabet: no 0).
inline std::string randomString(int len) {
  static const char alphabet[] = "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::uniform_int_distribution<int> pick(0, int(sizeof alphabet) - 2);
  std::string out;
  for (int i = 0; i < len; ++i)
    out += alphabet[pick(randomEngine())];
  return out;
}

} // namespace faasm
