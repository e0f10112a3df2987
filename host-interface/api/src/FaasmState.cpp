// State: faasmReadState*, faasmWriteState*, the *Ptr mappings, push/pull,
// local and global locks and append lists, over faasm/state/StateStore.h
// (the host's replica in the local tier, and the global tier if the
// embedder installed one; these functions do not know which).
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
// cannot grow, the global tier unreachable or too slow, a push fenced off
// because its write lease expired. None of these functions has an error
// return to use instead.
//
// Dirty tracking (what faasmPushStatePartial sends): the writes by copy
// mark what they wrote; writes through a faasmReadStatePtr pointer are
// invisible to the host and must be flagged (faasmFlagStateDirty), as in
// Faasm. A read of a key this host has no replica of pulls it first.
// A push with a mask (faasmPushStatePartialMask) sends the bytes whose mask
// byte is not zero, then zeroes the mask value, as Faasm's did.
#include "FaasmPrivate.h"

#include "faasm/state/StateStore.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace faasm::api {
namespace {

using state::LocalStateStore;
using state::Outcome;
using state::StateObject;

state::StateStore& store() {
  return state::store();
}
LocalStateStore& local() {
  return state::store().local();
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
              std::to_string(local().quota()) + " bytes");
  hostError("local state store failed: user " + quoted(user) + ", key " + quoted(key) + ": " +
            std::strerror(error ? error : EIO));
}

// A store operation's failure: its line, then a trap.
void check(VMContext* vm, const std::string& key, const Outcome& outcome) {
  if (outcome.ok()) return;
  if (!outcome.message.empty()) hostError(outcome.message);
  failState(vm, key, outcome.error);
}

// The object of the caller's `key`, created and at least `length` bytes
// long, or a trap.
StateObject* sized(VMContext* vm, const std::string& key, uint64_t length) {
  StateObject* object = local().open(userOf(vm), key, true);
  if (!object || !object->ensureSize(length)) failState(vm, key, errno);
  return object;
}

// The object of the caller's `key` if it exists (null if not), or a trap.
StateObject* existing(VMContext* vm, const std::string& key) {
  StateObject* object = local().open(userOf(vm), key, false);
  if (!object && errno != ENOENT) failState(vm, key, errno);
  return object;
}

// For a read: the replica, pulled first if this host had none (and there
// is a global tier), then at least `length` bytes long.
StateObject* forRead(VMContext* vm, const std::string& key, uint64_t length) {
  if (!store().hasGlobalTier() || existing(vm, key)) return sized(vm, key, length);
  StateObject* object = sized(vm, key, 0);
  check(vm, key, store().pull(userOf(vm), key, *object));
  if (!object->ensureSize(length)) failState(vm, key, errno);
  return object;
}

// ----- reading --------------------------------------------------------------------

// The replica's size; with no replica here, the global value's (0 if none).
int32_t readStateSize(VMContext* vm, int32_t keyPtr) {
  std::string key = guestKey(vm, keyPtr);
  StateObject* object = existing(vm, key);
  uint64_t size = object ? object->size() : 0;
  if (!object && store().hasGlobalTier()) {
    std::optional<uint64_t> global;
    check(vm, key, store().globalSize(userOf(vm), key, global));
    size = global.value_or(0);
  }
  return int32_t(std::min<uint64_t>(size, INT32_MAX));
}

int32_t readState(VMContext* vm, int32_t keyPtr, int32_t buffer, int32_t bufferLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  StateObject* object = existing(vm, key);
  if (!object && store().hasGlobalTier()) object = forRead(vm, key, 0);
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
  StateObject* object = forRead(vm, key, uint32_t(totalLen));
  if (out.size() && !object->read(uint32_t(offset), out.data(), out.size()))
    failState(vm, key, errno);
}

// Maps the value into the caller's memory once per key and instance; a later
// call for a longer value maps it again, at a new address.
uint64_t mapValue(VMContext* vm, const std::string& key, uint32_t total) {
  StateObject* object = forRead(vm, key, total);
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
  StateObject* object = local().open(userOf(vm), key, true);
  if (!object || !object->setSize(in.size()) ||
      (in.size() && !object->write(0, in.data(), in.size())))
    failState(vm, key, errno);
  object->markDirty(0, in.size());
}

void writeStateOffset(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset, int32_t data,
                      int32_t dataLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan in = guestRange(vm, data, dataLen);
  checkValueRange(totalLen, offset, dataLen);
  StateObject* object = sized(vm, key, uint32_t(totalLen));
  if (in.size() && !object->write(uint32_t(offset), in.data(), in.size()))
    failState(vm, key, errno);
  object->markDirty(uint32_t(offset), in.size());
}

// Marks [offset, offset + length) of the caller's `key` dirty: what a
// partial push will send. The value is made at least totalLen long first,
// as Faasm did, so a mark is only kept for bytes the user holds.
void markDirty(VMContext* vm, const std::string& key, uint32_t totalLen, uint64_t offset,
               uint64_t length) {
  StateObject* object = sized(vm, key, totalLen);
  if (length) object->markDirty(offset, length);
}

