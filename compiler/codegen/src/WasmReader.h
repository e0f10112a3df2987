// The one place that reads and validates WebAssembly with WABT. Everything
// after it works on the validated wabt::Module, read-only.
#pragma once

#include "faasm/codegen/Compiler.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wabt {
struct Module;
}

namespace faasm::codegen {

// A side module's dylink.0 section (clang -fPIC -shared), as it states it.
struct DylinkInfo {
  uint32_t memorySize = 0, memoryAlign = 0, tableSize = 0, tableAlign = 0;
  std::vector<std::string> needed;
};

struct ReadResult {
  std::unique_ptr<wabt::Module> module; // null on failure
  CompileResult status;
  std::optional<DylinkInfo> dylink; // set for a side module
};

// Parses a binary module with the WebAssembly 2.0 feature set and validates it.
// Fails with ErrorKind::Malformed (cannot be decoded) or ErrorKind::Invalid
// (decoded, but fails validation); the message carries the byte offset.
ReadResult readAndValidate(std::span<const uint8_t> wasm);

} // namespace faasm::codegen
