// Faasm's AsyncArray (faasm/cpp libfaasm's array.h): an array of T kept in
// state under a key, mapped into linear memory, whose elements are marked
// dirty as they are reached so that push() sends only those. Header only.
#pragma once

#ifndef __cplusplus
#error "faasm/array.h is C++ (faasm/faasm.h is the C API)"
#endif

#include "faasm/faasm.h"
#include "faasm/state.h"

#include <cstddef>
#include <cstdint>

namespace faasm {

template <typename T> class AsyncArray {
public:
  AsyncArray(const char* keyIn, size_t nElemsIn)
      : key(keyIn), nElems(nElemsIn), bytesSize(nElemsIn * sizeof(T)), contents(nullptr) {}

  // Zeroes the value (and pushes it), then maps it.
  void zero() {
    faasm::zeroState(key, bytesSize);
    pullLazy();
  }

  // Element idx, marked dirty: any element reached may be written.
  T& operator[](int idx) {
    faasmFlagStateOffsetDirty(key, int32_t(bytesSize), int32_t(size_t(idx) * sizeof(T)),
                              int32_t(sizeof(T)));
    return contents[idx];
  }

  // Maps the value without pulling it first.
  void pullLazy() { contents = reinterpret_cast<T*>(faasmReadStatePtr(key, int32_t(bytesSize))); }

  // Pulls the value, then maps it.
  void pull() {
    faasmPullState(key, int32_t(bytesSize));
    pullLazy();
  }

  // Sends the elements marked dirty.
  void push() { faasmPushStatePartial(key); }

  T* data() { return contents; }

private:
  const char* key;
  size_t nElems;
  size_t bytesSize;
  T* contents;
};

} // namespace faasm
