// 128-bit SIMD instructions (WebAssembly 2.0 fixed-width SIMD).
//
// A v128 travels on the value stack as <4 x i32> and is bitcast to the lane
// shape each instruction works on. Where x86 and WebAssembly disagree the
// translation spells the wasm semantics out: shift counts are taken modulo the
// lane width, swizzle zeroes lanes for indices >= 16, float min/max propagate
// NaN and order -0 below +0, narrowing saturates, float-to-int saturates.
#include "EmitContext.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>

using namespace llvm;
using wabt::Opcode;

namespace faasm::codegen {

bool isVectorOpcode(wabt::Opcode opcode) {
  return opcode.GetResultType() == wabt::Type::V128 || opcode.GetParamType1() == wabt::Type::V128 ||
         opcode.GetParamType2() == wabt::Type::V128;
}

Value* FunctionEmitter::popVector(FixedVectorType* type) {
  return pop(type);
}

void FunctionEmitter::pushVector(Value* value) {
  push(value->getType() == module.v128Ty ? value : builder.CreateBitCast(value, module.v128Ty));
}

namespace {

struct Shapes {
  FixedVectorType *i8x16, *i16x8, *i32x4, *i64x2, *f32x4, *f64x2;
  explicit Shapes(ModuleContext& m)
      : i8x16(FixedVectorType::get(m.i8Ty, 16)), i16x8(FixedVectorType::get(m.i16Ty, 8)),
        i32x4(FixedVectorType::get(m.i32Ty, 4)), i64x2(FixedVectorType::get(m.i64Ty, 2)),
        f32x4(FixedVectorType::get(m.f32Ty, 4)), f64x2(FixedVectorType::get(m.f64Ty, 2)) {}
};

// Lane shape an opcode works on, from the prefix of its name ("i8x16.add").
FixedVectorType* shapeOf(const Shapes& s, Opcode opcode) {
  std::string_view name = opcode.GetName();
  if (name.starts_with("i8x16")) return s.i8x16;
  if (name.starts_with("i16x8")) return s.i16x8;
  if (name.starts_with("i32x4")) return s.i32x4;
  if (name.starts_with("i64x2")) return s.i64x2;
  if (name.starts_with("f32x4")) return s.f32x4;
  if (name.starts_with("f64x2")) return s.f64x2;
  return s.i32x4;
}

SmallVector<int, 16> range(int start, int count, int step = 1) {
  SmallVector<int, 16> mask;
  for (int i = 0; i < count; ++i)
    mask.push_back(start + i * step);
  return mask;
}

} // namespace

void FunctionEmitter::emitSimd(const wabt::Expr& expr) {
  ModuleContext& m = module;
  Shapes s(m);
  auto vec = [&](FixedVectorType* type) { return popVector(type); };
  auto half = [&](Value* v, bool high) { // low or high half of the lanes
    unsigned n = cast<FixedVectorType>(v->getType())->getNumElements();
    return builder.CreateShuffleVector(v, range(high ? n / 2 : 0, n / 2));
  };
  auto widen = [&](Value* v, bool isSigned) { // double the lane width, same lane count
    auto* type = cast<FixedVectorType>(v->getType());
    Type* wide = FixedVectorType::get(IntegerType::get(m.ctx, type->getScalarSizeInBits() * 2),
                                      type->getNumElements());
    return isSigned ? builder.CreateSExt(v, wide) : builder.CreateZExt(v, wide);
  };
  auto splatScalar = [&](Value* scalar, FixedVectorType* type) {
    return builder.CreateVectorSplat(type->getNumElements(), scalar);
  };
  auto laneMask = [&](FixedVectorType* type, Value* count) {
    unsigned bits = type->getScalarSizeInBits();
    Value* masked = builder.CreateAnd(count, builder.getInt32(bits - 1));
    Value* scalar = builder.CreateZExtOrTrunc(masked, type->getElementType());
    return splatScalar(scalar, type);
  };
  auto fromMask = [&](Value* cmp, FixedVectorType* type) { // <N x i1> -> all-ones lanes
    FixedVectorType* intType = FixedVectorType::getInteger(type);
    return builder.CreateSExt(cmp, intType);
  };
  auto saturate = [&](Value* v, int64_t lo, int64_t hi) {
    Type* type = v->getType();
    Value* clamped =
        builder.CreateBinaryIntrinsic(Intrinsic::smax, v, ConstantInt::get(type, lo, true));
    return builder.CreateBinaryIntrinsic(Intrinsic::smin, clamped,
                                         ConstantInt::get(type, hi, true));
  };

  switch (expr.type()) {
  case wabt::ExprType::Load: {
    auto* load = wabt::cast<wabt::LoadExpr>(&expr);
    Value* address = pop(m.i32Ty);
    unsigned lanes;
    bool isSigned;
    Type* lane;
    switch (load->opcode) {
    case Opcode::V128Load8X8S: lanes = 8, isSigned = true, lane = m.i8Ty; break;
    case Opcode::V128Load8X8U: lanes = 8, isSigned = false, lane = m.i8Ty; break;
    case Opcode::V128Load16X4S: lanes = 4, isSigned = true, lane = m.i16Ty; break;
    case Opcode::V128Load16X4U: lanes = 4, isSigned = false, lane = m.i16Ty; break;
    case Opcode::V128Load32X2S: lanes = 2, isSigned = true, lane = m.i32Ty; break;
    case Opcode::V128Load32X2U: lanes = 2, isSigned = false, lane = m.i32Ty; break;
    default: throw UnsupportedError{std::string("load ") + load->opcode.GetName()};
    }
    Value* narrow =
        loadFromMemory(FixedVectorType::get(lane, lanes), memoryAddress(address, load->offset, 8));
    pushVector(widen(narrow, isSigned));
    return;
  }
  case wabt::ExprType::LoadSplat:
  case wabt::ExprType::LoadZero: {
    bool isSplat = expr.type() == wabt::ExprType::LoadSplat;
    Opcode opcode = isSplat ? wabt::cast<wabt::LoadSplatExpr>(&expr)->opcode
                            : wabt::cast<wabt::LoadZeroExpr>(&expr)->opcode;
    uint64_t offset = isSplat ? wabt::cast<wabt::LoadSplatExpr>(&expr)->offset
                              : wabt::cast<wabt::LoadZeroExpr>(&expr)->offset;
    unsigned bytes = (unsigned)opcode.GetMemorySize();
    Type* scalarType = IntegerType::get(m.ctx, bytes * 8);
    Value* address = pop(m.i32Ty);
    Value* scalar = loadFromMemory(scalarType, memoryAddress(address, offset, bytes));
    FixedVectorType* type = FixedVectorType::get(scalarType, 16 / bytes);
    if (isSplat) {
      pushVector(splatScalar(scalar, type));
    } else {
      pushVector(builder.CreateInsertElement(Constant::getNullValue(type), scalar, (uint64_t)0));
    }
    return;
  }
  case wabt::ExprType::SimdLoadLane: {
    auto* load = wabt::cast<wabt::SimdLoadLaneExpr>(&expr);
    unsigned bytes = (unsigned)load->opcode.GetMemorySize();
    Type* scalarType = IntegerType::get(m.ctx, bytes * 8);
    FixedVectorType* type = FixedVectorType::get(scalarType, 16 / bytes);
    Value* vector = vec(type);
    Value* address = pop(m.i32Ty);
    Value* scalar = loadFromMemory(scalarType, memoryAddress(address, load->offset, bytes));
    pushVector(builder.CreateInsertElement(vector, scalar, load->val));
    return;
  }
  case wabt::ExprType::SimdStoreLane: {
    auto* store = wabt::cast<wabt::SimdStoreLaneExpr>(&expr);
    unsigned bytes = (unsigned)store->opcode.GetMemorySize();
    Type* scalarType = IntegerType::get(m.ctx, bytes * 8);
    FixedVectorType* type = FixedVectorType::get(scalarType, 16 / bytes);
    Value* vector = vec(type);
    Value* address = pop(m.i32Ty);
    Value* pointer = memoryAddress(address, store->offset, bytes);
    storeToMemory(builder.CreateExtractElement(vector, store->val), pointer);
    return;
  }
  case wabt::ExprType::SimdShuffleOp: {
    auto* shuffle = wabt::cast<wabt::SimdShuffleOpExpr>(&expr);
    Value* b = vec(s.i8x16);
    Value* a = vec(s.i8x16);
    SmallVector<int, 16> mask;
    for (int i = 0; i < 16; ++i)
      mask.push_back(shuffle->val.u8(i));
    pushVector(builder.CreateShuffleVector(a, b, mask));
    return;
  }
  case wabt::ExprType::SimdLaneOp: {
    auto* laneOp = wabt::cast<wabt::SimdLaneOpExpr>(&expr);
    Opcode opcode = laneOp->opcode;
    FixedVectorType* type = shapeOf(s, opcode);
    uint64_t lane = laneOp->val;
    switch (opcode) {
    case Opcode::I8X16ExtractLaneS:
    case Opcode::I16X8ExtractLaneS:
      push(builder.CreateSExt(builder.CreateExtractElement(vec(type), lane), m.i32Ty));
      return;
    case Opcode::I8X16ExtractLaneU:
    case Opcode::I16X8ExtractLaneU:
      push(builder.CreateZExt(builder.CreateExtractElement(vec(type), lane), m.i32Ty));
      return;
    case Opcode::I32X4ExtractLane:
    case Opcode::I64X2ExtractLane:
    case Opcode::F32X4ExtractLane:
    case Opcode::F64X2ExtractLane: push(builder.CreateExtractElement(vec(type), lane)); return;
    default: { // replace_lane
      Value* scalar = pop();
      if (scalar->getType()->isIntegerTy() && scalar->getType() != type->getElementType())
        scalar = builder.CreateTrunc(scalar, type->getElementType());
      pushVector(builder.CreateInsertElement(vec(type), scalar, lane));
      return;
    }
    }
  }
  case wabt::ExprType::Ternary: {
    Opcode opcode = wabt::cast<wabt::TernaryExpr>(&expr)->opcode;
    if (opcode != Opcode::V128BitSelect)
      throw UnsupportedError{std::string("instruction outside WebAssembly 2.0: ") +
                             opcode.GetName()};
    Value* mask = vec(m.v128Ty);
    Value* b = vec(m.v128Ty);
    Value* a = vec(m.v128Ty);
    pushVector(builder.CreateOr(builder.CreateAnd(a, mask),
                                builder.CreateAnd(b, builder.CreateNot(mask))));
    return;
  }
  case wabt::ExprType::Unary:
  case wabt::ExprType::Convert: {
    Opcode opcode = expr.type() == wabt::ExprType::Unary
                        ? wabt::cast<wabt::UnaryExpr>(&expr)->opcode
                        : wabt::cast<wabt::ConvertExpr>(&expr)->opcode;
    FixedVectorType* type = shapeOf(s, opcode);
    switch (opcode) {
    case Opcode::I8X16Splat:
    case Opcode::I16X8Splat:
    case Opcode::I32X4Splat:
    case Opcode::I64X2Splat:
    case Opcode::F32X4Splat:
    case Opcode::F64X2Splat: {
      Value* scalar = pop();
      if (scalar->getType()->isIntegerTy() && scalar->getType() != type->getElementType())
        scalar = builder.CreateTrunc(scalar, type->getElementType());
      pushVector(splatScalar(scalar, type));
      return;
    }
    case Opcode::V128Not: pushVector(builder.CreateNot(vec(m.v128Ty))); return;
    case Opcode::V128AnyTrue: {
      Value* bits = builder.CreateBitCast(vec(m.v128Ty), builder.getIntNTy(128));
      push(builder.CreateZExt(builder.CreateICmpNE(bits, builder.getIntN(128, 0)), m.i32Ty));
      return;
    }
    case Opcode::I8X16AllTrue:
    case Opcode::I16X8AllTrue:
    case Opcode::I32X4AllTrue:
    case Opcode::I64X2AllTrue: {
      Value* nonZero = builder.CreateICmpNE(vec(type), Constant::getNullValue(type));
      push(builder.CreateZExt(builder.CreateAndReduce(nonZero), m.i32Ty));
      return;
    }
    case Opcode::I8X16Bitmask:
    case Opcode::I16X8Bitmask:
    case Opcode::I32X4Bitmask:
    case Opcode::I64X2Bitmask: {
      Value* negative = builder.CreateICmpSLT(vec(type), Constant::getNullValue(type));
      Value* bits = builder.CreateBitCast(negative, builder.getIntNTy(type->getNumElements()));
      push(builder.CreateZExt(bits, m.i32Ty));
      return;
    }
    case Opcode::I8X16Abs:
    case Opcode::I16X8Abs:
    case Opcode::I32X4Abs:
    case Opcode::I64X2Abs:
      pushVector(builder.CreateBinaryIntrinsic(Intrinsic::abs, vec(type), builder.getFalse()));
      return;
    case Opcode::I8X16Neg:
    case Opcode::I16X8Neg:
    case Opcode::I32X4Neg:
    case Opcode::I64X2Neg: pushVector(builder.CreateNeg(vec(type))); return;
    case Opcode::I8X16Popcnt: pushVector(intrinsic(Intrinsic::ctpop, {type}, {vec(type)})); return;
    case Opcode::F32X4Abs:
    case Opcode::F64X2Abs: pushVector(intrinsic(Intrinsic::fabs, {type}, {vec(type)})); return;
    case Opcode::F32X4Neg:
    case Opcode::F64X2Neg: pushVector(builder.CreateFNeg(vec(type))); return;
    case Opcode::F32X4Sqrt:
    case Opcode::F64X2Sqrt: pushVector(intrinsic(Intrinsic::sqrt, {type}, {vec(type)})); return;
    case Opcode::F32X4Ceil:
    case Opcode::F64X2Ceil: pushVector(intrinsic(Intrinsic::ceil, {type}, {vec(type)})); return;
    case Opcode::F32X4Floor:
    case Opcode::F64X2Floor: pushVector(intrinsic(Intrinsic::floor, {type}, {vec(type)})); return;
    case Opcode::F32X4Trunc:
    case Opcode::F64X2Trunc: pushVector(intrinsic(Intrinsic::trunc, {type}, {vec(type)})); return;
    case Opcode::F32X4Nearest:
    case Opcode::F64X2Nearest:
      pushVector(intrinsic(Intrinsic::roundeven, {type}, {vec(type)}));
      return;
    case Opcode::I16X8ExtendLowI8X16S: pushVector(widen(half(vec(s.i8x16), false), true)); return;
    case Opcode::I16X8ExtendHighI8X16S: pushVector(widen(half(vec(s.i8x16), true), true)); return;
    case Opcode::I16X8ExtendLowI8X16U: pushVector(widen(half(vec(s.i8x16), false), false)); return;
    case Opcode::I16X8ExtendHighI8X16U: pushVector(widen(half(vec(s.i8x16), true), false)); return;
    case Opcode::I32X4ExtendLowI16X8S: pushVector(widen(half(vec(s.i16x8), false), true)); return;
    case Opcode::I32X4ExtendHighI16X8S: pushVector(widen(half(vec(s.i16x8), true), true)); return;
    case Opcode::I32X4ExtendLowI16X8U: pushVector(widen(half(vec(s.i16x8), false), false)); return;
    case Opcode::I32X4ExtendHighI16X8U: pushVector(widen(half(vec(s.i16x8), true), false)); return;
    case Opcode::I64X2ExtendLowI32X4S: pushVector(widen(half(vec(s.i32x4), false), true)); return;
    case Opcode::I64X2ExtendHighI32X4S: pushVector(widen(half(vec(s.i32x4), true), true)); return;
    case Opcode::I64X2ExtendLowI32X4U: pushVector(widen(half(vec(s.i32x4), false), false)); return;
    case Opcode::I64X2ExtendHighI32X4U: pushVector(widen(half(vec(s.i32x4), true), false)); return;
    case Opcode::I16X8ExtaddPairwiseI8X16S:
    case Opcode::I16X8ExtaddPairwiseI8X16U:
    case Opcode::I32X4ExtaddPairwiseI16X8S:
    case Opcode::I32X4ExtaddPairwiseI16X8U: {
      bool isSigned = opcode == Opcode::I16X8ExtaddPairwiseI8X16S ||
                      opcode == Opcode::I32X4ExtaddPairwiseI16X8S;
      FixedVectorType* from =
          opcode == Opcode::I16X8ExtaddPairwiseI8X16S || opcode == Opcode::I16X8ExtaddPairwiseI8X16U
              ? s.i8x16
              : s.i16x8;
      Value* wide = widen(vec(from), isSigned);
      int n = (int)from->getNumElements();
      Value* even = builder.CreateShuffleVector(wide, range(0, n / 2, 2));
      Value* odd = builder.CreateShuffleVector(wide, range(1, n / 2, 2));
      pushVector(builder.CreateAdd(even, odd));
      return;
    }
    case Opcode::I32X4TruncSatF32X4S:
      pushVector(intrinsic(Intrinsic::fptosi_sat, {s.i32x4, s.f32x4}, {vec(s.f32x4)}));
      return;
    case Opcode::I32X4TruncSatF32X4U:
      pushVector(intrinsic(Intrinsic::fptoui_sat, {s.i32x4, s.f32x4}, {vec(s.f32x4)}));
      return;
    case Opcode::I32X4TruncSatF64X2SZero:
    case Opcode::I32X4TruncSatF64X2UZero: {
      FixedVectorType* i32x2 = FixedVectorType::get(m.i32Ty, 2);
      Intrinsic::ID id =
          opcode == Opcode::I32X4TruncSatF64X2SZero ? Intrinsic::fptosi_sat : Intrinsic::fptoui_sat;
      Value* narrow = intrinsic(id, {i32x2, s.f64x2}, {vec(s.f64x2)});
      pushVector(builder.CreateShuffleVector(narrow, Constant::getNullValue(i32x2), range(0, 4)));
      return;
    }
    case Opcode::F32X4ConvertI32X4S:
      pushVector(builder.CreateSIToFP(vec(s.i32x4), s.f32x4));
      return;
    case Opcode::F32X4ConvertI32X4U:
      pushVector(builder.CreateUIToFP(vec(s.i32x4), s.f32x4));
      return;
    case Opcode::F64X2ConvertLowI32X4S:
      pushVector(builder.CreateSIToFP(half(vec(s.i32x4), false), s.f64x2));
      return;
    case Opcode::F64X2ConvertLowI32X4U:
      pushVector(builder.CreateUIToFP(half(vec(s.i32x4), false), s.f64x2));
      return;
    case Opcode::F32X4DemoteF64X2Zero: {
      FixedVectorType* f32x2 = FixedVectorType::get(m.f32Ty, 2);
      Value* narrow = builder.CreateFPTrunc(vec(s.f64x2), f32x2);
      pushVector(builder.CreateShuffleVector(narrow, Constant::getNullValue(f32x2), range(0, 4)));
      return;
    }
    case Opcode::F64X2PromoteLowF32X4:
      pushVector(builder.CreateFPExt(half(vec(s.f32x4), false), s.f64x2));
      return;
    default: throw UnsupportedError{std::string("simd instruction ") + opcode.GetName()};
    }
  }
  case wabt::ExprType::Compare: {
    Opcode opcode = wabt::cast<wabt::CompareExpr>(&expr)->opcode;
    FixedVectorType* type = shapeOf(s, opcode);
    Value* b = vec(type);
    Value* a = vec(type);
    std::string_view name = opcode.GetName();
    std::string_view op = name.substr(name.find('.') + 1);
    CmpInst::Predicate predicate;
    if (type->getElementType()->isFloatingPointTy()) {
      predicate = op == "eq"   ? CmpInst::FCMP_OEQ
                  : op == "ne" ? CmpInst::FCMP_UNE
                  : op == "lt" ? CmpInst::FCMP_OLT
                  : op == "gt" ? CmpInst::FCMP_OGT
                  : op == "le" ? CmpInst::FCMP_OLE
                               : CmpInst::FCMP_OGE;
    } else {
      predicate = op == "eq"     ? CmpInst::ICMP_EQ
                  : op == "ne"   ? CmpInst::ICMP_NE
                  : op == "lt_s" ? CmpInst::ICMP_SLT
                  : op == "lt_u" ? CmpInst::ICMP_ULT
                  : op == "gt_s" ? CmpInst::ICMP_SGT
                  : op == "gt_u" ? CmpInst::ICMP_UGT
                  : op == "le_s" ? CmpInst::ICMP_SLE
                  : op == "le_u" ? CmpInst::ICMP_ULE
                  : op == "ge_s" ? CmpInst::ICMP_SGE
                                 : CmpInst::ICMP_UGE;
    }
    pushVector(fromMask(builder.CreateCmp(predicate, a, b), type));
    return;
  }
  case wabt::ExprType::Binary: {
    Opcode opcode = wabt::cast<wabt::BinaryExpr>(&expr)->opcode;
    FixedVectorType* type = shapeOf(s, opcode);
    switch (opcode) {
    case Opcode::I8X16Shl:
    case Opcode::I16X8Shl:
    case Opcode::I32X4Shl:
    case Opcode::I64X2Shl:
    case Opcode::I8X16ShrS:
    case Opcode::I16X8ShrS:
    case Opcode::I32X4ShrS:
    case Opcode::I64X2ShrS:
    case Opcode::I8X16ShrU:
    case Opcode::I16X8ShrU:
    case Opcode::I32X4ShrU:
    case Opcode::I64X2ShrU: {
      Value* count = pop(m.i32Ty);
      Value* a = vec(type);
      Value* amount = laneMask(type, count);
      std::string_view name = opcode.GetName();
      Value* result = name.ends_with("shl")     ? builder.CreateShl(a, amount)
                      : name.ends_with("shr_s") ? builder.CreateAShr(a, amount)
                                                : builder.CreateLShr(a, amount);
      pushVector(result);
      return;
    }
    default: break;
    }
    if (opcode == Opcode::I8X16NarrowI16X8S || opcode == Opcode::I8X16NarrowI16X8U ||
        opcode == Opcode::I16X8NarrowI32X4S || opcode == Opcode::I16X8NarrowI32X4U) {
      bool toBytes = opcode == Opcode::I8X16NarrowI16X8S || opcode == Opcode::I8X16NarrowI16X8U;
      bool isSigned = opcode == Opcode::I8X16NarrowI16X8S || opcode == Opcode::I16X8NarrowI32X4S;
      FixedVectorType* from = toBytes ? s.i16x8 : s.i32x4;
      FixedVectorType* to = toBytes ? s.i8x16 : s.i16x8;
      Value* b = vec(from);
      Value* a = vec(from);
      int n = (int)from->getNumElements();
      Value* both = builder.CreateShuffleVector(a, b, range(0, 2 * n));
      unsigned bits = to->getScalarSizeInBits();
      int64_t lo = isSigned ? -(int64_t(1) << (bits - 1)) : 0;
      int64_t hi = isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
      pushVector(builder.CreateTrunc(saturate(both, lo, hi), to));
      return;
    }
    Value* b = vec(type);
    Value* a = vec(type);
    Value* result;
    switch (opcode) {
    case Opcode::V128And: result = builder.CreateAnd(a, b); break;
    case Opcode::V128Or: result = builder.CreateOr(a, b); break;
    case Opcode::V128Xor: result = builder.CreateXor(a, b); break;
    case Opcode::V128Andnot: result = builder.CreateAnd(a, builder.CreateNot(b)); break;
    case Opcode::I8X16Add:
    case Opcode::I16X8Add:
    case Opcode::I32X4Add:
    case Opcode::I64X2Add: result = builder.CreateAdd(a, b); break;
    case Opcode::I8X16Sub:
    case Opcode::I16X8Sub:
    case Opcode::I32X4Sub:
    case Opcode::I64X2Sub: result = builder.CreateSub(a, b); break;
    case Opcode::I16X8Mul:
    case Opcode::I32X4Mul:
    case Opcode::I64X2Mul: result = builder.CreateMul(a, b); break;
    case Opcode::I8X16AddSatS:
    case Opcode::I16X8AddSatS:
      result = builder.CreateBinaryIntrinsic(Intrinsic::sadd_sat, a, b);
      break;
    case Opcode::I8X16AddSatU:
    case Opcode::I16X8AddSatU:
      result = builder.CreateBinaryIntrinsic(Intrinsic::uadd_sat, a, b);
      break;
    case Opcode::I8X16SubSatS:
    case Opcode::I16X8SubSatS:
      result = builder.CreateBinaryIntrinsic(Intrinsic::ssub_sat, a, b);
      break;
    case Opcode::I8X16SubSatU:
    case Opcode::I16X8SubSatU:
      result = builder.CreateBinaryIntrinsic(Intrinsic::usub_sat, a, b);
      break;
    case Opcode::I8X16MinS:
    case Opcode::I16X8MinS:
    case Opcode::I32X4MinS: result = builder.CreateBinaryIntrinsic(Intrinsic::smin, a, b); break;
    case Opcode::I8X16MinU:
    case Opcode::I16X8MinU:
    case Opcode::I32X4MinU: result = builder.CreateBinaryIntrinsic(Intrinsic::umin, a, b); break;
    case Opcode::I8X16MaxS:
    case Opcode::I16X8MaxS:
    case Opcode::I32X4MaxS: result = builder.CreateBinaryIntrinsic(Intrinsic::smax, a, b); break;
    case Opcode::I8X16MaxU:
    case Opcode::I16X8MaxU:
    case Opcode::I32X4MaxU: result = builder.CreateBinaryIntrinsic(Intrinsic::umax, a, b); break;
    case Opcode::I8X16AvgrU:
    case Opcode::I16X8AvgrU: {
      Value* wa = widen(a, false);
      Value* wb = widen(b, false);
      Value* one = ConstantInt::get(wa->getType(), 1);
      Value* sum = builder.CreateAdd(builder.CreateAdd(wa, wb), one);
      result = builder.CreateTrunc(builder.CreateLShr(sum, one), type);
      break;
    }
    case Opcode::I16X8Q15mulrSatS: {
      FixedVectorType* wide = FixedVectorType::get(m.i32Ty, 8);
      Value* product = builder.CreateMul(builder.CreateSExt(a, wide), builder.CreateSExt(b, wide));
      Value* rounded = builder.CreateAShr(
          builder.CreateAdd(product, ConstantInt::get(wide, 0x4000)), ConstantInt::get(wide, 15));
      result = builder.CreateTrunc(saturate(rounded, -32768, 32767), type);
      break;
    }
    case Opcode::I8X16Swizzle: {
      // pshufb zeroes a lane whose index has its top bit set; a saturating
      // add of 0x70 sets it for every index >= 16 and keeps 0..15 intact.
      Value* indices =
          builder.CreateBinaryIntrinsic(Intrinsic::uadd_sat, b, ConstantInt::get(s.i8x16, 0x70));
      result = intrinsic(Intrinsic::x86_ssse3_pshuf_b_128, {}, {a, indices});
      break;
    }
    case Opcode::I32X4DotI16X8S: {
      FixedVectorType* wide = FixedVectorType::get(m.i32Ty, 8);
      Value* product =
          builder.CreateMul(builder.CreateSExt(builder.CreateBitCast(a, s.i16x8), wide),
                            builder.CreateSExt(builder.CreateBitCast(b, s.i16x8), wide));
      Value* even = builder.CreateShuffleVector(product, range(0, 4, 2));
      Value* odd = builder.CreateShuffleVector(product, range(1, 4, 2));
      result = builder.CreateAdd(even, odd);
      break;
    }
    case Opcode::I16X8ExtmulLowI8X16S:
    case Opcode::I16X8ExtmulHighI8X16S:
    case Opcode::I16X8ExtmulLowI8X16U:
    case Opcode::I16X8ExtmulHighI8X16U:
    case Opcode::I32X4ExtmulLowI16X8S:
    case Opcode::I32X4ExtmulHighI16X8S:
    case Opcode::I32X4ExtmulLowI16X8U:
    case Opcode::I32X4ExtmulHighI16X8U:
    case Opcode::I64X2ExtmulLowI32X4S:
    case Opcode::I64X2ExtmulHighI32X4S:
    case Opcode::I64X2ExtmulLowI32X4U:
    case Opcode::I64X2ExtmulHighI32X4U: {
      // The operands are the narrower shape: re-read them as such.
      std::string_view name = opcode.GetName();
      bool high = name.find("high") != std::string_view::npos;
      bool isSigned = name.ends_with("_s");
      FixedVectorType* from = name.starts_with("i16x8")   ? s.i8x16
                              : name.starts_with("i32x4") ? s.i16x8
                                                          : s.i32x4;
      Value* na = half(builder.CreateBitCast(a, from), high);
      Value* nb = half(builder.CreateBitCast(b, from), high);
      result = builder.CreateMul(widen(na, isSigned), widen(nb, isSigned));
      break;
    }
    case Opcode::F32X4Add:
    case Opcode::F64X2Add:
      result = builder.CreateFAdd(hideIdentityConstant(a), hideIdentityConstant(b));
      break;
    case Opcode::F32X4Sub:
    case Opcode::F64X2Sub:
      result = builder.CreateFSub(hideIdentityConstant(a), hideIdentityConstant(b));
      break;
    case Opcode::F32X4Mul:
    case Opcode::F64X2Mul:
      result = builder.CreateFMul(hideIdentityConstant(a), hideIdentityConstant(b));
      break;
    case Opcode::F32X4Div:
    case Opcode::F64X2Div:
      result = builder.CreateFDiv(hideIdentityConstant(a), hideIdentityConstant(b));
      break;
    case Opcode::F32X4Min:
    case Opcode::F64X2Min: result = emitFloatMinMax(true, a, b); break;
    case Opcode::F32X4Max:
    case Opcode::F64X2Max: result = emitFloatMinMax(false, a, b); break;
    case Opcode::F32X4PMin:
    case Opcode::F64X2PMin: result = builder.CreateSelect(builder.CreateFCmpOLT(b, a), b, a); break;
    case Opcode::F32X4PMax:
    case Opcode::F64X2PMax: result = builder.CreateSelect(builder.CreateFCmpOLT(a, b), b, a); break;
    default: throw UnsupportedError{std::string("simd instruction ") + opcode.GetName()};
    }
    pushVector(result);
    return;
  }
  default: throw UnsupportedError{std::string("simd instruction ") + wabt::GetExprTypeName(expr)};
  }
}

} // namespace faasm::codegen