// After writes through a faasmReadStatePtr pointer: the whole value.
void flagStateDirty(VMContext* vm, int32_t keyPtr, int32_t totalLen) {
  std::string key = guestKey(vm, keyPtr);
  markDirty(vm, key, uint32_t(totalLen), 0, uint32_t(totalLen));
}

void flagStateOffsetDirty(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset,
                          int32_t len) {
  std::string key = guestKey(vm, keyPtr);
  checkValueRange(totalLen, offset, len);
  markDirty(vm, key, uint32_t(totalLen), uint32_t(offset), uint32_t(len));
}

// ----- push and pull ------------------------------------------------------------------

// The fence of the caller's pushes to `key`: its write lease's token.
std::string fenceOf(VMContext* vm, const std::string& key) {
  FaasmInstance& self = faasmInstanceOf(vm);
  auto it = self.globalLocks.find(key);
  return it != self.globalLocks.end() && it->second.exclusive ? it->second.token : std::string();
}

void pushState(VMContext* vm, int32_t keyPtr) {
  std::string key = guestKey(vm, keyPtr);
  if (StateObject* object = existing(vm, key))
    check(vm, key, store().push(userOf(vm), key, *object, fenceOf(vm, key)));
}

// A partial push of `runs` (an explicit mask), or of the replica's dirty
// runs when null. The one path every partial push takes.
void pushPartial(VMContext* vm, const std::string& key, const std::vector<state::ByteRun>* runs) {
  if (StateObject* object = existing(vm, key))
    check(vm, key, store().pushPartial(userOf(vm), key, *object, runs, fenceOf(vm, key)));
}

void pushStatePartial(VMContext* vm, int32_t keyPtr) {
  pushPartial(vm, guestKey(vm, keyPtr), nullptr);
}

// Both values are read through their own copies of the keys; each size once.
// The runs sent are the mask's non-zero bytes, judged from one read of it.
void pushStatePartialMask(VMContext* vm, int32_t keyPtr, int32_t maskKeyPtr) {
  std::string key = guestKey(vm, keyPtr);
  std::string maskKey = guestKey(vm, maskKeyPtr);
  StateObject* value = existing(vm, key);
  StateObject* mask = existing(vm, maskKey);
  const std::string& user = userOf(vm);
  if (!value || !mask)
    hostError("faasmPushStatePartialMask: user " + quoted(user) + ": no value under " +
              (value ? "mask key " + quoted(maskKey) : "key " + quoted(key)));
  uint64_t valueSize = value->size(), maskSize = mask->size();
  if (valueSize != maskSize)
    hostError("faasmPushStatePartialMask: user " + quoted(user) + ": mask " + quoted(maskKey) +
              " is " + std::to_string(maskSize) + " bytes, value " + quoted(key) + " is " +
              std::to_string(valueSize) + " (they must be the same length)");
  std::vector<state::ByteRun> runs;
  std::vector<uint8_t> chunk(std::min<uint64_t>(maskSize, 64 << 10));
  for (uint64_t at = 0; at < maskSize; at += chunk.size()) {
    uint64_t n = std::min<uint64_t>(chunk.size(), maskSize - at);
    if (!mask->read(at, chunk.data(), n)) failState(vm, maskKey, errno);
    for (uint64_t i = 0; i < n; ++i) {
      if (!chunk[i]) continue;
      if (!runs.empty() && runs.back().offset + runs.back().length == at + i)
        ++runs.back().length;
      else
        runs.push_back({at + i, 1});
    }
  }
  pushPartial(vm, key, &runs);
  static const uint8_t kZeros[64 << 10] = {};
  for (uint64_t at = 0; at < maskSize; at += sizeof kZeros)
    if (!mask->write(at, kZeros, std::min<uint64_t>(sizeof kZeros, maskSize - at)))
      failState(vm, maskKey, errno);
}

// The replica becomes the global value (if there is one), then at least
// stateLen bytes long.
void pullState(VMContext* vm, int32_t keyPtr, int32_t stateLen) {
  std::string key = guestKey(vm, keyPtr);
  StateObject* object = sized(vm, key, 0);
  check(vm, key, store().pull(userOf(vm), key, *object));
  if (!object->ensureSize(uint32_t(stateLen))) failState(vm, key, errno);
}

