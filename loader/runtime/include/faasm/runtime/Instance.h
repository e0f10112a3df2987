// An instantiated module: its VMContext, memory, tables, globals, function
// references and segments. Created by instantiate(), shared by shared_ptr;
// an instance whose exports another instance imports must outlive it (the
// importer holds a reference through Extern::owner).
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/GuestInstance.h"
#include "faasm/runtime/Error.h"
#include "faasm/runtime/Extern.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Module.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace faasm::runtime {

class Instance;

struct InstantiateOptions {
  // Opaque per-instance state of host interfaces (WASI, Faasm API), keyed by
  // the address of a tag object the interface owns; host functions find it
  // with Instance::hostState(tag). Set before the start function runs.
  std::vector<std::pair<const void*, std::shared_ptr<void>>> hostState;
  // If instantiation fails after it has written into imported tables or
  // memories (spec 2.0: an out-of-bounds segment or a trapping start function
  // leaves earlier writes in place), the half-made instance is stored here so
  // that the embedder can keep the functions those writes refer to alive.
  std::shared_ptr<Instance>* outFailedInstance = nullptr;
};

class Instance final : public host::GuestInstance, public std::enable_shared_from_this<Instance> {
public:
  // Resolves every import in descriptor order through `resolver`, checks it
  // against the import's type (spec import matching), builds the instance,
  // applies active element then data segments, runs the start function.
  // Errors: "unknown import: \"m\".\"n\"", "incompatible import type:
  // \"m\".\"n\" (...)", or a trap (Error::trap set, message is the trap's).
  static Expected<std::shared_ptr<Instance>> instantiate(std::shared_ptr<Module> module,
                                                         const ImportResolver& resolver,
                                                         InstantiateOptions options = {});
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // The instance owning a VMContext (generated code and host functions get one).
  static Instance* fromVmctx(abi::VMContext* vmctx) {
    return static_cast<Instance*>(static_cast<host::GuestInstance*>(vmctx->instance));
  }

  abi::VMContext* vmctx() { return vmctx_; }
  const Module& module() const { return *module_; }
  const std::shared_ptr<Module>& modulePtr() const { return module_; }

  std::optional<Extern> getExport(std::string_view name);
  // The exported function `name`, or null if there is none of that kind.
  const abi::FuncRef* exportedFunction(std::string_view name);

  // Memory 0 (defined or imported), or null.
  Memory* memory() const { return memory_.get(); }
  const std::shared_ptr<Memory>& memoryPtr() const { return memory_; }
  TableObject* table(uint32_t index) const {
    return index < tables_.size() ? tables_[index].get() : nullptr;
  }
  std::shared_ptr<TableObject> tablePtr(uint32_t index) const {
    return index < tables_.size() ? tables_[index] : nullptr;
  }
  GlobalObject* global(uint32_t index) const {
    return index < globals_.size() ? globals_[index].get() : nullptr;
  }
  const abi::FuncRef* function(uint32_t index) const {
    return index < funcCount_ ? funcPtrs_[index] : nullptr;
  }
  uint32_t functionCount() const { return funcCount_; }

  // host::GuestInstance, for the host interface.
  void* hostState(const void* tag) const override;
  // Every host state entry the instance was made with (a library linked
  // into it gets the same ones: runtime/DynamicLinker.h).
  const std::vector<std::pair<const void*, std::shared_ptr<void>>>& hostStates() const {
    return hostState_;
  }
  host::SharedMapping mapSharedIntoMemory(int fd, uint64_t fileOffset, uint64_t length) override;
  [[noreturn]] void raiseTrap(abi::TrapCode code, int32_t exitCode) override;

  // Convenience: finds the export and invokes it. Errors for a missing
  // export or wrong argument count; traps are in the InvokeResult.
  Expected<InvokeResult> invokeExport(std::string_view name, std::span<const abi::Value> args);

  // Segment state for the runtime calls. A dropped segment reads as empty.
  std::span<const uint8_t> dataSegment(uint32_t index) const;
  void dropDataSegment(uint32_t index);
  std::span<void* const> elemSegment(uint32_t index) const;
  void dropElemSegment(uint32_t index);

  // Which segments are dropped (data.drop, elem.drop, and every active or
  // declared segment once instantiation applied it), one flag per segment;
  // part of what a snapshot records. setDroppedSegments puts a recorded
  // state back, un-dropping as well (a segment's contents never change, so
  // un-dropped it reads as it did at instantiation); false if the counts
  // differ from the module's.
  std::vector<bool> droppedDataSegments() const { return dataDropped_; }
  std::vector<bool> droppedElemSegments() const { return elemDropped_; }
  bool setDroppedSegments(const std::vector<bool>& data, const std::vector<bool>& elem);

private:
  Instance() = default;
  Error link(const ImportResolver& resolver);
  Error build();
  Error applySegments();
  abi::Value evalInit(const abi::InitExpr& expr) const;

  // The VMContext and, right after it, one abi::ImportCall per imported
  // function (Abi.h, kImportCallsOffset), in one block that build()
  // allocates and that never moves: generated code holds the address.
  std::unique_ptr<std::max_align_t[]> contextBlock_;
  abi::VMContext* vmctx_ = nullptr;
  std::shared_ptr<Module> module_;
  std::shared_ptr<Memory> memory_;
  std::vector<std::shared_ptr<TableObject>> tables_;
  std::vector<std::shared_ptr<GlobalObject>> globals_;
  std::vector<std::shared_ptr<const void>> importOwners_;
  std::vector<const host::HostFunction*> hostImports_; // per imported function, or null
  std::vector<const abi::FuncRef*> importedFuncs_;
  std::unique_ptr<abi::FuncRef[]> ownFuncRefs_; // host imports first slots, then defined
  std::unique_ptr<abi::FuncRef*[]> funcPtrs_;
  uint32_t funcCount_ = 0;
  std::vector<abi::Table*> tablePtrs_;
  std::vector<abi::Value*> globalPtrs_;
  std::vector<bool> dataDropped_;
  std::vector<bool> elemDropped_;
  std::vector<std::vector<void*>> elemItems_; // evaluated once; kept when dropped
  std::vector<std::pair<const void*, std::shared_ptr<void>>> hostState_;
  bool attachedToMemory_ = false;
};

} // namespace faasm::runtime
