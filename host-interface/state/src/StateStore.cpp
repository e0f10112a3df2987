// The process's StateStore, and the store of a single host: the local tier
// is the whole state, so pull and push have nothing to move and a global
// lock is a host-wide lock (byte 2 of the value file, an OFD lock like the
// guest's local lock, and dropped by the kernel if its holder dies).
#include "faasm/state/StateStore.h"

#include <cerrno>
#include <mutex>

namespace faasm::state {
namespace {

class LocalOnlyStore final : public StateStore {
public:
  bool hasGlobalTier() const override { return false; }
  std::string describe() const override { return "local"; }

  Outcome pull(std::string_view, std::string_view, StateObject&) override { return {}; }
  Outcome pullRange(std::string_view, std::string_view, StateObject&, uint64_t, uint64_t) override {
    return {};
  }
  Outcome globalSize(std::string_view, std::string_view, std::optional<uint64_t>& size) override {
    size.reset();
    return {};
  }
  Outcome push(std::string_view, std::string_view, StateObject& object, std::string_view) override {
    object.clearDirty();
    return {};
  }
  Outcome pushPartial(std::string_view, std::string_view, StateObject& object,
                      const std::vector<ByteRun>* runs, std::string_view) override {
    if (!runs) object.clearDirty();
    return {};
  }

  Outcome lockGlobal(std::string_view user, std::string_view key, bool exclusive,
                     GlobalLease& lease) override {
    StateObject* object = local().open(user, key, true);
    if (!object) return Outcome::local(errno);
    int fd = object->lock(exclusive, 2);
    if (fd < 0) return Outcome::local(errno);
    lease = {exclusive, {}, fd};
    return {};
  }
  void unlockGlobal(std::string_view, std::string_view, const GlobalLease& lease) override {
    StateObject::unlock(lease.fd);
  }

  Outcome append(std::string_view user, std::string_view key, const uint8_t* data,
                 uint32_t length) override {
    if (!local().appendElement(user, key, data, length)) return Outcome::local(errno);
    return {};
  }
  Outcome readAppended(std::string_view user, std::string_view key, uint8_t* out,
                       uint64_t outLength, uint32_t nElems) override {
    local().readAppended(user, key, out, outLength, nElems);
    return {};
  }
  Outcome clearAppended(std::string_view user, std::string_view key) override {
    if (!local().clearAppended(user, key)) return Outcome::local(errno);
    return {};
  }
};

std::mutex gStoreMutex;
std::unique_ptr<StateStore>& storeSlot() {
  static std::unique_ptr<StateStore>* slot = new std::unique_ptr<StateStore>(); // never destroyed
  return *slot;
}

} // namespace

std::unique_ptr<StateStore> makeLocalOnlyStore() {
  return std::make_unique<LocalOnlyStore>();
}

StateStore& store() {
  std::lock_guard lock(gStoreMutex);
  auto& slot = storeSlot();
  if (!slot) slot = makeLocalOnlyStore();
  return *slot;
}

void setStore(std::unique_ptr<StateStore> newStore) {
  std::lock_guard lock(gStoreMutex);
  // The old store may still be referenced by a caller mid-call: keep it.
  static std::vector<std::unique_ptr<StateStore>>* retired =
      new std::vector<std::unique_ptr<StateStore>>();
  if (storeSlot()) retired->push_back(std::move(storeSlot()));
  storeSlot() = std::move(newStore);
}

} // namespace faasm::state
