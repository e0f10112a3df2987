// A loaded artefact: the shared object faasm-codegen produced (or a hand-made
// one with the same descriptor), opened once and shared by all its instances.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/abi/Sha256.h"
#include "faasm/runtime/Error.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace faasm::runtime {

class Module {
public:
  // Reads `path` whole, checks its seal (faasm/abi/Artefact.h: the image's
  // SHA-256 and the MAC under this platform's key) and the shape of its ELF
  // image, and only then loads those checked bytes (from a sealed memfd,
  // dlopen RTLD_NOW | RTLD_LOCAL); then checks its descriptor (magic, ABI
  // version, bounds mode, CPU features, the internal consistency of its
  // tables, every function and thunk inside the module's code) before
  // anything else of it is used. On failure the error is one sentence that
  // says what to do, e.g.
  //   "modified since it was compiled (its SHA-256 does not match its seal): recompile it"
  //   "built by faasm-codegen 0.1 for ABI 2, this runtime needs ABI 1: recompile ..."
  static Expected<std::shared_ptr<Module>> load(const std::string& path);

  // Wraps a descriptor that is already in this process (tests with
  // hand-made artefacts, embedders that link generated code statically):
  // whoever put it there vouches for it, as nothing is sealed. Its code is
  // the executable segments of the object the descriptor lies in. The
  // descriptor checks of load() apply; it has no build digest.
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

  // The build identity (load() only; sealed() is false otherwise): the
  // SHA-256 of the ELF image and of the wasm it was compiled from, as its
  // seal records them. Snapshots key on imageDigest().
  bool sealed() const { return sealed_; }
  const abi::Digest& imageDigest() const { return imageDigest_; }
  const abi::Digest& sourceDigest() const { return sourceDigest_; }

  // Whether `address` lies in the module's executable segments.
  bool inCode(const void* address) const;

  // Traps that say where (abi::CodeMap, checked by load()). A wasm frame:
  // a function in the module's index space (imports first) and the byte
  // offset of the instruction in the module file (0: not known).
  struct WasmFrame {
    uint32_t funcIndex;
    uint32_t wasmOffset;
  };
  // The wasm frames native code at `pc` stands for, innermost first (more
  // than one where the optimiser inlined calls); empty if `pc` lies in no
  // function of the module or it has no code map. `pc` is an instruction's
  // address: for a return address, pass the address before it. `site`
  // (1 + a code map site), if not 0, says which instruction instead of the
  // location of `pc` (a trap call's argument, TrapTrace::firstSite).
  std::vector<WasmFrame> locate(uintptr_t pc, uint32_t site = 0) const;
  // The function's name in the module's name section (without WABT's '$'),
  // empty if it has none.
  std::string functionName(uint32_t funcIndex) const;
  // The live module whose code contains `pc`, if any.
  static std::shared_ptr<const Module> containing(uintptr_t pc);

private:
  Module() = default;
  static Expected<std::shared_ptr<Module>> check(std::shared_ptr<Module> module);
  bool addCodeRange(uintptr_t start, uint64_t bytes); // false if the table is full

  void* handle_ = nullptr;
  int imageFd_ = -1; // the sealed memfd dlopen mapped; its number names the module
  const abi::ModuleDescriptor* desc_ = nullptr;
  std::string path_;
  std::vector<uint32_t> typeIds_;
  std::vector<uint32_t> funcTypeIndex_; // function index -> module type index
  uint32_t importedFuncs_ = 0, importedGlobals_ = 0, importedTables_ = 0, importedMemories_ = 0;
  // Executable segments, also registered with the fault handler (a fault
  // becomes a trap only with the PC in generated code).
  std::vector<std::pair<uintptr_t, uint64_t>> codeRanges_;
  std::vector<int> codeRangeSlots_;
  // Every loaded segment (load() only): what descriptor data may point into.
  std::vector<std::pair<uintptr_t, uint64_t>> imageRanges_;
  bool inImage(const void* address, uint64_t bytes) const;
  std::string checkCodeMap() const;
  // For locate(): defined functions by code address, built on first use.
  mutable std::once_flag byAddressOnce_;
  mutable std::vector<std::pair<uintptr_t, uint32_t>> byAddress_; // code start, defined index
  bool registered_ = false;
  bool sealed_ = false;
  abi::Digest imageDigest_{};
  abi::Digest sourceDigest_{};
};

// What an artefact file is, by its seal: the SHA-256 of its image (its
// build) and of the wasm it was compiled from.
struct ArtefactIdentity {
  abi::Digest imageDigest{};
  abi::Digest sourceDigest{};
};

// The checks Module::load makes before it maps anything (the seal under this
// platform's key, the shape of the ELF image), without loading: for a caller
// that must know whether a file is a good artefact before it hands the path
// on (faasm-run's compile cache). The file may change afterwards; load()
// checks again.
Expected<ArtefactIdentity> checkArtefact(const std::string& path);

// Names of the CpuFeature bits in `features` this host lacks, comma-separated;
// empty if it has them all. Unknown bits count as lacking ("bit 63").
std::string missingCpuFeatures(uint64_t features);

} // namespace faasm::runtime
