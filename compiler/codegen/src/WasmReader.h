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

struct ReadResult {
  std::unique_ptr<wabt::Module> module; // null on failure
  CompileResult status;
};

// Parses a binary module with the WebAssembly 2.0 feature set and validates it.
// Fails with ErrorKind::Malformed (cannot be decoded) or ErrorKind::Invalid
// (decoded, but fails validation); the message carries the byte offset.
ReadResult readAndValidate(std::span<const uint8_t> wasm);

} // namespace faasm::codegen
