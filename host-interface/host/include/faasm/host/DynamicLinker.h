// What the dynamic-loading host functions (faasm/dl) need of the runtime:
// linking a wasm side module into the instance that calls them.
//
// The host interface owns this interface and the loader implements it
// (runtime::DynamicLinker), as with GuestInstance: host functions never
// include loader headers. The embedder hands an implementation to an
// instance as host state (dl::dlHostState).
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <string>

namespace faasm::host {

// A handle, symbol value or nothing, and why not: `error` is empty on
// success, else one line naming the library and the problem.
struct LinkResult {
  uint32_t value = 0;
  std::string error;
};

class DynamicLinker {
public:
  // Links the library whose artefact is open as host descriptor `fd` (the
  // caller opened it for the guest through WASI; `name` is the path the
  // guest gave, for messages) into the instance of `caller`: a handle > 0.
  virtual LinkResult open(abi::VMContext* caller, int fd, const std::string& name) = 0;
  // A symbol of library `handle`, or of the main module and then every open
  // library in load order for handle 0 (RTLD_DEFAULT): a function's table
  // index (its function pointer) or a data symbol's address.
  virtual LinkResult symbol(abi::VMContext* caller, uint32_t handle, const std::string& name) = 0;
  // Drops one reference to `handle`; an empty string or the error.
  virtual std::string close(abi::VMContext* caller, uint32_t handle) = 0;

protected:
  ~DynamicLinker() = default;
};

} // namespace faasm::host
