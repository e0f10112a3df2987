// Scalar numeric instructions: constants, integer and float arithmetic,
// comparisons and conversions.
//
// Where WebAssembly defines a result for what LLVM leaves undefined, the
// translation spells it out: division by zero and INT_MIN / -1 trap before the
// division (x86 would fault, LLVM calls it undefined behaviour), shift counts
// are masked, clz/ctz of zero are defined, float-to-int conversions check the
// range first and trap, min/max follow IEEE 754-2019 minimum/maximum (NaN
// propagates, -0 < +0).
#include "EmitContext.h"

#include <cmath>
#include <llvm/ADT/APFloat.h>
#include <llvm/IR/InlineAsm.h>
#include <llvm/IR/Intrinsics.h>

using namespace llvm;
using wabt::Opcode;

namespace faasm::codegen {

void FunctionEmitter::emitConst(const wabt::Const& value) {
  ModuleContext& m = module;
  switch (value.type()) {
  case wabt::Type::I32: push(builder.getInt32(value.u32())); return;
  case wabt::Type::I64: push(builder.getInt64(value.u64())); return;
  case wabt::Type::F32: // from the bits, so NaN payloads survive
    push(ConstantFP::get(m.ctx, APFloat(APFloat::IEEEsingle(), APInt(32, value.f32_bits()))));
    return;
  case wabt::Type::F64:
    push(ConstantFP::get(m.ctx, APFloat(APFloat::IEEEdouble(), APInt(64, value.f64_bits()))));
    return;
  case wabt::Type::V128: {
    v128 bits = value.vec128();
    uint32_t lanes[4] = {bits.u32(0), bits.u32(1), bits.u32(2), bits.u32(3)};
    push(ConstantDataVector::get(m.ctx, ArrayRef<uint32_t>(lanes, 4)));
    return;
  }
  default: throw UnsupportedError{"constant of an unsupported type"};
  }
}

void FunctionEmitter::emitUnary(Opcode opcode) {
  ModuleContext& m = module;
  Type* type = m.wasmType(opcode.GetParamType1());
  Value* x = pop(type);
  Value* result;
  switch (opcode) {
  case Opcode::I32Eqz:
  case Opcode::I64Eqz:
    result = builder.CreateZExt(builder.CreateICmpEQ(x, Constant::getNullValue(type)), m.i32Ty);
    break;
  case Opcode::I32Clz:
  case Opcode::I64Clz: result = intrinsic(Intrinsic::ctlz, {type}, {x, builder.getFalse()}); break;
  case Opcode::I32Ctz:
  case Opcode::I64Ctz: result = intrinsic(Intrinsic::cttz, {type}, {x, builder.getFalse()}); break;
  case Opcode::I32Popcnt:
  case Opcode::I64Popcnt: result = intrinsic(Intrinsic::ctpop, {type}, {x}); break;
  case Opcode::I32Extend8S:
  case Opcode::I64Extend8S:
    result = builder.CreateSExt(builder.CreateTrunc(x, m.i8Ty), type);
    break;
  case Opcode::I32Extend16S:
  case Opcode::I64Extend16S:
    result = builder.CreateSExt(builder.CreateTrunc(x, m.i16Ty), type);
    break;
  case Opcode::I64Extend32S:
    result = builder.CreateSExt(builder.CreateTrunc(x, m.i32Ty), type);
    break;
  case Opcode::F32Abs:
  case Opcode::F64Abs: result = intrinsic(Intrinsic::fabs, {type}, {x}); break;
  case Opcode::F32Neg:
  case Opcode::F64Neg:
    result = builder.CreateFNeg(x); // flips the sign bit only, NaN payload kept
    break;
  case Opcode::F32Ceil:
  case Opcode::F64Ceil: result = intrinsic(Intrinsic::ceil, {type}, {x}); break;
  case Opcode::F32Floor:
  case Opcode::F64Floor: result = intrinsic(Intrinsic::floor, {type}, {x}); break;
  case Opcode::F32Trunc:
  case Opcode::F64Trunc: result = intrinsic(Intrinsic::trunc, {type}, {x}); break;
  case Opcode::F32Nearest:
  case Opcode::F64Nearest: result = intrinsic(Intrinsic::roundeven, {type}, {x}); break;
  case Opcode::F32Sqrt:
  case Opcode::F64Sqrt: result = intrinsic(Intrinsic::sqrt, {type}, {x}); break;
  default: throw UnsupportedError{std::string("unary ") + opcode.GetName()};
  }
  push(result);
}

Value* FunctionEmitter::emitIntDivRem(Opcode opcode, Value* lhs, Value* rhs) {
  Type* type = lhs->getType();
  Constant* zero = Constant::getNullValue(type);
  Constant* minusOne = Constant::getAllOnesValue(type);
  trapIf(builder.CreateICmpEQ(rhs, zero), abi::TrapCode::IntegerDivideByZero);
  switch (opcode) {
  case Opcode::I32DivS:
  case Opcode::I64DivS: {
    unsigned bits = type->getIntegerBitWidth();
    Constant* intMin = ConstantInt::get(type, APInt::getSignedMinValue(bits));
    trapIf(
        builder.CreateAnd(builder.CreateICmpEQ(lhs, intMin), builder.CreateICmpEQ(rhs, minusOne)),
        abi::TrapCode::IntegerOverflow);
    return builder.CreateSDiv(lhs, rhs);
  }
  case Opcode::I32DivU:
  case Opcode::I64DivU: return builder.CreateUDiv(lhs, rhs);
  case Opcode::I32RemS:
  case Opcode::I64RemS: {
    // INT_MIN rem -1 is 0 in wasm but faults on x86; x rem 1 is also 0.
    Value* safe =
        builder.CreateSelect(builder.CreateICmpEQ(rhs, minusOne), ConstantInt::get(type, 1), rhs);
    return builder.CreateSRem(lhs, safe);
  }
  case Opcode::I32RemU:
  case Opcode::I64RemU: return builder.CreateURem(lhs, rhs);
  default: llvm_unreachable("not a division");
  }
}

// min/max: IEEE 754-2019 minimum/maximum, and a NaN result must be a quiet
// (arithmetic) NaN even when the input was signalling, which llvm.minimum does
// not promise: a NaN input is routed through an add, which quiets it.
Value* FunctionEmitter::emitFloatMinMax(bool isMin, Value* lhs, Value* rhs) {
  Type* type = lhs->getType();
  Value* result = intrinsic(isMin ? Intrinsic::minimum : Intrinsic::maximum, {type}, {lhs, rhs});
  Value* eitherNaN = builder.CreateFCmpUNO(lhs, rhs);
  return builder.CreateSelect(eitherNaN, builder.CreateFAdd(lhs, rhs), result);
}

// LLVM folds x - 0.0, x * 1.0, x / 1.0 and x * -1.0 to x or -x, but in
// WebAssembly they turn a signalling NaN into a quiet one, which is
// observable. A constant that would enable such a fold is passed through an
// empty inline asm, so the operation stays.
Value* FunctionEmitter::hideIdentityConstant(Value* operand) {
  auto* constant = dyn_cast<Constant>(operand);
  if (!constant) return operand;
  Constant* scalar = constant->getType()->isVectorTy() ? constant->getSplatValue() : constant;
  auto* fp = dyn_cast_or_null<ConstantFP>(scalar);
  if (!fp) return operand;
  const APFloat& value = fp->getValueAPF();
  bool identity = value.isZero() || value.isExactlyValue(1.0) || value.isExactlyValue(-1.0);
  if (!identity) return operand;
  Type* type = operand->getType();
  InlineAsm* opaque = InlineAsm::get(FunctionType::get(type, {type}, false), "", "=x,0",
                                     /*hasSideEffects=*/false);
  return builder.CreateCall(opaque, {operand});
}

void FunctionEmitter::emitBinary(Opcode opcode) {
  ModuleContext& m = module;
  Type* type = m.wasmType(opcode.GetParamType1());
  Value* rhs = pop(type);
  Value* lhs = pop(type);
  auto maskedShift = [&](Value* count) {
    return builder.CreateAnd(count, ConstantInt::get(type, type->getIntegerBitWidth() - 1));
  };
  Value* result;
  switch (opcode) {
  case Opcode::I32Add:
  case Opcode::I64Add: result = builder.CreateAdd(lhs, rhs); break;
  case Opcode::I32Sub:
  case Opcode::I64Sub: result = builder.CreateSub(lhs, rhs); break;
  case Opcode::I32Mul:
  case Opcode::I64Mul: result = builder.CreateMul(lhs, rhs); break;
  case Opcode::I32DivS:
  case Opcode::I64DivS:
  case Opcode::I32DivU:
  case Opcode::I64DivU:
  case Opcode::I32RemS:
  case Opcode::I64RemS:
  case Opcode::I32RemU:
  case Opcode::I64RemU: result = emitIntDivRem(opcode, lhs, rhs); break;
  case Opcode::I32And:
  case Opcode::I64And: result = builder.CreateAnd(lhs, rhs); break;
  case Opcode::I32Or:
  case Opcode::I64Or: result = builder.CreateOr(lhs, rhs); break;
  case Opcode::I32Xor:
  case Opcode::I64Xor: result = builder.CreateXor(lhs, rhs); break;
  case Opcode::I32Shl:
  case Opcode::I64Shl: result = builder.CreateShl(lhs, maskedShift(rhs)); break;
  case Opcode::I32ShrS:
  case Opcode::I64ShrS: result = builder.CreateAShr(lhs, maskedShift(rhs)); break;
  case Opcode::I32ShrU:
  case Opcode::I64ShrU: result = builder.CreateLShr(lhs, maskedShift(rhs)); break;
  case Opcode::I32Rotl:
  case Opcode::I64Rotl: result = intrinsic(Intrinsic::fshl, {type}, {lhs, lhs, rhs}); break;
  case Opcode::I32Rotr:
  case Opcode::I64Rotr: result = intrinsic(Intrinsic::fshr, {type}, {lhs, lhs, rhs}); break;
  case Opcode::F32Add:
  case Opcode::F64Add:
    result = builder.CreateFAdd(hideIdentityConstant(lhs), hideIdentityConstant(rhs));
    break;
  case Opcode::F32Sub:
  case Opcode::F64Sub:
    result = builder.CreateFSub(hideIdentityConstant(lhs), hideIdentityConstant(rhs));
    break;
  case Opcode::F32Mul:
  case Opcode::F64Mul:
    result = builder.CreateFMul(hideIdentityConstant(lhs), hideIdentityConstant(rhs));
    break;
  case Opcode::F32Div:
  case Opcode::F64Div:
    result = builder.CreateFDiv(hideIdentityConstant(lhs), hideIdentityConstant(rhs));
    break;
  case Opcode::F32Min:
  case Opcode::F64Min: result = emitFloatMinMax(true, lhs, rhs); break;
  case Opcode::F32Max:
  case Opcode::F64Max: result = emitFloatMinMax(false, lhs, rhs); break;
  case Opcode::F32Copysign:
  case Opcode::F64Copysign: result = intrinsic(Intrinsic::copysign, {type}, {lhs, rhs}); break;
  default: throw UnsupportedError{std::string("binary ") + opcode.GetName()};
  }
  push(result);
}

void FunctionEmitter::emitCompare(Opcode opcode) {
  ModuleContext& m = module;
  Type* type = m.wasmType(opcode.GetParamType1());
  Value* rhs = pop(type);
  Value* lhs = pop(type);
  CmpInst::Predicate predicate;
  switch (opcode) {
  case Opcode::I32Eq:
  case Opcode::I64Eq: predicate = CmpInst::ICMP_EQ; break;
  case Opcode::I32Ne:
  case Opcode::I64Ne: predicate = CmpInst::ICMP_NE; break;
  case Opcode::I32LtS:
  case Opcode::I64LtS: predicate = CmpInst::ICMP_SLT; break;
  case Opcode::I32LtU:
  case Opcode::I64LtU: predicate = CmpInst::ICMP_ULT; break;
  case Opcode::I32GtS:
  case Opcode::I64GtS: predicate = CmpInst::ICMP_SGT; break;
  case Opcode::I32GtU:
  case Opcode::I64GtU: predicate = CmpInst::ICMP_UGT; break;
  case Opcode::I32LeS:
  case Opcode::I64LeS: predicate = CmpInst::ICMP_SLE; break;
  case Opcode::I32LeU:
  case Opcode::I64LeU: predicate = CmpInst::ICMP_ULE; break;
  case Opcode::I32GeS:
  case Opcode::I64GeS: predicate = CmpInst::ICMP_SGE; break;
  case Opcode::I32GeU:
  case Opcode::I64GeU: predicate = CmpInst::ICMP_UGE; break;
  // Every float comparison is false on NaN except ne, which is true.
  case Opcode::F32Eq:
  case Opcode::F64Eq: predicate = CmpInst::FCMP_OEQ; break;
  case Opcode::F32Ne:
  case Opcode::F64Ne: predicate = CmpInst::FCMP_UNE; break;
  case Opcode::F32Lt:
  case Opcode::F64Lt: predicate = CmpInst::FCMP_OLT; break;
  case Opcode::F32Gt:
  case Opcode::F64Gt: predicate = CmpInst::FCMP_OGT; break;
  case Opcode::F32Le:
  case Opcode::F64Le: predicate = CmpInst::FCMP_OLE; break;
  case Opcode::F32Ge:
  case Opcode::F64Ge: predicate = CmpInst::FCMP_OGE; break;
  default: throw UnsupportedError{std::string("compare ") + opcode.GetName()};
  }
  push(builder.CreateZExt(builder.CreateCmp(predicate, lhs, rhs), m.i32Ty));
}

// A float-to-int conversion that traps: NaN is an invalid conversion, a value
// whose truncation does not fit is an overflow. The bounds are exclusive
// limits exactly representable in the source type.
//
// The exact checks sit behind a cheaper test that implies them: |x| < 2^(n-1)
// (signed), 0 <= x < 2^n (unsigned); each is false for NaN. These are the very
// compares clang (19 and older, without nontrapping-fptoint) puts in front of
// every C cast from float to int, spelled the same way (llvm.fabs and fcmp
// olt, or the two compares and'ed), so where the module already tested the
// value LLVM finds the same condition on a dominating branch and drops both
// this test and the checks behind it (sort_std's std::stable_sort compares
// (int)(score * 64.0f), four conversions per comparison). Where it did not,
// the test costs about what the checks did. Either way a value that passes it
// converts without a trap under the exact checks too, and every other value
// meets the exact checks, so what traps, and with which code, is unchanged.
Value* FunctionEmitter::emitTruncTrapping(Value* value, Type* target, bool isSigned) {
  Type* source = value->getType();
  unsigned bits = target->getIntegerBitWidth();
  Value* fits =
      isSigned ? builder.CreateFCmpOLT(intrinsic(Intrinsic::fabs, {source}, {value}),
                                       ConstantFP::get(source, std::ldexp(1.0, bits - 1)))
               : builder.CreateAnd(
                     builder.CreateFCmpOLT(value, ConstantFP::get(source, std::ldexp(1.0, bits))),
                     builder.CreateFCmpOGE(value, ConstantFP::get(source, 0.0)));
  BasicBlock* checks = newBlock("trunc.checks");
  BasicBlock* convert = newBlock("trunc");
  MDBuilder weights(module.ctx);
  builder.CreateCondBr(fits, convert, checks, weights.createLikelyBranchWeights());
  builder.SetInsertPoint(checks);
  double lower, upper; // the conversion is valid iff lower < x < upper, or x == lower is ok when
                       // lowerInclusive
  bool lowerInclusive;
  if (isSigned) {
    lower = -std::ldexp(1.0, bits - 1); // -2^(n-1) itself converts
    upper = std::ldexp(1.0, bits - 1);
    lowerInclusive = true;
    if (source->isDoubleTy() && bits == 32) {
      lower = -2147483649.0; // doubles between -2^31-1 and -2^31 truncate to -2^31
      lowerInclusive = false;
    }
  } else {
    lower = -1.0; // (-1, 0) truncates to 0
    upper = std::ldexp(1.0, bits);
    lowerInclusive = false;
  }
  Value* isNaN = builder.CreateFCmpUNO(value, value);
  trapIf(isNaN, abi::TrapCode::InvalidConversionToInteger);
  Value* lowerBound = ConstantFP::get(source, lower);
  Value* upperBound = ConstantFP::get(source, upper);
  Value* tooLow = lowerInclusive ? builder.CreateFCmpOLT(value, lowerBound)
                                 : builder.CreateFCmpOLE(value, lowerBound);
  Value* tooHigh = builder.CreateFCmpOGE(value, upperBound);
  trapIf(builder.CreateOr(tooLow, tooHigh), abi::TrapCode::IntegerOverflow);
  builder.CreateBr(convert);
  builder.SetInsertPoint(convert);
  return isSigned ? builder.CreateFPToSI(value, target) : builder.CreateFPToUI(value, target);
}

void FunctionEmitter::emitConvert(Opcode opcode) {
  ModuleContext& m = module;
  if (opcode == Opcode::I32Eqz || opcode == Opcode::I64Eqz) return emitUnary(opcode);
  Type* from = m.wasmType(opcode.GetParamType1());
  Type* to = m.wasmType(opcode.GetResultType());
  Value* x = pop(from);
  Value* result;
  switch (opcode) {
  case Opcode::I32WrapI64: result = builder.CreateTrunc(x, to); break;
  case Opcode::I64ExtendI32S: result = builder.CreateSExt(x, to); break;
  case Opcode::I64ExtendI32U: result = builder.CreateZExt(x, to); break;
  case Opcode::I32TruncF32S:
  case Opcode::I32TruncF64S:
  case Opcode::I64TruncF32S:
  case Opcode::I64TruncF64S: result = emitTruncTrapping(x, to, true); break;
  case Opcode::I32TruncF32U:
  case Opcode::I32TruncF64U:
  case Opcode::I64TruncF32U:
  case Opcode::I64TruncF64U: result = emitTruncTrapping(x, to, false); break;
  case Opcode::I32TruncSatF32S:
  case Opcode::I32TruncSatF64S:
  case Opcode::I64TruncSatF32S:
  case Opcode::I64TruncSatF64S: result = intrinsic(Intrinsic::fptosi_sat, {to, from}, {x}); break;
  case Opcode::I32TruncSatF32U:
  case Opcode::I32TruncSatF64U:
  case Opcode::I64TruncSatF32U:
  case Opcode::I64TruncSatF64U: result = intrinsic(Intrinsic::fptoui_sat, {to, from}, {x}); break;
  case Opcode::F32ConvertI32S:
  case Opcode::F32ConvertI64S:
  case Opcode::F64ConvertI32S:
  case Opcode::F64ConvertI64S: result = builder.CreateSIToFP(x, to); break;
  case Opcode::F32ConvertI32U:
  case Opcode::F32ConvertI64U:
  case Opcode::F64ConvertI32U:
  case Opcode::F64ConvertI64U: result = builder.CreateUIToFP(x, to); break;
  case Opcode::F32DemoteF64:
    // demote(promote(x)) quiets a signalling NaN in wasm; LLVM would fold it to x.
    if (isa<FPExtInst>(x)) {
      InlineAsm* opaque = InlineAsm::get(FunctionType::get(from, {from}, false), "", "=x,0", false);
      x = builder.CreateCall(opaque, {x});
    }
    result = builder.CreateFPTrunc(x, to);
    break;
  case Opcode::F64PromoteF32: result = builder.CreateFPExt(x, to); break;
  case Opcode::I32ReinterpretF32:
  case Opcode::I64ReinterpretF64:
  case Opcode::F32ReinterpretI32:
  case Opcode::F64ReinterpretI64: result = builder.CreateBitCast(x, to); break;
  default: throw UnsupportedError{std::string("conversion ") + opcode.GetName()};
  }
  push(result);
}

} // namespace faasm::codegen
