// The state store the Faasm API host functions use: the host's replica of
// every value (the local tier, LocalStateStore) and, behind the same calls,
// an optional global tier shared by every host (host-interface/redis). The
// host functions and the loader call only this interface; which tiers are
// in use is the embedder's choice (setStore, e.g. faasm-run --state-redis).
//
// Semantics every implementation keeps (docs/State.md):
// - pull makes the replica equal to the global value (a pull of an absent
//   global value leaves the replica as it is); push makes the global value
//   equal to the replica; pushPartial sends only the given runs (or the
//   replica's dirty runs) onto the global value. Each is one unit: another
//   host sees the global value before or after it, never between.
// - a global lock is held for a lease; a push under a write lock carries its
//   fencing token and is refused once the lock was lost.
// - with no global tier, pull and push have nothing to move and global locks
//   are host-wide locks (a single host is the whole system).
#pragma once

#include "faasm/state/LocalState.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faasm::state {

// How a store operation ended.
struct Outcome {
  int error = 0;       // errno of a local-tier failure (EDQUOT: the user's quota)
  std::string message; // a global-tier failure: one line naming the user and key
  bool ok() const { return error == 0 && message.empty(); }
  static Outcome local(int e) { return {e ? e : EIO, {}}; }
  static Outcome global(std::string m) { return {0, std::move(m)}; }
};

// A global lock held by one instance.
struct GlobalLease {
  bool exclusive = false;
  std::string token; // the fencing token (global tier)
  int fd = -1;       // the host-wide lock (no global tier)
};

class StateStore {
public:
  virtual ~StateStore() = default;

  // The host's replicas.
  LocalStateStore& local() { return LocalStateStore::instance(); }
  virtual bool hasGlobalTier() const = 0;
  // "local" or e.g. "redis 127.0.0.1:6379".
  virtual std::string describe() const = 0;

  // The whole global value into the replica (its size becomes the global
  // size). One round trip moving no value bytes when neither side changed.
  virtual Outcome pull(std::string_view user, std::string_view key, StateObject& object) = 0;
  // Bytes [offset, offset + length) of the global value into the replica
  // (whole chunks around them; never past the global value's end).
  virtual Outcome pullRange(std::string_view user, std::string_view key, StateObject& object,
                            uint64_t offset, uint64_t length) = 0;
  // The global value's size; nullopt if there is none (or no global tier).
  virtual Outcome globalSize(std::string_view user, std::string_view key,
                             std::optional<uint64_t>& size) = 0;
  // The whole replica to the global tier. `fence`: the token of the write
  // lease the caller holds on the key, or empty.
  virtual Outcome push(std::string_view user, std::string_view key, StateObject& object,
                       std::string_view fence) = 0;
  // `runs` (null: the replica's dirty runs, taken) to the global value.
  virtual Outcome pushPartial(std::string_view user, std::string_view key, StateObject& object,
                              const std::vector<ByteRun>* runs, std::string_view fence) = 0;

  // Waits for the global lock (bounded: an error once the wait is too long).
  virtual Outcome lockGlobal(std::string_view user, std::string_view key, bool exclusive,
                             GlobalLease& lease) = 0;
  // Releases a lease (nothing if it was lost meanwhile).
  virtual void unlockGlobal(std::string_view user, std::string_view key,
                            const GlobalLease& lease) = 0;

  // Append lists (in the global tier when there is one: appends from every
  // host land in one list, each atomically).
  virtual Outcome append(std::string_view user, std::string_view key, const uint8_t* data,
                         uint32_t length) = 0;
  virtual Outcome readAppended(std::string_view user, std::string_view key, uint8_t* out,
                               uint64_t outLength, uint32_t nElems) = 0;
  virtual Outcome clearAppended(std::string_view user, std::string_view key) = 0;

  // Confined processes (Faaslets) may not open sockets: a process that can
  // opens a connection to the global tier for one (-1 and `error` if it
  // cannot, or there is no global tier), and the confined process installs
  // the source it gets connections from (its scheduler, over its channel).
  virtual int openConnection(std::string& error) {
    error = "no global state tier";
    return -1;
  }
  using ConnectionSource = std::function<int(std::string& error)>;
  virtual void setConnectionSource(ConnectionSource) {}
};

// The process's store: the local tier alone unless setStore() said otherwise.
StateStore& store();
// Replaces the process's store (before the first state call, or between
// runs with no Faaslet using the old one).
void setStore(std::unique_ptr<StateStore> store);
std::unique_ptr<StateStore> makeLocalOnlyStore();

} // namespace faasm::state
