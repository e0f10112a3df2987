// Faasm's compareArrays (faasm/cpp libfaasm's compare.h). Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/compare.h is C++"
#endif

#include "faasm/print.h"

#include <cstdio>

namespace faasm {

// True if the first len elements of a and b are equal; else prints both
// ("Arrays not equal: A=[...] B=[...]") and returns false.
template <typename T> bool compareArrays(T* a, T* b, int len) {
  for (int i = 0; i < len; ++i) {
    if (a[i] == b[i]) continue;
    std::printf("Arrays not equal: A=");
    printArray<T>(a, size_t(len));
    std::printf(" B=");
    printArray<T>(b, size_t(len));
    std::printf("\n");
    return false;
  }
  return true;
}

} // namespace faasm
