// Faasm's C++ state helpers (faasm/cpp libfaasm's state.h). Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/state.h is C++ (faasm/faasm.h is the C API)"
#endif

#include "faasm/faasm.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

// Masks for faasmPushStatePartialMask: every bit of a byte, of a 32-bit word.
#define BIT_MASK_8 0b11111111
#define BIT_MASK_32 0b11111111111111111111111111111111

namespace faasm {

// Marks double number idx of a value in a mask made of unsigned ints (two
// per double), for faasmPushStatePartialMask.
inline void maskDouble(unsigned int* maskArray, unsigned long idx) {
  static_assert(sizeof(double) == 2 * sizeof(unsigned int));
  maskArray[2 * idx] |= BIT_MASK_32;
  maskArray[2 * idx + 1] |= BIT_MASK_32;
}

// Sets the value under key to stateLen zero bytes and pushes it.
inline void zeroState(const char* key, size_t stateLen) {
  uint8_t* zeros = static_cast<uint8_t*>(std::calloc(stateLen ? stateLen : 1, 1));
  if (!zeros) _faasmFail("faasm::zeroState", "no memory for the zeros");
  faasmWriteState(key, zeros, int32_t(stateLen));
  faasmPushState(key);
  std::free(zeros);
}

} // namespace faasm
