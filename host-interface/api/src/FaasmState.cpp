// State, local tier: faasmReadState*, faasmWriteState*, the *Ptr mappings,
// push/pull, locks and append lists, over faasm/host/LocalState.h.
//
// Guest-supplied ranges of a value ([offset, offset + len) within totalLen)
// are checked like guest pointers: a range past the value's stated length is
// a bad argument to a host call and traps HostPointerOutOfBounds. A host
// failure (no space in the state directory, a memory that cannot grow) traps
// HostError after one line on stderr.
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

// Checks [offset, offset + length) lies within a value of totalLen bytes.
void checkValueRange(int32_t totalLen, int32_t offset, int32_t length) {
  uint64_t total = uint32_t(totalLen), off = uint32_t(offset), len = uint32_t(length);
  if (off > total || len > total - off) host::trap(abi::TrapCode::HostPointerOutOfBounds);
}

// Results of the helpers, turned into traps by their callers once the
// helper's frame (and its std::string temporaries) is gone.
enum class Outcome { Ok, HostFailure, MapFailure };

[[noreturn]] void fail(Outcome o) {
  hostError(o == Outcome::MapFailure ? "cannot map a state value into linear memory"
                                     : "local state store failed");
}

// The object of `key`, created and at least `length` bytes long.
StateObject* sized(std::string_view key, uint64_t length) {
  StateObject* object = store().open(key, true);
  if (!object || !object->ensureSize(length)) return nullptr;
  return object;
}

// ----- reading --------------------------------------------------------------------

int32_t readStateSize(VMContext* vm, int32_t key) {
  std::string_view k = guestString(vm, uint32_t(key));
  StateObject* object = store().open(k, false);
  return object ? int32_t(std::min<uint64_t>(object->size(), INT32_MAX)) : 0;
}

Outcome readImpl(std::string_view key, uint8_t* out, uint32_t outLen, int32_t& outSize) {
  StateObject* object = store().open(key, false);
  outSize = 0;
  if (!object) return errno == ENOENT ? Outcome::Ok : Outcome::HostFailure;
  uint64_t size = object->size();
  outSize = int32_t(std::min<uint64_t>(size, INT32_MAX));
  uint64_t n = std::min<uint64_t>(outLen, size);
  return n == 0 || object->read(0, out, n) ? Outcome::Ok : Outcome::HostFailure;
}

int32_t readState(VMContext* vm, int32_t key, int32_t buffer, int32_t bufferLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  int32_t size = 0;
  Outcome o = readImpl(k, out, uint32_t(bufferLen), size);
  if (o != Outcome::Ok) fail(o);
  return size;
}

Outcome readOffsetImpl(std::string_view key, uint32_t total, uint32_t offset, uint8_t* out,
                       uint32_t length) {
  StateObject* object = sized(key, total);
  if (!object) return Outcome::HostFailure;
  return length == 0 || object->read(offset, out, length) ? Outcome::Ok : Outcome::HostFailure;
}

void readStateOffset(VMContext* vm, int32_t key, int32_t totalLen, int32_t offset, int32_t buffer,
                     int32_t bufferLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  checkValueRange(totalLen, offset, bufferLen);
  Outcome o = readOffsetImpl(k, uint32_t(totalLen), uint32_t(offset), out, uint32_t(bufferLen));
  if (o != Outcome::Ok) fail(o);
}

// Maps the value into the caller's memory once per key and instance; a later
// call for a longer value maps it again, at a new address.
Outcome mapImpl(VMContext* vm, std::string_view key, uint32_t total, uint64_t& outAddress) {
  StateObject* object = sized(key, total);
  if (!object) return Outcome::HostFailure;
  FaasmInstance& self = faasmInstanceOf(vm);
  auto it = self.mappings.find(key);
  if (it != self.mappings.end() && it->second.length >= total) {
    outAddress = it->second.guestAddress;
    return Outcome::Ok;
  }
  host::SharedMapping mapped =
      host::guestInstanceOf(vm).mapSharedIntoMemory(object->fd(), state::kHeaderBytes, total);
  if (!mapped.error.empty()) return Outcome::MapFailure;
  outAddress = mapped.guestAddress;
  self.mappings[std::string(key)] = {outAddress, abi::roundUpToWasmPages(total)};
  return Outcome::Ok;
}

int32_t readStatePtr(VMContext* vm, int32_t key, int32_t totalLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  if (totalLen <= 0) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  uint64_t address = 0;
  Outcome o = mapImpl(vm, k, uint32_t(totalLen), address);
  if (o != Outcome::Ok) fail(o);
  return int32_t(uint32_t(address));
}

int32_t readStateOffsetPtr(VMContext* vm, int32_t key, int32_t totalLen, int32_t offset,
                           int32_t len) {
  std::string_view k = guestString(vm, uint32_t(key));
  if (totalLen <= 0) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  checkValueRange(totalLen, offset, len);
  uint64_t address = 0;
  Outcome o = mapImpl(vm, k, uint32_t(totalLen), address);
  if (o != Outcome::Ok) fail(o);
  return int32_t(uint32_t(address + uint32_t(offset)));
}

// ----- writing --------------------------------------------------------------------

