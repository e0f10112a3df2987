// The compiler's limits on its input (docs/Compiler.md, "Limits"), checked
// before WABT builds its IR of a module.
//
// Why limits at all: a module is untrusted, and the cost of compiling it
// must stay proportional to its size with a bound that the platform can
// budget for. Some costs are not proportional by nature: three bytes can
// declare 2^32 locals, a two-byte `block (type $t)` with a type of 1000
// params and results makes 2000 phis, and WABT's IR is a tree whose
// destructor recurses once per nesting level. Each limit below bounds one
// such cost; where the WebAssembly JS API specifies a limit (web engines
// share it) we use that number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace wabt {
class Features;
}

namespace faasm::codegen {

struct WasmLimits {
  // The whole module. The IR WABT and LLVM build is tens of times larger.
  static constexpr uint64_t kModuleBytes = 64ull << 20;
  // One function body (the JS API's number).
  static constexpr uint64_t kFunctionBodyBytes = 7654321;
  // Entries of the type, import, function, global, export and segment
  // sections (the JS API's numbers).
  static constexpr uint64_t kTypes = 1000000;
  static constexpr uint64_t kImports = 100000;
  static constexpr uint64_t kFunctions = 1000000;
  static constexpr uint64_t kGlobals = 1000000;
  static constexpr uint64_t kExports = 100000;
  static constexpr uint64_t kDataSegments = 100000;
  static constexpr uint64_t kElemSegments = 10000000;
  // A function type's params (the JS API's number).
  static constexpr uint64_t kParams = 1000;
  // Results: the JS API allows 1000, but results are returned in memory
  // (EmitContext.h, resultsInMemory) and a function passing on another's
  // 1000 results in three bytes makes one block of 1000 loads and 1000
  // stores, 2 s of instruction scheduling; at 100 it costs 10 ms, ten
  // ordinary functions.
  static constexpr uint64_t kResults = 100;
  // Locals of one function, params excluded (the JS API's number).
  static constexpr uint64_t kLocals = 50000;
  // Blocks, loops and ifs open at once in one function or constant expression.
  static constexpr uint64_t kNesting = 10000;
  // Targets of one br_table (V8's number).
  static constexpr uint64_t kBrTableTargets = 65520;
  // The values one function's translation makes: one per instruction, plus,
  // for an instruction that moves several values at once, one per value it
  // moves: the params and results of a block type (phis), the values a
  // branch carries, a call's arguments and results. Proportional to the
  // instructions of ordinary code; bounds the signatures-times-instructions
  // product that makes the optimiser's time superlinear in the module size.
  static constexpr uint64_t kFunctionValues = 2000000;
};

// Empty if `wasm` is within every limit, else the one-line rejection
// ("block nesting 10001 in function 3 exceeds the limit of 10000"). Reads
// the module with WABT's binary reader and `features`, which loops over
// instructions and builds nothing; a module it cannot decode is left for the
// real read to report (WABT stops where this read stopped, so nothing past
// an unchecked point is ever built).
std::string checkLimits(std::span<const uint8_t> wasm, const wabt::Features& features);

} // namespace faasm::codegen
