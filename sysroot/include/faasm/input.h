// Faasm's C++ helpers for a call's input and output (faasm/cpp libfaasm's
// input.h, and getTypedInput of 2020). Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/input.h is C++ (faasm/faasm.h is the C API)"
#endif

#include "faasm/faasm.h"

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace faasm {

// The input as a T (its first sizeof(T) bytes; the rest zero if it is
// shorter), or defaultValue if the input is empty.
template <typename T> T getTypedInput(T defaultValue) {
  if (faasmGetInputSize() == 0) return defaultValue;
  T value{};
  faasmGetInput(reinterpret_cast<uint8_t*>(&value), int32_t(sizeof(T)));
  return value;
}

// The input as a NUL-terminated string (a copy that lives until the call
// ends), or defaultValue if the input is empty.
inline const char* getStringInput(const char* defaultValue) {
  int32_t size = faasmGetInputSize();
  if (size <= 0) return defaultValue;
  char* text = new char[size_t(size) + 1];
  faasmGetInput(reinterpret_cast<uint8_t*>(text), size);
  text[size] = '\0';
  return text;
}

// Sets the call's output to the string's bytes (without its NUL).
inline void setStringOutput(const char* val) {
  faasmSetOutput(val, int32_t(std::strlen(val)));
}

// The input as a decimal integer, 0 if the input is empty. Input that is not
// an integer fails the call (one line on stderr, then a trap), as Faasm's
// std::stoi did by throwing.
inline int getIntInput() {
  const char* text = getStringInput("0");
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (end == text || errno == ERANGE || value < INT_MIN || value > INT_MAX)
    _faasmFail("faasm::getIntInput: the input is not an int", text);
  return int(value);
}

// The first `expected` space-separated decimal integers of inStr, in a new
// array of `expected` ints (those missing are 0). Text that is not an
// integer fails the call, as Faasm's std::stoi did by throwing.
inline int* parseStringToIntArray(const char* inStr, int expected) {
  int* out = new int[expected > 0 ? size_t(expected) : 1]();
  const char* at = inStr;
  for (int i = 0; i < expected; ++i) {
    while (*at == ' ')
      ++at;
    if (!*at) break;
    char* end = nullptr;
    errno = 0;
    long value = std::strtol(at, &end, 10);
    if (end == at || errno == ERANGE || value < INT_MIN || value > INT_MAX)
      _faasmFail("faasm::parseStringToIntArray: not an int", at);
    out[i] = int(value);
    at = end;
  }
  return out;
}

} // namespace faasm
