#include "faasm/runtime/TypeRegistry.h"

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace faasm::runtime {
namespace {

struct ThunkOffer {
  abi::ThunkFn thunk;
  const void* owner;
};

struct Registry {
  std::mutex mutex;
  std::unordered_map<std::string, uint32_t> ids;
  std::vector<std::string> signatures{""}; // id 0 is never used
  std::vector<std::vector<ThunkOffer>> thunks{{}};
};

Registry& registry() {
  static Registry* r = new Registry; // never destroyed: used until process exit
  return *r;
}

} // namespace

uint32_t internSignature(std::string_view signature) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.ids.find(std::string(signature));
  if (it != r.ids.end()) return it->second;
  uint32_t id = uint32_t(r.signatures.size());
  r.signatures.emplace_back(signature);
  r.thunks.emplace_back();
  r.ids.emplace(std::string(signature), id);
  return id;
}

std::string signatureOf(uint32_t typeId) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return typeId < r.signatures.size() ? r.signatures[typeId] : std::string();
}

void offerThunk(uint32_t typeId, abi::ThunkFn thunk, const void* owner) {
  if (!thunk) return;
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (typeId >= r.thunks.size()) return;
  r.thunks[typeId].push_back({thunk, owner});
}

void withdrawThunks(const void* owner) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (auto& offers : r.thunks) {
    std::erase_if(offers, [&](const ThunkOffer& o) { return o.owner == owner; });
  }
}

abi::ThunkFn anyThunkFor(uint32_t typeId) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  if (typeId >= r.thunks.size() || r.thunks[typeId].empty()) return nullptr;
  return r.thunks[typeId].front().thunk;
}

bool parseSignature(std::string_view signature, std::string_view& params,
                    std::string_view& results) {
  size_t colon = signature.find(':');
  if (colon == std::string_view::npos || signature.find(':', colon + 1) != std::string_view::npos)
    return false;
  for (char c : signature) {
    switch (c) {
    case 'i':
    case 'I':
    case 'f':
    case 'F':
    case 'V':
    case 'r':
    case 'x':
    case ':': break;
    default: return false;
    }
  }
  params = signature.substr(0, colon);
  results = signature.substr(colon + 1);
  return true;
}

} // namespace faasm::runtime
