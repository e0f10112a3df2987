// The one place that reads and validates WebAssembly with WABT. Everything
// after it works on the validated wabt::Module, read-only.
#pragma once

#include "faasm/codegen/Compiler.h"

#include <memory>
#include <span>

namespace wabt {
struct Module;
}

namespace faasm::codegen {

// Deletes a WABT module without recursion. WABT's IR is a tree (a block
// owns the list of its instructions) whose destructors recurse once per
// nesting level; this first moves every nested instruction into its
// function's top-level list, then lets the now flat lists go.
struct WabtModuleDeleter {
  void operator()(wabt::Module* module) const;
};
using WabtModulePtr = std::unique_ptr<wabt::Module, WabtModuleDeleter>;

struct ReadResult {
  WabtModulePtr module; // null on failure
  CompileResult status;
};

// Checks the compiler's limits (WasmLimits.h), then parses a binary module
// with the WebAssembly 2.0 feature set and validates it. Fails with
// ErrorKind::Malformed (cannot be decoded), ErrorKind::Invalid (decoded, but
// fails validation) or ErrorKind::Unsupported (over a limit); the message of
// the first two carries the byte offset.
ReadResult readAndValidate(std::span<const uint8_t> wasm);

} // namespace faasm::codegen
