// The Faasm API host functions (module "faasm", the imports of
// sysroot/include/faasm/faasm.h): input/output and chaining through the
// embedder's CallContext (faasm/api/CallContext.h), and state in the local
// and global tiers (faasm/state/StateStore.h).
//
// What an embedder does:
//   registry.addFunctions(api::hostFunctions());  // once, next to WASI's
//   opts.hostState.push_back(callContextHostState(call)); // input/output/chaining
//   opts.hostState.push_back(faasmHostState(user)); // optional, see below
// and, when a warm Faaslet is reset to its snapshot, resetFaasmInstance(vmctx)
// (the snapshot's memory no longer holds the state mappings, and locks the
// call still held must be dropped).
//
// Per-instance state (the user, which keys are mapped where, which state
// locks the instance holds) lives in the FaasmInstance host state; an
// instance created without one uses a process-wide table kept per memory
// (user kDefaultUser), which suits one Faaslet per process.
//
// Tenancy (docs/State.md, docs/Security.md): state keys, locks and append
// lists are the user's own; user "a" and user "b" never see each other's,
// whatever the key. Each user's state on a host is limited by a quota.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faasm::api {

inline constexpr const char* kFaasmModule = "faasm";
// The user a function belongs to when none is named.
inline constexpr const char* kDefaultUser = "demo";

struct FaasmInstance {
  // The user the function belongs to (Faasm's user/function naming); state
  // keys, chained calls and outputs are that user's. Fixed for the life of
  // the instance.
  std::string user = kDefaultUser;

  struct Mapping {
    uint64_t guestAddress = 0;
    uint64_t length = 0; // bytes mapped (page rounded)
  };
  std::map<std::string, Mapping, std::less<>> mappings;
  // Key -> lock descriptor. A key is in at most one of them: taking a lock
  // the instance already holds (again, or upgrading a read lock) traps.
  std::map<std::string, int, std::less<>> readLocks;
  std::map<std::string, int, std::less<>> writeLocks;
  // Key -> global lease (faasmLockStateGlobalRead/Write): at most one per
  // key; `token` fences the instance's pushes while it holds a write lease.
  struct GlobalLock {
    bool exclusive = false;
    std::string token;
    int fd = -1;
  };
  std::map<std::string, GlobalLock, std::less<>> globalLocks;

  FaasmInstance() = default;
  ~FaasmInstance(); // releases every lock still held
  FaasmInstance(const FaasmInstance&) = delete;
  FaasmInstance& operator=(const FaasmInstance&) = delete;
  // Releases the locks (local and global) and forgets the mappings.
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

// Bytes of state each user may hold on this host, instead of
// $FAASM_STATE_QUOTA or state::kDefaultQuotaBytes (1 GiB). Every process
// sharing the state directory should use the same figure.
void setStateQuota(uint64_t bytes);

} // namespace faasm::api
