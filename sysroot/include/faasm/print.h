// Faasm's printArray (faasm/cpp libfaasm's print.h). Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/print.h is C++"
#endif

#include <cstddef>
#include <cstdio>
#include <type_traits>

namespace faasm {

// Prints "[a, b, c]" (no newline): integers in decimal, floating point as
// %f. Faasm defined it for int, uint8_t and double; here for any number.
template <typename T> void printArray(T* data, size_t size) {
  static_assert(std::is_arithmetic_v<T>, "faasm::printArray prints numbers");
  std::printf("[");
  for (size_t i = 0; i < size; ++i) {
    if constexpr (std::is_floating_point_v<T>)
      std::printf("%f", double(data[i]));
    else if constexpr (std::is_signed_v<T>)
      std::printf("%lld", (long long)data[i]);
    else
      std::printf("%llu", (unsigned long long)data[i]);
    if (i + 1 < size) std::printf(", ");
  }
  std::printf("]");
}

} // namespace faasm
