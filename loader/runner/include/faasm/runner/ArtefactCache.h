// Running a .wasm or .wat module directly: faasm-run compiles it with the
// faasm-codegen installed next to it (a separate process under the worker's
// compile limits, codegenjob: the loader never links the compiler) into a
// per-user cache of artefacts keyed by content.
//
// An entry is `<cache>/<key>.so`, key = SHA-256 of the input's bytes, this
// faasm's version and artefact ABI, the identity of the faasm-codegen binary
// (device, inode, size, modification and change times: any rebuild or
// reinstall changes it) and the code generation settings (bounds mode, and
// the fixed -O2 and baseline CPU). <cache> is $XDG_CACHE_HOME/faasm, or
// ~/.cache/faasm; it must be a directory of this user that no one else may
// write to, else the cache is not used (one warning). faasm-codegen writes
// each entry under a temporary name and renames it into place, so a reader
// (another faasm-run compiling the same module at the same time included)
// sees a whole artefact or none.
//
// An entry is an artefact like any other: its seal is checked before it is
// used, and for a .wasm input the seal must also name the input's SHA-256 as
// its source. An entry that fails is refused (it never runs), reported in
// one warning line naming it and why, removed and compiled again.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Error.h"

#include <cstdint>
#include <memory>
#include <string>

namespace faasm::runner {

enum class ModuleKind {
  Artefact, // anything that is neither: the loader says what is wrong with it
  Wasm,     // the binary format ("\0asm")
  Wat,      // the text format: a .wat name, or text starting with "(" or ";;"
};

// By the file's first bytes (and its name, for text). An unreadable file is
// an Artefact: loading it will say why.
ModuleKind moduleKindOf(const std::string& path);

struct CompileSettings {
  abi::BoundsMode bounds = abi::BoundsMode::Guard;
  bool useCache = true;
};

// The artefact to load for a wasm or wat module. A --no-cache compile lives
// in a private temporary directory, removed with this object.
class PreparedModule {
public:
  explicit PreparedModule(std::string artefact, std::string temporaryDir = {})
      : artefact_(std::move(artefact)), temporaryDir_(std::move(temporaryDir)) {}
  ~PreparedModule();
  PreparedModule(const PreparedModule&) = delete;
  PreparedModule& operator=(const PreparedModule&) = delete;
  const std::string& artefact() const { return artefact_; }

private:
  std::string artefact_;
  std::string temporaryDir_;
};

// Compiles `input` (Wasm or Wat) or finds it in the cache. While a compile
// takes longer than half a second and stderr is a terminal, stderr shows
// "compiling <name> (<bounds>)…", cleared when it ends. Errors are one line
// without the input's name: faasm-codegen's own (an invalid module), or why
// it could not run.
runtime::Expected<std::unique_ptr<PreparedModule>> prepareModule(const std::string& input,
                                                                 const CompileSettings& settings);

// $XDG_CACHE_HOME/faasm (if set and absolute), else $HOME/.cache/faasm;
// empty if neither is set.
std::string cacheDirectory();

// The faasm-codegen faasm-run uses: $FAASM_CODEGEN if set, else the one in
// the directory of the running executable.
std::string codegenPath();

struct CacheSummary {
  std::string directory;
  uint64_t entries = 0;
  uint64_t bytes = 0;
};
// What the cache holds (a missing directory holds nothing).
runtime::Expected<CacheSummary> summariseCache();
// Removes every entry (and what an interrupted compile left); returns what
// was removed.
runtime::Expected<CacheSummary> clearCache();

} // namespace faasm::runner
