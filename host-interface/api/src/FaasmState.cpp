// State, local tier: faasmReadState*, faasmWriteState*, the *Ptr mappings,
// push/pull, locks and append lists, over faasm/state/LocalState.h.
//
// Every key is the calling instance's user's (FaasmInstance::user): the
// store keeps each user's objects apart. The key is copied out of guest
// memory once (guestKey) and every step of a call uses that copy.
//
// Guest-supplied ranges of a value ([offset, offset + len) within totalLen)
// are checked like guest pointers: a range past the value's stated length is
// a bad argument to a host call and traps HostPointerOutOfBounds. Failures
// trap HostError after one line on stderr naming the user and the key:
// the user's state quota (which every growth is charged against), a lock
// the Faaslet already holds, no space in the state directory, a memory that
// cannot grow. None of these functions has an error return to use instead.
//
// Push and pull: the local tier is the whole store for now, so a push has
// nothing to send and a pull has nothing to fetch; pull makes sure the value
// exists with the stated length, as a pull from an empty global tier would.
#include "FaasmPrivate.h"

#include "faasm/state/LocalState.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace faasm::api {
namespace {

using state::LocalStateStore;
using state::StateObject;

LocalStateStore& store() {
  return LocalStateStore::instance();
}

const std::string& userOf(VMContext* vm) {
  return faasmInstanceOf(vm).user;
}

// Checks [offset, offset + length) lies within a value of totalLen bytes.
void checkValueRange(int32_t totalLen, int32_t offset, int32_t length) {
  uint64_t total = uint32_t(totalLen), off = uint32_t(offset), len = uint32_t(length);
  if (off > total || len > total - off) host::trap(abi::TrapCode::HostPointerOutOfBounds);
}

// A failed store operation on `key` (errno `error`): one line, then a trap.
[[noreturn]] void failState(VMContext* vm, const std::string& key, int error) {
  const std::string& user = userOf(vm);
  if (error == EDQUOT)
    hostError("state quota exceeded: user " + quoted(user) + ", key " + quoted(key) + ", limit " +
              std::to_string(store().quota()) + " bytes");
  hostError("local state store failed: user " + quoted(user) + ", key " + quoted(key) + ": " +
            std::strerror(error ? error : EIO));
}

// The object of the caller's `key`, created and at least `length` bytes
// long, or a trap.
StateObject* sized(VMContext* vm, const std::string& key, uint64_t length) {
  StateObject* object = store().open(userOf(vm), key, true);
  if (!object || !object->ensureSize(length)) failState(vm, key, errno);
  return object;
}

// The object of the caller's `key` if it exists (null if not), or a trap.
StateObject* existing(VMContext* vm, const std::string& key) {
  StateObject* object = store().open(userOf(vm), key, false);
  if (!object && errno != ENOENT) failState(vm, key, errno);
  return object;
}

// ----- reading --------------------------------------------------------------------

int32_t readStateSize(VMContext* vm, int32_t keyPtr) {
  std::string key = guestKey(vm, keyPtr);
  StateObject* object = existing(vm, key);
  return object ? int32_t(std::min<uint64_t>(object->size(), INT32_MAX)) : 0;
}

int32_t readState(VMContext* vm, int32_t keyPtr, int32_t buffer, int32_t bufferLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  StateObject* object = existing(vm, key);
  if (!object) return 0;
  uint64_t size = object->size();
  uint64_t n = std::min<uint64_t>(out.size(), size);
  if (n && !object->read(0, out.data(), n)) failState(vm, key, errno);
  return int32_t(std::min<uint64_t>(size, INT32_MAX));
}

void readStateOffset(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset,
                     int32_t buffer, int32_t bufferLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  checkValueRange(totalLen, offset, bufferLen);
  StateObject* object = sized(vm, key, uint32_t(totalLen));
  if (out.size() && !object->read(uint32_t(offset), out.data(), out.size()))
    failState(vm, key, errno);
}

// Maps the value into the caller's memory once per key and instance; a later
// call for a longer value maps it again, at a new address.
uint64_t mapValue(VMContext* vm, const std::string& key, uint32_t total) {
  StateObject* object = sized(vm, key, total);
  FaasmInstance& self = faasmInstanceOf(vm);
  auto it = self.mappings.find(key);
  if (it != self.mappings.end() && it->second.length >= total) return it->second.guestAddress;
  host::SharedMapping mapped =
      host::guestInstanceOf(vm).mapSharedIntoMemory(object->fd(), state::kHeaderBytes, total);
  if (!mapped.error.empty())
    hostError("cannot map state: user " + quoted(self.user) + ", key " + quoted(key) + ": " +
              mapped.error);
  self.mappings[key] = {mapped.guestAddress, abi::roundUpToWasmPages(total)};
  return mapped.guestAddress;
}

int32_t readStatePtr(VMContext* vm, int32_t keyPtr, int32_t totalLen) {
  std::string key = guestKey(vm, keyPtr);
  if (totalLen <= 0) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  return int32_t(uint32_t(mapValue(vm, key, uint32_t(totalLen))));
}

int32_t readStateOffsetPtr(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset,
                           int32_t len) {
  std::string key = guestKey(vm, keyPtr);
  if (totalLen <= 0) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  checkValueRange(totalLen, offset, len);
  return int32_t(uint32_t(mapValue(vm, key, uint32_t(totalLen)) + uint32_t(offset)));
}

// ----- writing --------------------------------------------------------------------

void writeState(VMContext* vm, int32_t keyPtr, int32_t data, int32_t dataLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan in = guestRange(vm, data, dataLen);
  StateObject* object = store().open(userOf(vm), key, true);
  if (!object || !object->setSize(in.size()) ||
      (in.size() && !object->write(0, in.data(), in.size())))
    failState(vm, key, errno);
}

void writeStateOffset(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset, int32_t data,
                      int32_t dataLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan in = guestRange(vm, data, dataLen);
  checkValueRange(totalLen, offset, dataLen);
  StateObject* object = sized(vm, key, uint32_t(totalLen));
  if (in.size() && !object->write(uint32_t(offset), in.data(), in.size()))
    failState(vm, key, errno);
}

// Dirty flags matter only to a partial push to the global tier.
void flagStateDirty(VMContext* vm, int32_t keyPtr, int32_t) {
  guestKey(vm, keyPtr);
}

// ----- push and pull ------------------------------------------------------------------

void pushState(VMContext* vm, int32_t keyPtr) {
  guestKey(vm, keyPtr);
}
void pushStatePartial(VMContext* vm, int32_t keyPtr) {
  guestKey(vm, keyPtr);
}

void pullState(VMContext* vm, int32_t keyPtr, int32_t stateLen) {
  sized(vm, guestKey(vm, keyPtr), uint32_t(stateLen));
}

// ----- locks --------------------------------------------------------------------------

// A Faaslet holds at most one lock per key: a second one (the same again,
// or a read lock upgraded to write, or a write lock downgraded) would wait
// for the first, which only this Faaslet can release, for ever. It traps.
void lock(VMContext* vm, int32_t keyPtr, bool exclusive) {
  std::string key = guestKey(vm, keyPtr);
  FaasmInstance& self = faasmInstanceOf(vm);
  bool holdsWrite = self.writeLocks.count(key) != 0;
  if (holdsWrite || self.readLocks.count(key))
    hostError("state lock taken twice: user " + quoted(self.user) + ", key " + quoted(key) +
              ", held for " + (holdsWrite ? "writing" : "reading") + ", asked for " +
              (exclusive ? "writing" : "reading") + " (it would wait for itself for ever)");
  StateObject* object = store().open(self.user, key, true);
  if (!object) failState(vm, key, errno);
  int fd = object->lock(exclusive);
  if (fd < 0) failState(vm, key, errno);
  (exclusive ? self.writeLocks : self.readLocks).emplace(key, fd);
}

// Releasing a lock not held does nothing.
void unlock(VMContext* vm, int32_t keyPtr, bool exclusive) {
  std::string key = guestKey(vm, keyPtr);
  FaasmInstance& self = faasmInstanceOf(vm);
  auto& held = exclusive ? self.writeLocks : self.readLocks;
  auto it = held.find(key);
  if (it == held.end()) return;
  StateObject::unlock(it->second);
  held.erase(it);
}

void lockStateRead(VMContext* vm, int32_t key) {
  lock(vm, key, false);
}
void unlockStateRead(VMContext* vm, int32_t key) {
  unlock(vm, key, false);
}
void lockStateWrite(VMContext* vm, int32_t key) {
  lock(vm, key, true);
}
void unlockStateWrite(VMContext* vm, int32_t key) {
  unlock(vm, key, true);
}

// ----- append lists ---------------------------------------------------------------------

void appendState(VMContext* vm, int32_t keyPtr, int32_t data, int32_t dataLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan in = guestRange(vm, data, dataLen);
  if (!store().appendElement(userOf(vm), key, in.data(), uint32_t(in.size())))
    failState(vm, key, errno);
}

void readAppendedState(VMContext* vm, int32_t keyPtr, int32_t buffer, int32_t bufferLen,
                       int32_t nElems) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  store().readAppended(userOf(vm), key, out.data(), out.size(), uint32_t(nElems));
}

