// Checked access to a guest's linear memory from host functions.
//
// Every guest (pointer, length) is validated against the *current* memory
// size in 64-bit arithmetic before the host touches a byte; a bad one throws
// Trap{HostPointerOutOfBounds} (HostFunction.h turns it into the trap).
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace faasm::host {

// True if [ptr, ptr + len) lies inside the memory of `vmctx`. No overflow:
// ptr and len are at most 2^64-1 each, and the sum is checked as such.
inline bool guestRangeValid(const abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  uint64_t size = vmctx->memorySize;
  return ptr <= size && len <= size - ptr;
}

// Host address of guest bytes [ptr, ptr + len), or a trap.
inline uint8_t* guestBytes(abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  if (!guestRangeValid(vmctx, ptr, len)) trap(abi::TrapCode::HostPointerOutOfBounds);
  return vmctx->memoryBase + ptr;
}

template <typename T> T guestLoad(abi::VMContext* vmctx, uint64_t ptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out;
  std::memcpy(&out, guestBytes(vmctx, ptr, sizeof(T)), sizeof(T));
  return out;
}

template <typename T> void guestStore(abi::VMContext* vmctx, uint64_t ptr, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  std::memcpy(guestBytes(vmctx, ptr, sizeof(T)), &value, sizeof(T));
}

} // namespace faasm::host
