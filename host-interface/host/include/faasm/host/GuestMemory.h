// Guest memory as host functions see it: the one place in the host interface
// that turns a guest address into a host address.
//
// ---------------------------------------------------------------------------
// SANDBOX-CRITICAL. Linear memory belongs to the guest, and its bytes can
// change at any moment, between two reads by the host included: another
// Faaslet may share a page of it (state mapped with faasmReadStatePtr), and
// a host read into guest memory may overwrite what the host reads next. In
// explicit bounds mode host memory (thread control block, TLS, libc) may lie
// just past a small linear memory, so one unchecked or re-read guest value
// is a read or write primitive on the host. The rules:
//
// 1. A guest *structure* (iovec and subscription arrays, paths, state keys,
//    function names: anything the host interprets) is copied into host
//    memory exactly once (guestLoad, guestLoadArray, guestLoadString,
//    guestLoadCString), and the host uses only the copy. Every copy is
//    bounded by a limit the caller gives, so a guest cannot make the host
//    allocate more than a small fixed amount.
// 2. *Payload* (the bytes a read or write moves, which the host never
//    interprets) may go through a GuestSpan: a range validated once, whose
//    bounds come from the host's copy of the structure, never from guest
//    memory again. Host results go in with guestStore/guestStoreBytes or
//    GuestSpan::write.
// 3. Every range is checked against the memory's current size in 64-bit
//    arithmetic before a byte is touched; a bad one throws
//    Trap{HostPointerOutOfBounds}. A checked range stays valid for the rest
//    of the host call: a memory never moves, and while its guest is in a
//    host call it never shrinks (it only grows, e.g. to map state).
//
// No other host-interface file names VMContext::memoryBase or memorySize;
// scripts/check-layout fails the build's layout test if one does.
// ---------------------------------------------------------------------------
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace faasm::host {

namespace detail {
// The host address of guest byte `ptr`; the caller has checked the range.
inline uint8_t* guestAddress(const abi::VMContext* vmctx, uint64_t ptr) {
  return vmctx->memoryBase + ptr;
}

// Copies guest bytes into host memory once. The compiler barrier after the
// copy forbids the compiler to read guest memory again in place of the copy
// (it must assume guest memory changed since), so every later use of `dst`
// sees the bytes read here, whatever the guest writes meanwhile.
inline void copyFromGuest(void* dst, const uint8_t* src, uint64_t n) {
  if (n) std::memcpy(dst, src, n);
  asm volatile("" ::: "memory");
}
} // namespace detail

// Bytes in the memory of `vmctx` now.
inline uint64_t guestMemorySize(const abi::VMContext* vmctx) {
  return vmctx->memorySize;
}

// True if [ptr, ptr + len) lies inside the memory of `vmctx`. No overflow:
// ptr and len are at most 2^64-1 each, and the sum is checked as such.
inline bool guestRangeValid(const abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  uint64_t size = vmctx->memorySize;
  return ptr <= size && len <= size - ptr;
}

// Traps HostPointerOutOfBounds unless [ptr, ptr + len) is inside memory.
inline void guestCheck(const abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  if (!guestRangeValid(vmctx, ptr, len)) trap(abi::TrapCode::HostPointerOutOfBounds);
}

// A checked range of guest memory for payload bytes (rule 2 above). Made
// only by guestSpan(); its bounds never change.
class GuestSpan {
public:
  GuestSpan() = default;
  // For system calls that move payload (readv, pread, getrandom, ...).
  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Copies host bytes to [offset, offset + n) of the span; a range outside
  // it is a host bug and traps HostError rather than touch other bytes.
  void write(uint64_t offset, const void* src, uint64_t n) const {
    if (offset > size_ || n > size_ - offset) trap(abi::TrapCode::HostError);
    if (n) std::memcpy(data_ + offset, src, n);
  }

private:
  friend GuestSpan guestSpan(abi::VMContext* vmctx, uint64_t ptr, uint64_t len);
  GuestSpan(uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// Guest bytes [ptr, ptr + len) as a span, or a trap.
inline GuestSpan guestSpan(abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  guestCheck(vmctx, ptr, len);
  return GuestSpan(detail::guestAddress(vmctx, ptr), len);
}

// One copy of the T at `ptr`, or a trap.
template <typename T> T guestLoad(const abi::VMContext* vmctx, uint64_t ptr) {
  static_assert(std::is_trivially_copyable_v<T>);
  guestCheck(vmctx, ptr, sizeof(T));
  T out;
  detail::copyFromGuest(&out, detail::guestAddress(vmctx, ptr), sizeof(T));
  return out;
}

// One copy of the array of `count` Ts at `ptr`, or a trap. The caller bounds
// `count` (the copy is host memory).
template <typename T>
std::vector<T> guestLoadArray(const abi::VMContext* vmctx, uint64_t ptr, uint64_t count) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (count > vmctx->memorySize / sizeof(T)) trap(abi::TrapCode::HostPointerOutOfBounds);
  guestCheck(vmctx, ptr, count * sizeof(T));
  std::vector<T> out(count);
  detail::copyFromGuest(out.data(), detail::guestAddress(vmctx, ptr), count * sizeof(T));
  return out;
}

// One copy of the `len` bytes at `ptr` (a path: not NUL-terminated), or a
// trap. The caller bounds `len`.
inline std::string guestLoadString(const abi::VMContext* vmctx, uint64_t ptr, uint64_t len) {
  guestCheck(vmctx, ptr, len);
  std::string out(len, '\0');
  detail::copyFromGuest(out.data(), detail::guestAddress(vmctx, ptr), len);
  return out;
}

// One copy of the NUL-terminated string at `ptr`, without the NUL. Traps
// HostPointerOutOfBounds if memory ends before a NUL; nullopt if there is no
// NUL within the first maxLen + 1 bytes (the string is longer than maxLen).
// Copies in pieces until the NUL, each byte once: the copy is the string.
inline std::optional<std::string> guestLoadCString(const abi::VMContext* vmctx, uint64_t ptr,
                                                   uint64_t maxLen) {
  constexpr uint64_t kPiece = 64;
  uint64_t size = vmctx->memorySize;
  if (ptr >= size) trap(abi::TrapCode::HostPointerOutOfBounds);
  uint64_t window = std::min(size - ptr, maxLen + 1);
  std::string out;
  for (uint64_t at = 0; at < window;) {
    uint64_t n = std::min(kPiece, window - at);
    size_t old = out.size();
    out.resize(old + n);
    detail::copyFromGuest(out.data() + old, detail::guestAddress(vmctx, ptr + at), n);
    size_t nul = out.find('\0', old);
    if (nul != std::string::npos) {
      out.resize(nul);
      return out;
    }
    at += n;
  }
  if (window <= maxLen) trap(abi::TrapCode::HostPointerOutOfBounds); // memory ended first
  return std::nullopt;
}

// Copies the array of `count` Ts at `ptr` into `out` (which holds `count`),
// once, or traps. For arrays a host function keeps on its own stack.
template <typename T>
void guestLoadArrayInto(const abi::VMContext* vmctx, uint64_t ptr, uint64_t count, T* out) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (count > vmctx->memorySize / sizeof(T)) trap(abi::TrapCode::HostPointerOutOfBounds);
  guestCheck(vmctx, ptr, count * sizeof(T));
  detail::copyFromGuest(out, detail::guestAddress(vmctx, ptr), count * sizeof(T));
}

// Stores `value` at `ptr`, or traps before writing anything.
template <typename T> void guestStore(abi::VMContext* vmctx, uint64_t ptr, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  guestCheck(vmctx, ptr, sizeof(T));
  std::memcpy(detail::guestAddress(vmctx, ptr), &value, sizeof(T));
}

// Stores `n` host bytes at `ptr`, or traps before writing anything.
inline void guestStoreBytes(abi::VMContext* vmctx, uint64_t ptr, const void* src, uint64_t n) {
  guestCheck(vmctx, ptr, n);
  if (n) std::memcpy(detail::guestAddress(vmctx, ptr), src, n);
}

// A value that tells memories apart for as long as they live (their base
// address), for host state kept per memory. Not an address to use.
inline const void* guestMemoryIdentity(const abi::VMContext* vmctx) {
  return vmctx->memoryBase;
}

} // namespace faasm::host
