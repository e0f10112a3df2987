// The Faasm API host functions (module "faasm", the imports of
// sysroot/include/faasm/faasm.h): input/output and chaining through the
// embedder's CallContext (faasm/api/CallContext.h), and state in the local
// tier (faasm/state/LocalState.h).
//
// What an embedder does:
//   registry.addFunctions(api::hostFunctions());  // once, next to WASI's
//   opts.hostState.push_back(callContextHostState(call)); // input/output/chaining
//   opts.hostState.push_back(faasmHostState(user)); // optional, see below
// and, when a warm Faaslet is reset to its snapshot, resetFaasmInstance(vmctx)
// (the snapshot's memory no longer holds the state mappings, and locks the
// call still held must be dropped).
//
// Per-instance state (which keys are mapped where, which state locks the
// instance holds) lives in the FaasmInstance host state; an instance created
// without one uses a process-wide table keyed by its memory's base address,
// which suits one Faaslet per process.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faasm::api {

inline constexpr const char* kFaasmModule = "faasm";
// The user a function belongs to when none is named.
inline constexpr const char* kDefaultUser = "demo";

struct FaasmInstance {
  // The user the function belongs to (Faasm's user/function naming); state
  // keys, chained calls and outputs are that user's.
  std::string user = kDefaultUser;

  struct Mapping {
    uint64_t guestAddress = 0;
    uint64_t length = 0; // bytes mapped (page rounded)
  };
  std::map<std::string, Mapping, std::less<>> mappings;
  std::multimap<std::string, int, std::less<>> readLocks;  // key -> lock descriptor
  std::multimap<std::string, int, std::less<>> writeLocks; // key -> lock descriptor

  FaasmInstance() = default;
  ~FaasmInstance(); // releases every lock still held
  FaasmInstance(const FaasmInstance&) = delete;
  FaasmInstance& operator=(const FaasmInstance&) = delete;
  // Releases the locks and forgets the mappings.
  void reset();
};

// Every "faasm" host function, for the runtime's registry.
std::vector<host::HostFunction> hostFunctions();

// The InstantiateOptions::hostState entry that gives an instance a FaasmInstance.
std::pair<const void*, std::shared_ptr<void>> faasmHostState(std::string user = kDefaultUser);

// The FaasmInstance of the instance owning `vmctx` (its own, or the
// process-wide one of its memory).
FaasmInstance& faasmInstanceOf(abi::VMContext* vmctx);

// After a warm reset: drops the instance's locks and state mappings.
void resetFaasmInstance(abi::VMContext* vmctx);

// Uses `directory` for the local tier's objects instead of $FAASM_STATE_DIR
// or /dev/shm (call before the first state call).
void setStateDirectory(std::string directory);

} // namespace faasm::api