void clearAppendedState(VMContext* vm, int32_t keyPtr) {
  std::string key = guestKey(vm, keyPtr);
  if (!store().clearAppended(userOf(vm), key)) failState(vm, key, errno);
}

} // namespace

void addState(std::vector<host::HostFunction>& out) {
  using host::hostFunction;
  out.push_back(hostFunction<&readStateSize>(kFaasmModule, "faasmReadStateSize"));
  out.push_back(hostFunction<&readState>(kFaasmModule, "faasmReadState"));
  out.push_back(hostFunction<&readStateOffset>(kFaasmModule, "faasmReadStateOffset"));
  out.push_back(hostFunction<&readStatePtr>(kFaasmModule, "faasmReadStatePtr"));
  out.push_back(hostFunction<&readStateOffsetPtr>(kFaasmModule, "faasmReadStateOffsetPtr"));
  out.push_back(hostFunction<&writeState>(kFaasmModule, "faasmWriteState"));
  out.push_back(hostFunction<&writeStateOffset>(kFaasmModule, "faasmWriteStateOffset"));
  out.push_back(hostFunction<&flagStateDirty>(kFaasmModule, "faasmFlagStateDirty"));
  out.push_back(hostFunction<&pushState>(kFaasmModule, "faasmPushState"));
  out.push_back(hostFunction<&pushStatePartial>(kFaasmModule, "faasmPushStatePartial"));
  out.push_back(hostFunction<&pullState>(kFaasmModule, "faasmPullState"));
  out.push_back(hostFunction<&lockStateRead>(kFaasmModule, "faasmLockStateRead"));
  out.push_back(hostFunction<&unlockStateRead>(kFaasmModule, "faasmUnlockStateRead"));
  out.push_back(hostFunction<&lockStateWrite>(kFaasmModule, "faasmLockStateWrite"));
  out.push_back(hostFunction<&unlockStateWrite>(kFaasmModule, "faasmUnlockStateWrite"));
  out.push_back(hostFunction<&appendState>(kFaasmModule, "faasmAppendState"));
  out.push_back(hostFunction<&readAppendedState>(kFaasmModule, "faasmReadAppendedState"));
  out.push_back(hostFunction<&clearAppendedState>(kFaasmModule, "faasmClearAppendedState"));
}

} // namespace faasm::api
