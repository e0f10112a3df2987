// What a host function may ask of the instance that called it.
//
// The host interface (WASI, the Faasm API) is written against this
// interface, never against the loader: the loader's runtime implements it,
// and VMContext::instance points at it for every instance the runtime makes.
// Host functions reach it with guestInstanceOf(vmctx).
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <string>

namespace faasm::host {

// A state value mapped into linear memory, or why not.
struct SharedMapping {
  uint64_t guestAddress = 0; // the first mapped byte (valid if error is empty)
  std::string error;         // one line, e.g. "memory cannot grow by 16 pages"
};

class GuestInstance {
public:
  // The per-instance state a host interface registered under `tag` (an
  // address the interface owns) when the instance was made, or null.
  virtual void* hostState(const void* tag) const = 0;

  // Grows memory 0 by ceil(length / 64 KiB) wasm pages and maps bytes
  // [fileOffset, fileOffset + those pages) of `fd` over the new pages,
  // shared with every other mapping of the object (no copy). The caller
  // guarantees the object is that long and fileOffset is page aligned. On
  // failure memory may have grown (the new pages stay zeroed and private).
  virtual SharedMapping mapSharedIntoMemory(int fd, uint64_t fileOffset, uint64_t length) = 0;

  // Abandons the guest call this host function serves, unwinding to the
  // runtime's entry frame with `code` (for TrapCode::Exit, the guest's exit
  // code). Called only by the host-call boundary (HostFunction.h), once the
  // host function's own frames are gone.
  [[noreturn]] virtual void raiseTrap(abi::TrapCode code, int32_t exitCode) = 0;

protected:
  ~GuestInstance() = default;
};

// The instance owning `vmctx`.
inline GuestInstance& guestInstanceOf(abi::VMContext* vmctx) {
  return *static_cast<GuestInstance*>(vmctx->instance);
}

} // namespace faasm::host
