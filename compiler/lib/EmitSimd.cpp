// 128-bit SIMD instructions (WebAssembly 2.0 fixed-width SIMD).
#include "EmitContext.h"

using namespace llvm;

namespace faasm::compiler {

bool isVectorOpcode(wabt::Opcode opcode) {
  return opcode.GetResultType() == wabt::Type::V128 ||
         opcode.GetParamType1() == wabt::Type::V128 || opcode.GetParamType2() == wabt::Type::V128;
}

Value* FunctionEmitter::popVector(FixedVectorType* type) { return pop(type); }

void FunctionEmitter::pushVector(Value* value) {
  push(value->getType() == module.v128Ty ? value : builder.CreateBitCast(value, module.v128Ty));
}

void FunctionEmitter::emitSimd(const wabt::Expr& expr) {
  throw UnsupportedError{std::string("simd instruction ") + wabt::GetExprTypeName(expr) +
                         " is not implemented yet"};
}

} // namespace faasm::compiler
