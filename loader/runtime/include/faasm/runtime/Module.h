// A loaded artefact: the shared object faasm-codegen produced (or a hand-made
// one with the same descriptor), opened once and shared by all its instances.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Error.h"

#include <memory>
#include <string>
#include <vector>

namespace faasm::runtime {

class Module {
public:
  // Opens `path` with dlopen(RTLD_NOW | RTLD_LOCAL) and checks its descriptor
  // (magic, ABI version, bounds mode, CPU features, then the internal
  // consistency of its tables) before anything else of it is used. On failure
  // the error is one sentence that says what to do, e.g.
  //   "not a faasm artefact (no faasm_module_descriptor symbol)"
  //   "built by faasm-codegen 0.1 for ABI 2, this runtime needs ABI 1: recompile ..."
  static Expected<std::shared_ptr<Module>> load(const std::string& path);

  // Wraps a descriptor that is already in this process (tests, embedders that
  // link generated code statically). Same checks as load().
  static Expected<std::shared_ptr<Module>> fromDescriptor(const abi::ModuleDescriptor* descriptor,
                                                          std::string name);

  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const abi::ModuleDescriptor& descriptor() const { return *desc_; }
  abi::BoundsMode boundsMode() const { return abi::BoundsMode(desc_->boundsMode); }
  const std::string& path() const { return path_; }

  // Canonical (process-wide) type id of each module type index.
  const std::vector<uint32_t>& typeIds() const { return typeIds_; }
  // The module's thunk for a canonical type id, or null if it has no such type.
  abi::ThunkFn thunkFor(uint32_t canonicalTypeId) const;
  // Signature string of a function in the module's index space (imports first).
  const char* functionSignature(uint32_t funcIndex) const;
  uint32_t importedFunctionCount() const { return importedFuncs_; }
  uint32_t importedGlobalCount() const { return importedGlobals_; }
  uint32_t importedTableCount() const { return importedTables_; }
  uint32_t importedMemoryCount() const { return importedMemories_; }

private:
  Module() = default;
  static Expected<std::shared_ptr<Module>> check(std::shared_ptr<Module> module);

  void* handle_ = nullptr;
  const abi::ModuleDescriptor* desc_ = nullptr;
  std::string path_;
  std::vector<uint32_t> typeIds_;
  std::vector<uint32_t> funcTypeIndex_; // function index -> module type index
  uint32_t importedFuncs_ = 0, importedGlobals_ = 0, importedTables_ = 0, importedMemories_ = 0;
};

// Names of the CpuFeature bits in `features` this host lacks, comma-separated;
// empty if it has them all. Unknown bits count as lacking ("bit 63").
std::string missingCpuFeatures(uint64_t features);

} // namespace faasm::runtime