Outcome writeImpl(std::string_view key, const uint8_t* data, uint32_t length) {
  StateObject* object = store().open(key, true);
  if (!object || !object->setSize(length)) return Outcome::HostFailure;
  return length == 0 || object->write(0, data, length) ? Outcome::Ok : Outcome::HostFailure;
}

void writeState(VMContext* vm, int32_t key, int32_t data, int32_t dataLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  const uint8_t* in = guestRange(vm, data, dataLen);
  Outcome o = writeImpl(k, in, uint32_t(dataLen));
  if (o != Outcome::Ok) fail(o);
}

Outcome writeOffsetImpl(std::string_view key, uint32_t total, uint32_t offset, const uint8_t* data,
                        uint32_t length) {
  StateObject* object = sized(key, total);
  if (!object) return Outcome::HostFailure;
  return length == 0 || object->write(offset, data, length) ? Outcome::Ok : Outcome::HostFailure;
}

void writeStateOffset(VMContext* vm, int32_t key, int32_t totalLen, int32_t offset, int32_t data,
                      int32_t dataLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  const uint8_t* in = guestRange(vm, data, dataLen);
  checkValueRange(totalLen, offset, dataLen);
  Outcome o = writeOffsetImpl(k, uint32_t(totalLen), uint32_t(offset), in, uint32_t(dataLen));
  if (o != Outcome::Ok) fail(o);
}

// Dirty flags matter only to a partial push to the global tier.
void flagStateDirty(VMContext* vm, int32_t key, int32_t) {
  guestString(vm, uint32_t(key));
}

// ----- push and pull ------------------------------------------------------------------

void pushState(VMContext* vm, int32_t key) {
  guestString(vm, uint32_t(key));
}
void pushStatePartial(VMContext* vm, int32_t key) {
  guestString(vm, uint32_t(key));
}

Outcome pullImpl(std::string_view key, uint32_t length) {
  return sized(key, length) ? Outcome::Ok : Outcome::HostFailure;
}

void pullState(VMContext* vm, int32_t key, int32_t stateLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  Outcome o = pullImpl(k, uint32_t(stateLen));
  if (o != Outcome::Ok) fail(o);
}

// ----- locks --------------------------------------------------------------------------

Outcome lockImpl(VMContext* vm, std::string_view key, bool exclusive) {
  StateObject* object = store().open(key, true);
  if (!object) return Outcome::HostFailure;
  int fd = object->lock(exclusive);
  if (fd < 0) return Outcome::HostFailure;
  FaasmInstance& self = faasmInstanceOf(vm);
  (exclusive ? self.writeLocks : self.readLocks).emplace(std::string(key), fd);
  return Outcome::Ok;
}

void unlockImpl(VMContext* vm, std::string_view key, bool exclusive) {
  FaasmInstance& self = faasmInstanceOf(vm);
  auto& held = exclusive ? self.writeLocks : self.readLocks;
  auto it = held.find(key);
  if (it == held.end()) return; // not held: nothing to release
  StateObject::unlock(it->second);
  held.erase(it);
}

void lockStateRead(VMContext* vm, int32_t key) {
  std::string_view k = guestString(vm, uint32_t(key));
  Outcome o = lockImpl(vm, k, false);
  if (o != Outcome::Ok) fail(o);
}
void unlockStateRead(VMContext* vm, int32_t key) {
  unlockImpl(vm, guestString(vm, uint32_t(key)), false);
}
void lockStateWrite(VMContext* vm, int32_t key) {
  std::string_view k = guestString(vm, uint32_t(key));
  Outcome o = lockImpl(vm, k, true);
  if (o != Outcome::Ok) fail(o);
}
void unlockStateWrite(VMContext* vm, int32_t key) {
  unlockImpl(vm, guestString(vm, uint32_t(key)), true);
}

// ----- append lists ---------------------------------------------------------------------

Outcome appendImpl(std::string_view key, const uint8_t* data, uint32_t length) {
  return store().appendElement(key, data, length) ? Outcome::Ok : Outcome::HostFailure;
}

void appendState(VMContext* vm, int32_t key, int32_t data, int32_t dataLen) {
  std::string_view k = guestString(vm, uint32_t(key));
  const uint8_t* in = guestRange(vm, data, dataLen);
  Outcome o = appendImpl(k, in, uint32_t(dataLen));
  if (o != Outcome::Ok) fail(o);
}

void readAppendedImpl(std::string_view key, uint8_t* out, uint32_t outLen, uint32_t nElems) {
  store().readAppended(key, out, outLen, nElems);
}

void readAppendedState(VMContext* vm, int32_t key, int32_t buffer, int32_t bufferLen,
                       int32_t nElems) {
  std::string_view k = guestString(vm, uint32_t(key));
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  readAppendedImpl(k, out, uint32_t(bufferLen), uint32_t(nElems));
}

Outcome clearAppendedImpl(std::string_view key) {
  return store().clearAppended(key) ? Outcome::Ok : Outcome::HostFailure;
}

void clearAppendedState(VMContext* vm, int32_t key) {
  std::string_view k = guestString(vm, uint32_t(key));
  Outcome o = clearAppendedImpl(k);
  if (o != Outcome::Ok) fail(o);
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
