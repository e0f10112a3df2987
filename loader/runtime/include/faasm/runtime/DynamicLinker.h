// Linking wasm side modules (clang -fPIC -shared, the dylink.0 convention)
// into a running instance: what the guest's dlopen/dlsym/dlclose reach
// through host::DynamicLinker (docs/DynamicLoading.md).
//
// No code is mapped here. The libraries a function may load are artefacts
// the embedder loaded with Module::load before the process was confined
// (seccomp forbids executable mappings afterwards); open() identifies the
// file the guest opened as one of them by the SHA-256 of its image, so only
// sealed, checked code ever runs, and a file that differs in one byte is
// refused.
#pragma once

#include "faasm/host/DynamicLinker.h"
#include "faasm/runtime/Extern.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Module.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace faasm::runtime {

// Most table slots one library may ask for (dylink.0's table size).
inline constexpr uint32_t kMaxLibraryTableSlots = 1u << 20;

class DynamicLinker final : public host::DynamicLinker {
public:
  // `libraries`: the artefacts open() may link (each a side module).
  // `hostResolver`: what a library's imports of modules other than "env",
  // "GOT.mem" and "GOT.func" resolve to (WASI, the Faasm API); it must
  // outlive the linker.
  DynamicLinker(ImportResolver hostResolver, std::vector<std::shared_ptr<Module>> libraries);

  host::LinkResult open(abi::VMContext* caller, int fd, const std::string& name) override;
  host::LinkResult symbol(abi::VMContext* caller, uint32_t handle,
                          const std::string& name) override;
  std::string close(abi::VMContext* caller, uint32_t handle) override;

  // Libraries linked so far (open or closed), by the name they were opened as.
  std::vector<std::string> linkedNames() const;
  // Forgets every linked library: for a warm reset, which puts memory and
  // table back as they were before any was linked. Their instances stay
  // alive (a stale reference to one of their functions never dangles).
  void forgetLinked();

private:
  struct Library {
    std::string name;   // as the guest opened it
    std::string soname; // its last path component, what dylink.0's needed lists name
    std::shared_ptr<Module> module;
    std::shared_ptr<Instance> instance;
    uint32_t memoryBase = 0;
    uint32_t refs = 0;
  };

  std::shared_ptr<Instance> mainOf(abi::VMContext* caller, std::string& error);
  const std::shared_ptr<Module>* identify(int fd, const std::string& name, std::string& error);
  host::LinkResult link(Instance& main, const std::shared_ptr<Module>& module,
                        const std::string& name);
  // The table slot holding `f` in `table`, appending one if none does.
  bool slotFor(TableObject& table, const abi::FuncRef* f, uint32_t& out);
  // `symbol` among the exports of `instance` (data addresses offset by
  // `memoryBase`): found or not, and its value.
  bool exportValue(Instance& instance, uint32_t memoryBase, const std::string& symbol,
                   bool wantFunction, bool wantData, TableObject& table, uint32_t& out);

  ImportResolver hostResolver_;
  std::vector<std::shared_ptr<Module>> available_;
  std::weak_ptr<Instance> main_;
  std::vector<Library> libraries_; // handle = index + 1
  std::vector<std::shared_ptr<Instance>> keepAlive_;
  std::unordered_map<const abi::FuncRef*, uint32_t> slots_;
  bool slotsScanned_ = false;
};

} // namespace faasm::runtime
