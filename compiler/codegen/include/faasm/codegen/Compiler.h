// faasm-codegen as a library: WebAssembly binary in, loadable artefact out.
// The only public header of compiler/; it mentions neither LLVM nor WABT.
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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
  // If set, also write a listing of the code map (which wasm instructions
  // native code is attributed to, CodeMap.h) there.
  std::string codeMapOutputPath;
  unsigned threads = 0; // functions compiled in parallel on this many threads; 0: one per core
  // If set, write there ("-": stderr) for each loop whether it was versioned
  // on bounds, which checks it keeps and why, and whether LLVM vectorised it
  // (docs/Compiler.md, "Reporting loops"). Does not change the code.
  std::string loopReportPath;
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

// The text format: assembles a .wat module (as `wat2wasm` would, with its
// names kept for messages) into the binary compileToSharedObject takes.
// Parentheses may nest at most kMaxTextNesting deep; deeper text is refused
// before it is parsed. `message` is one line without the file name.
inline constexpr size_t kMaxTextNesting = 1000;
struct WatResult {
  bool ok = false;
  std::vector<uint8_t> wasm;
  std::string message;
};
WatResult watToWasm(std::string_view text, const std::string& sourceName);

// The version string recorded in artefacts; the loader compares it too.
const char* compilerVersion();

} // namespace faasm::codegen
