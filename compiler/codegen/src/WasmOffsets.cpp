#include "WasmOffsets.h"

#include "wabt/cast.h"

#include <cctype>
#include <vector>

namespace faasm::codegen {
namespace {

// An unsigned LEB128 at `pos`, or false if it runs past `end` or 5 bytes.
bool readLeb(std::span<const uint8_t> bytes, size_t& pos, uint32_t& out) {
  out = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (pos >= bytes.size()) return false;
    uint8_t b = bytes[pos++];
    out |= uint32_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// One open instruction sequence of the walk: the body, a block's, a loop's,
// or an arm of an if.
struct Level {
  const wabt::ExprList* exprs;
  wabt::ExprList::const_iterator next;
  bool hasEnd;                         // pos becomes endOffset when it is done
  size_t endOffset;                    // past its `end` (or, for a true arm, its `else`)
  const wabt::IfExpr* elseOf{nullptr}; // a true arm: its if, whose else arm follows
};

// A loop over an explicit stack of sequences, not a recursion: the nesting
// depth is the input's to choose (WasmLimits bounds it, the stack here need not).
void walk(const wabt::ExprList& body, size_t& pos, FunctionOffsets& out) {
  std::vector<Level> levels;
  levels.push_back({&body, body.begin(), false, 0});
  while (!levels.empty()) {
    if (levels.back().next == levels.back().exprs->end()) {
      Level done = levels.back();
      levels.pop_back();
      if (done.hasEnd) pos = done.endOffset;
      if (done.elseOf && done.elseOf->false_end_loc.offset != 0)
        levels.push_back({&done.elseOf->false_, done.elseOf->false_.begin(), true,
                          done.elseOf->false_end_loc.offset});
      continue;
    }
    const wabt::Expr& expr = *levels.back().next++;
    out.starts[&expr] = uint32_t(pos);
    pos = expr.loc.offset;
    switch (expr.type()) {
    case wabt::ExprType::Block: {
      const wabt::Block& block = wabt::cast<wabt::BlockExpr>(&expr)->block;
      levels.push_back({&block.exprs, block.exprs.begin(), true, block.end_loc.offset});
      break;
    }
    case wabt::ExprType::Loop: {
      const wabt::Block& block = wabt::cast<wabt::LoopExpr>(&expr)->block;
      levels.push_back({&block.exprs, block.exprs.begin(), true, block.end_loc.offset});
      break;
    }
    case wabt::ExprType::If: {
      const auto* ifExpr = wabt::cast<wabt::IfExpr>(&expr);
      // Past `else`, or past `end` if there is none.
      levels.push_back({&ifExpr->true_.exprs, ifExpr->true_.exprs.begin(), true,
                        ifExpr->true_.end_loc.offset, ifExpr});
      break;
    }
    default: break;
    }
  }
}

} // namespace

FunctionOffsets functionOffsets(const wabt::Func& func, std::span<const uint8_t> wasm) {
  FunctionOffsets out;
  size_t pos = func.loc.offset;
  uint32_t groups = 0;
  if (pos == 0 || pos >= wasm.size() || !readLeb(wasm, pos, groups)) return out;
  for (uint32_t i = 0; i < groups; ++i) {
    uint32_t count = 0;
    // WebAssembly 2.0's value types are one byte each.
    if (!readLeb(wasm, pos, count) || pos >= wasm.size()) return out;
    ++pos;
  }
  out.bodyOffset = uint32_t(func.loc.offset);
  out.firstInstruction = uint32_t(pos);
  walk(func.exprs, pos, out);
  out.bodyEnd = uint32_t(pos + 1); // the function's own `end`
  // Every offset must lie in the body, in order of reading: else WABT's
  // locations are not what this walk expects, and none is reported.
  for (const auto& [expr, start] : out.starts)
    if (start < out.firstInstruction || start >= out.bodyEnd) {
      out.starts.clear();
      return out;
    }
  out.known = out.bodyEnd <= wasm.size();
  if (!out.known) out.starts.clear();
  return out;
}

std::string instructionText(const wabt::Module& module, const wabt::Expr& expr) {
  using wabt::cast;
  switch (expr.type()) {
  case wabt::ExprType::Binary: return cast<wabt::BinaryExpr>(&expr)->opcode.GetName();
  case wabt::ExprType::Unary: return cast<wabt::UnaryExpr>(&expr)->opcode.GetName();
  case wabt::ExprType::Compare: return cast<wabt::CompareExpr>(&expr)->opcode.GetName();
  case wabt::ExprType::Convert: return cast<wabt::ConvertExpr>(&expr)->opcode.GetName();
  case wabt::ExprType::Load: {
    const auto* load = cast<wabt::LoadExpr>(&expr);
    return std::string(load->opcode.GetName()) +
           (load->offset ? " offset=" + std::to_string(load->offset) : "");
  }
  case wabt::ExprType::Store: {
    const auto* store = cast<wabt::StoreExpr>(&expr);
    return std::string(store->opcode.GetName()) +
           (store->offset ? " offset=" + std::to_string(store->offset) : "");
  }
  case wabt::ExprType::Call:
    return "call " + std::to_string(module.GetFuncIndex(cast<wabt::CallExpr>(&expr)->var));
  default: {
    // WABT's names are CamelCase ("CallIndirect"): as the text format, lower case.
    std::string name;
    for (const char* c = wabt::GetExprTypeName(expr); *c; ++c) {
      if (std::isupper(static_cast<unsigned char>(*c)) && !name.empty()) name += '_';
      name += char(std::tolower(static_cast<unsigned char>(*c)));
    }
    return name;
  }
  }
}

} // namespace faasm::codegen
