#include "FaasmPrivate.h"

#include "faasm/state/LocalState.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace faasm::api {
namespace {
const char kFaasmStateTag = 0;
} // namespace

FaasmInstance::~FaasmInstance() {
  reset();
}

void FaasmInstance::reset() {
  for (auto& [key, fd] : readLocks)
    state::StateObject::unlock(fd);
  for (auto& [key, fd] : writeLocks)
    state::StateObject::unlock(fd);
  readLocks.clear();
  writeLocks.clear();
  mappings.clear();
}

std::vector<host::HostFunction> hostFunctions() {
  std::vector<host::HostFunction> out;
  addIO(out);
  addChain(out);
  addState(out);
  return out;
}

std::pair<const void*, std::shared_ptr<void>> faasmHostState(std::string user) {
  auto instance = std::make_shared<FaasmInstance>();
  instance->user = std::move(user);
  return {&kFaasmStateTag, std::move(instance)};
}

FaasmInstance& faasmInstanceOf(abi::VMContext* vmctx) {
  if (void* own =
          vmctx->instance ? host::guestInstanceOf(vmctx).hostState(&kFaasmStateTag) : nullptr)
    return *static_cast<FaasmInstance*>(own);
  static std::mutex mutex;
  static auto* byMemory = new std::unordered_map<const void*, FaasmInstance>; // never destroyed
  std::lock_guard lock(mutex);
  return (*byMemory)[vmctx->memoryBase];
}

void resetFaasmInstance(abi::VMContext* vmctx) {
  faasmInstanceOf(vmctx).reset();
}

void setStateDirectory(std::string directory) {
  state::LocalStateStore::instance().setDirectory(std::move(directory));
}

std::string_view guestString(VMContext* vm, uint32_t ptr) {
  if (ptr >= vm->memorySize) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  const uint8_t* start = vm->memoryBase + ptr;
  const void* nul = std::memchr(start, 0, vm->memorySize - ptr);
  if (!nul) host::trap(abi::TrapCode::HostPointerOutOfBounds);
  return {reinterpret_cast<const char*>(start), size_t(static_cast<const uint8_t*>(nul) - start)};
}

void hostError(const char* what) {
  std::fprintf(stderr, "faasm: %s\n", what);
  host::trap(abi::TrapCode::HostError);
}

} // namespace faasm::api
