#include "FaasmPrivate.h"

#include "faasm/host/LocalState.h"
#include "faasm/runtime/Instance.h"

#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace faasm::host {
namespace {
const char kFaasmStateTag = 0;
} // namespace

FaasmInstance::~FaasmInstance() { reset(); }

void FaasmInstance::reset() {
  for (auto& [key, fd] : readLocks) state::StateObject::unlock(fd);
  for (auto& [key, fd] : writeLocks) state::StateObject::unlock(fd);
  readLocks.clear();
  writeLocks.clear();
  mappings.clear();
}

void registerFaasm(runtime::HostModuleRegistry& registry) {
  faasm_api::registerIO(registry);
  faasm_api::registerChain(registry);
  faasm_api::registerState(registry);
}

std::pair<const void*, std::shared_ptr<void>> faasmHostState() {
  return {&kFaasmStateTag, std::make_shared<FaasmInstance>()};
}

FaasmInstance& faasmInstanceOf(abi::VMContext* vmctx) {
  runtime::Instance* inst = runtime::Instance::fromVmctx(vmctx);
  if (void* own = inst ? inst->hostState(&kFaasmStateTag) : nullptr)
    return *static_cast<FaasmInstance*>(own);
  static std::mutex mutex;
  static auto* byMemory = new std::unordered_map<const void*, FaasmInstance>; // never destroyed
  std::lock_guard lock(mutex);
  return (*byMemory)[vmctx->memoryBase];
}

void resetFaasmInstance(abi::VMContext* vmctx) { faasmInstanceOf(vmctx).reset(); }

void setStateDirectory(std::string directory) {
  state::LocalStateStore::instance().setDirectory(std::move(directory));
}

namespace faasm_api {

std::string_view guestString(VMContext* vm, uint32_t ptr) {
  if (ptr >= vm->memorySize) runtime::raiseTrap(abi::TrapCode::HostPointerOutOfBounds);
  const uint8_t* start = vm->memoryBase + ptr;
  const void* nul = std::memchr(start, 0, vm->memorySize - ptr);
  if (!nul) runtime::raiseTrap(abi::TrapCode::HostPointerOutOfBounds);
  return {reinterpret_cast<const char*>(start), size_t(static_cast<const uint8_t*>(nul) - start)};
}

void hostError(const char* what) {
  std::fprintf(stderr, "faasm: %s\n", what);
  runtime::raiseTrap(abi::TrapCode::HostError);
}

} // namespace faasm_api
} // namespace faasm::host
