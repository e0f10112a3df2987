#include "FaasmPrivate.h"

#include "faasm/state/LocalState.h"

#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
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
  releaseGlobalLocks(*this);
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
  return (*byMemory)[host::guestMemoryIdentity(vmctx)];
}

void resetFaasmInstance(abi::VMContext* vmctx) {
  faasmInstanceOf(vmctx).reset();
}

void setStateDirectory(std::string directory) {
  state::LocalStateStore::instance().setDirectory(std::move(directory));
}

void setStateQuota(uint64_t bytes) {
  state::LocalStateStore::instance().setQuota(bytes);
}

std::string guestKey(VMContext* vm, int32_t ptr) {
  std::optional<std::string> key = host::guestLoadCString(vm, uint32_t(ptr), kMaxKeyLength);
  if (!key)
    hostError("state key at " + std::to_string(uint32_t(ptr)) + " is longer than " +
              std::to_string(kMaxKeyLength) + " bytes");
  return std::move(*key);
}

std::string quoted(std::string_view bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 80) {
      out += "...";
      break;
    }
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

void hostError(const std::string& what) {
  std::fprintf(stderr, "faasm: %s\n", what.c_str());
  host::trap(abi::TrapCode::HostError);
}

} // namespace faasm::api
