// Where each instruction of a function body lies in the module file: what a
// trap reports (abi::CodeMap), in the numbering wasm-objdump -d uses.
//
// WABT's binary reader records, for each instruction, the offset just past
// it (its immediates included), and for each block, if and else the offset
// just past their `end` or `else` byte. Instructions follow one another
// without gaps, so an instruction starts where the one before it (in
// reading order) ended; the first starts after the local declarations, which
// are read from the bytes here.
#pragma once

#include "wabt/ir.h"

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>

namespace faasm::codegen {

struct FunctionOffsets {
  bool known = false;      // false: the body could not be located (no offsets then)
  uint32_t bodyOffset = 0; // the body's first byte (its local declarations)
  uint32_t bodyEnd = 0;    // one past its final `end`
  uint32_t firstInstruction = 0;
  std::unordered_map<const wabt::Expr*, uint32_t> starts; // each instruction's first byte
};

// `wasm` is the module binary `func` was read from.
FunctionOffsets functionOffsets(const wabt::Func& func, std::span<const uint8_t> wasm);

// An instruction as the text format spells it, for listings ("i32.div_s",
// "call 3", "i32.load offset=8").
std::string instructionText(const wabt::Module& module, const wabt::Expr& expr);

} // namespace faasm::codegen
