// faasm-codegen as a library: WebAssembly binary in, loadable artefact out.
// The only public header of compiler/; it mentions neither LLVM nor WABT.
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <span>
#include <string>

namespace faasm::codegen {

struct CompileOptions {
  abi::BoundsMode bounds = abi::BoundsMode::Guard;
  bool cpuNative = false;   // use every feature of this host's CPU, not the x86-64-v2 baseline
  unsigned optLevel = 2;    // 0..3
  std::string sourceName;   // recorded in the artefact and used in error messages
  std::string irOutputPath; // if set, also write the unoptimised LLVM IR there (one partition)
  // If set, also write the LLVM IR as code generation receives it (after the
  // optimiser and the lowering of bounds checks) there (one partition).
  std::string optimisedIrOutputPath;
  unsigned threads = 0; // functions compiled in parallel on this many threads; 0: one per core
};

enum class ErrorKind {
  Malformed,   // not a well-formed wasm binary (bad magic, truncated, bad encoding)
  Invalid,     // well formed but fails validation
  Unsupported, // valid wasm using a feature outside WebAssembly 2.0
  Io,          // cannot read the input or write the output
  Internal,    // a bug in the compiler
};

struct CompileResult {
  bool ok = true;
  ErrorKind kind = ErrorKind::Internal;
  std::string message; // one line, lower-case, without the file name
};

// Compiles a wasm module to a shared object at outputPath (written atomically:
// a failed compile leaves no file). Safe to call from several threads.
CompileResult compileToSharedObject(std::span<const uint8_t> wasm, const CompileOptions& options,
                                    const std::string& outputPath);

// The version string recorded in artefacts; the loader compares it too.
const char* compilerVersion();

} // namespace faasm::codegen