// Bytes [offset, offset + len) of a value of totalLen bytes from the global
// tier (the chunks around them).
void pullStateOffset(VMContext* vm, int32_t keyPtr, int32_t totalLen, int32_t offset, int32_t len) {
  std::string key = guestKey(vm, keyPtr);
  checkValueRange(totalLen, offset, len);
  StateObject* object = sized(vm, key, uint32_t(totalLen));
  check(vm, key, store().pullRange(userOf(vm), key, *object, uint32_t(offset), uint32_t(len)));
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
  StateObject* object = local().open(self.user, key, true);
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

// ----- global locks ---------------------------------------------------------------------

// As the local locks: at most one per key and instance (a second would wait
// for the first until its lease ran out), so a second one traps.
void lockGlobal(VMContext* vm, int32_t keyPtr, bool exclusive) {
  std::string key = guestKey(vm, keyPtr);
  FaasmInstance& self = faasmInstanceOf(vm);
  if (auto it = self.globalLocks.find(key); it != self.globalLocks.end())
    hostError("global state lock taken twice: user " + quoted(self.user) + ", key " + quoted(key) +
              ", held for " + (it->second.exclusive ? "writing" : "reading") + ", asked for " +
              (exclusive ? "writing" : "reading"));
  state::GlobalLease lease;
  check(vm, key, store().lockGlobal(self.user, key, exclusive, lease));
  self.globalLocks[key] = {lease.exclusive, lease.token, lease.fd};
}

// Releasing a lock not held does nothing; one whose lease ran out is gone.
void unlockGlobal(VMContext* vm, int32_t keyPtr, bool exclusive) {
  std::string key = guestKey(vm, keyPtr);
  FaasmInstance& self = faasmInstanceOf(vm);
  auto it = self.globalLocks.find(key);
  if (it == self.globalLocks.end() || it->second.exclusive != exclusive) return;
  store().unlockGlobal(self.user, key, {it->second.exclusive, it->second.token, it->second.fd});
  self.globalLocks.erase(it);
}

void lockStateGlobalRead(VMContext* vm, int32_t key) {
  lockGlobal(vm, key, false);
}
void unlockStateGlobalRead(VMContext* vm, int32_t key) {
  unlockGlobal(vm, key, false);
}
void lockStateGlobalWrite(VMContext* vm, int32_t key) {
  lockGlobal(vm, key, true);
}
void unlockStateGlobalWrite(VMContext* vm, int32_t key) {
  unlockGlobal(vm, key, true);
}

// ----- append lists ---------------------------------------------------------------------

void appendState(VMContext* vm, int32_t keyPtr, int32_t data, int32_t dataLen) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan in = guestRange(vm, data, dataLen);
  check(vm, key, store().append(userOf(vm), key, in.data(), uint32_t(in.size())));
}

void readAppendedState(VMContext* vm, int32_t keyPtr, int32_t buffer, int32_t bufferLen,
                       int32_t nElems) {
  std::string key = guestKey(vm, keyPtr);
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  check(vm, key, store().readAppended(userOf(vm), key, out.data(), out.size(), uint32_t(nElems)));
}

void clearAppendedState(VMContext* vm, int32_t keyPtr) {
  std::string key = guestKey(vm, keyPtr);
  check(vm, key, store().clearAppended(userOf(vm), key));
}

} // namespace

void releaseGlobalLocks(FaasmInstance& instance) {
  for (auto& [key, held] : instance.globalLocks)
    state::store().unlockGlobal(instance.user, key, {held.exclusive, held.token, held.fd});
  instance.globalLocks.clear();
}

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
  out.push_back(hostFunction<&flagStateOffsetDirty>(kFaasmModule, "faasmFlagStateOffsetDirty"));
  out.push_back(hostFunction<&pushState>(kFaasmModule, "faasmPushState"));
  out.push_back(hostFunction<&pushStatePartial>(kFaasmModule, "faasmPushStatePartial"));
  out.push_back(hostFunction<&pushStatePartialMask>(kFaasmModule, "faasmPushStatePartialMask"));
  out.push_back(hostFunction<&pullState>(kFaasmModule, "faasmPullState"));
  out.push_back(hostFunction<&lockStateRead>(kFaasmModule, "faasmLockStateRead"));
  out.push_back(hostFunction<&unlockStateRead>(kFaasmModule, "faasmUnlockStateRead"));
  out.push_back(hostFunction<&lockStateWrite>(kFaasmModule, "faasmLockStateWrite"));
  out.push_back(hostFunction<&unlockStateWrite>(kFaasmModule, "faasmUnlockStateWrite"));
  out.push_back(hostFunction<&appendState>(kFaasmModule, "faasmAppendState"));
  out.push_back(hostFunction<&readAppendedState>(kFaasmModule, "faasmReadAppendedState"));
  out.push_back(hostFunction<&clearAppendedState>(kFaasmModule, "faasmClearAppendedState"));
  // The global tier's own calls.
  out.push_back(hostFunction<&pullStateOffset>(kFaasmModule, "faasmPullStateOffset"));
  out.push_back(hostFunction<&lockStateGlobalRead>(kFaasmModule, "faasmLockStateGlobalRead"));
  out.push_back(hostFunction<&unlockStateGlobalRead>(kFaasmModule, "faasmUnlockStateGlobalRead"));
  out.push_back(hostFunction<&lockStateGlobalWrite>(kFaasmModule, "faasmLockStateGlobalWrite"));
  out.push_back(hostFunction<&unlockStateGlobalWrite>(kFaasmModule, "faasmUnlockStateGlobalWrite"));
}

} // namespace faasm::api
