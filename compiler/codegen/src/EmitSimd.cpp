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

// The low or the high half of the lanes.
Value* halfOf(IRBuilder<>& builder, Value* v, bool high) {
  unsigned n = cast<FixedVectorType>(v->getType())->getNumElements();
  return builder.CreateShuffleVector(v, range(high ? n / 2 : 0, n / 2));
}

// Lanes twice as wide, as many of them.
Value* widenLanes(IRBuilder<>& builder, Value* v, bool isSigned) {
  auto* type = cast<FixedVectorType>(v->getType());
  Type* wide = FixedVectorType::get(
      IntegerType::get(v->getContext(), type->getScalarSizeInBits() * 2), type->getNumElements());
  return isSigned ? builder.CreateSExt(v, wide) : builder.CreateZExt(v, wide);
}

Value* splat(IRBuilder<>& builder, Value* scalar, FixedVectorType* type) {
  return builder.CreateVectorSplat(type->getNumElements(), scalar);
}

// A shift count taken modulo the lane width, in every lane.
Value* shiftAmount(IRBuilder<>& builder, FixedVectorType* type, Value* count) {
  unsigned bits = type->getScalarSizeInBits();
  Value* masked = builder.CreateAnd(count, builder.getInt32(bits - 1));
  Value* scalar = builder.CreateZExtOrTrunc(masked, type->getElementType());
  return splat(builder, scalar, type);
}

// <N x i1> -> lanes of all ones or all zeros, as wasm comparisons produce.
Value* laneMaskOf(IRBuilder<>& builder, Value* cmp, FixedVectorType* type) {
  return builder.CreateSExt(cmp, FixedVectorType::getInteger(type));
}

Value* saturate(IRBuilder<>& builder, Value* v, int64_t lo, int64_t hi) {
  Type* type = v->getType();
  Value* clamped =
      builder.CreateBinaryIntrinsic(Intrinsic::smax, v, ConstantInt::get(type, lo, true));
  return builder.CreateBinaryIntrinsic(Intrinsic::smin, clamped, ConstantInt::get(type, hi, true));
}

// Operations that are one LLVM intrinsic applied lane by lane.
struct LanewiseIntrinsic {
  Opcode::Enum opcode;
  Intrinsic::ID id;
};

constexpr LanewiseIntrinsic kUnaryIntrinsics[] = {
    {Opcode::I8X16Popcnt, Intrinsic::ctpop},      {Opcode::F32X4Abs, Intrinsic::fabs},
    {Opcode::F64X2Abs, Intrinsic::fabs},          {Opcode::F32X4Sqrt, Intrinsic::sqrt},
    {Opcode::F64X2Sqrt, Intrinsic::sqrt},         {Opcode::F32X4Ceil, Intrinsic::ceil},
    {Opcode::F64X2Ceil, Intrinsic::ceil},         {Opcode::F32X4Floor, Intrinsic::floor},
    {Opcode::F64X2Floor, Intrinsic::floor},       {Opcode::F32X4Trunc, Intrinsic::trunc},
    {Opcode::F64X2Trunc, Intrinsic::trunc},       {Opcode::F32X4Nearest, Intrinsic::roundeven},
    {Opcode::F64X2Nearest, Intrinsic::roundeven},
};

constexpr LanewiseIntrinsic kBinaryIntrinsics[] = {
    {Opcode::I8X16AddSatS, Intrinsic::sadd_sat}, {Opcode::I16X8AddSatS, Intrinsic::sadd_sat},
    {Opcode::I8X16AddSatU, Intrinsic::uadd_sat}, {Opcode::I16X8AddSatU, Intrinsic::uadd_sat},
    {Opcode::I8X16SubSatS, Intrinsic::ssub_sat}, {Opcode::I16X8SubSatS, Intrinsic::ssub_sat},
    {Opcode::I8X16SubSatU, Intrinsic::usub_sat}, {Opcode::I16X8SubSatU, Intrinsic::usub_sat},
    {Opcode::I8X16MinS, Intrinsic::smin},        {Opcode::I16X8MinS, Intrinsic::smin},
    {Opcode::I32X4MinS, Intrinsic::smin},        {Opcode::I8X16MinU, Intrinsic::umin},
    {Opcode::I16X8MinU, Intrinsic::umin},        {Opcode::I32X4MinU, Intrinsic::umin},
    {Opcode::I8X16MaxS, Intrinsic::smax},        {Opcode::I16X8MaxS, Intrinsic::smax},
    {Opcode::I32X4MaxS, Intrinsic::smax},        {Opcode::I8X16MaxU, Intrinsic::umax},
    {Opcode::I16X8MaxU, Intrinsic::umax},        {Opcode::I32X4MaxU, Intrinsic::umax},
};

// The intrinsic of `opcode` in `table`, or not_intrinsic.
template <size_t N>
Intrinsic::ID lanewiseIntrinsic(const LanewiseIntrinsic (&table)[N], Opcode opcode) {
  for (const LanewiseIntrinsic& row : table)
    if (row.opcode == opcode) return row.id;
  return Intrinsic::not_intrinsic;
}

// extend_low/extend_high: half the lanes of `from`, each widened.
struct LaneExtension {
  Opcode::Enum opcode;
  FixedVectorType* Shapes::* from;
  bool high;
  bool isSigned;
};

constexpr LaneExtension kLaneExtensions[] = {
    {Opcode::I16X8ExtendLowI8X16S, &Shapes::i8x16, false, true},
    {Opcode::I16X8ExtendHighI8X16S, &Shapes::i8x16, true, true},
    {Opcode::I16X8ExtendLowI8X16U, &Shapes::i8x16, false, false},
    {Opcode::I16X8ExtendHighI8X16U, &Shapes::i8x16, true, false},
    {Opcode::I32X4ExtendLowI16X8S, &Shapes::i16x8, false, true},
    {Opcode::I32X4ExtendHighI16X8S, &Shapes::i16x8, true, true},
    {Opcode::I32X4ExtendLowI16X8U, &Shapes::i16x8, false, false},
    {Opcode::I32X4ExtendHighI16X8U, &Shapes::i16x8, true, false},
    {Opcode::I64X2ExtendLowI32X4S, &Shapes::i32x4, false, true},
    {Opcode::I64X2ExtendHighI32X4S, &Shapes::i32x4, true, true},
    {Opcode::I64X2ExtendLowI32X4U, &Shapes::i32x4, false, false},
    {Opcode::I64X2ExtendHighI32X4U, &Shapes::i32x4, true, false},
};

const LaneExtension* laneExtension(Opcode opcode) {
  for (const LaneExtension& row : kLaneExtensions)
    if (row.opcode == opcode) return &row;
  return nullptr;
}

[[noreturn]] void unsupportedSimd(Opcode opcode) {
  throw UnsupportedError{std::string("simd instruction ") + opcode.GetName()};
}

} // namespace

void FunctionEmitter::emitSimd(const wabt::Expr& expr) {
  using wabt::cast;
  switch (expr.type()) {
  case wabt::ExprType::Load: return emitSimdExtendingLoad(*cast<wabt::LoadExpr>(&expr));
  case wabt::ExprType::LoadSplat:
  case wabt::ExprType::LoadZero: return emitSimdScalarLoad(expr);
  case wabt::ExprType::SimdLoadLane: return emitSimdLoadLane(*cast<wabt::SimdLoadLaneExpr>(&expr));
  case wabt::ExprType::SimdStoreLane:
    return emitSimdStoreLane(*cast<wabt::SimdStoreLaneExpr>(&expr));
  case wabt::ExprType::SimdShuffleOp: return emitSimdShuffle(*cast<wabt::SimdShuffleOpExpr>(&expr));
  case wabt::ExprType::SimdLaneOp: return emitSimdLaneOp(*cast<wabt::SimdLaneOpExpr>(&expr));
  case wabt::ExprType::Ternary: return emitSimdBitSelect(cast<wabt::TernaryExpr>(&expr)->opcode);
  case wabt::ExprType::Unary: return emitSimdUnary(cast<wabt::UnaryExpr>(&expr)->opcode);
  case wabt::ExprType::Convert: return emitSimdUnary(cast<wabt::ConvertExpr>(&expr)->opcode);
  case wabt::ExprType::Compare: return emitSimdCompare(cast<wabt::CompareExpr>(&expr)->opcode);
  case wabt::ExprType::Binary: return emitSimdBinary(cast<wabt::BinaryExpr>(&expr)->opcode);
  default: throw UnsupportedError{std::string("simd instruction ") + wabt::GetExprTypeName(expr)};
  }
}

// ----- Memory ----------------------------------------------------------------

// v128.loadNxM_{s,u}: 8 bytes, each lane widened.
void FunctionEmitter::emitSimdExtendingLoad(const wabt::LoadExpr& load) {
  ModuleContext& m = module;
  Value* address = pop(m.i32Ty);
  unsigned lanes;
  bool isSigned;
  Type* lane;
  switch (load.opcode) {
  case Opcode::V128Load8X8S: lanes = 8, isSigned = true, lane = m.i8Ty; break;
  case Opcode::V128Load8X8U: lanes = 8, isSigned = false, lane = m.i8Ty; break;
  case Opcode::V128Load16X4S: lanes = 4, isSigned = true, lane = m.i16Ty; break;
  case Opcode::V128Load16X4U: lanes = 4, isSigned = false, lane = m.i16Ty; break;
  case Opcode::V128Load32X2S: lanes = 2, isSigned = true, lane = m.i32Ty; break;
  case Opcode::V128Load32X2U: lanes = 2, isSigned = false, lane = m.i32Ty; break;
  default: throw UnsupportedError{std::string("load ") + load.opcode.GetName()};
  }
  Value* narrow =
      loadFromMemory(FixedVectorType::get(lane, lanes), memoryAddress(address, load.offset, 8));
  pushVector(widenLanes(builder, narrow, isSigned));
}

// v128.loadN_splat and v128.loadN_zero: one scalar, in every lane or in lane 0.
void FunctionEmitter::emitSimdScalarLoad(const wabt::Expr& expr) {
  ModuleContext& m = module;
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
    pushVector(splat(builder, scalar, type));
  } else {
    pushVector(builder.CreateInsertElement(Constant::getNullValue(type), scalar, (uint64_t)0));
  }
}

void FunctionEmitter::emitSimdLoadLane(const wabt::SimdLoadLaneExpr& load) {
  ModuleContext& m = module;
  unsigned bytes = (unsigned)load.opcode.GetMemorySize();
  Type* scalarType = IntegerType::get(m.ctx, bytes * 8);
  FixedVectorType* type = FixedVectorType::get(scalarType, 16 / bytes);
  Value* vector = popVector(type);
  Value* address = pop(m.i32Ty);
  Value* scalar = loadFromMemory(scalarType, memoryAddress(address, load.offset, bytes));
  pushVector(builder.CreateInsertElement(vector, scalar, load.val));
}

void FunctionEmitter::emitSimdStoreLane(const wabt::SimdStoreLaneExpr& store) {
  ModuleContext& m = module;
  unsigned bytes = (unsigned)store.opcode.GetMemorySize();
  Type* scalarType = IntegerType::get(m.ctx, bytes * 8);
  FixedVectorType* type = FixedVectorType::get(scalarType, 16 / bytes);
  Value* vector = popVector(type);
  Value* address = pop(m.i32Ty);
  Value* pointer = memoryAddress(address, store.offset, bytes);
  storeToMemory(builder.CreateExtractElement(vector, store.val), pointer);
}

// ----- Lanes -----------------------------------------------------------------

void FunctionEmitter::emitSimdShuffle(const wabt::SimdShuffleOpExpr& shuffle) {
  Shapes s(module);
  Value* b = popVector(s.i8x16);
  Value* a = popVector(s.i8x16);
  SmallVector<int, 16> mask;
  for (int i = 0; i < 16; ++i)
    mask.push_back(shuffle.val.u8(i));
  pushVector(builder.CreateShuffleVector(a, b, mask));
}

// extract_lane (an i8 or i16 lane extended to i32) and replace_lane.
void FunctionEmitter::emitSimdLaneOp(const wabt::SimdLaneOpExpr& laneOp) {
  ModuleContext& m = module;
  Shapes s(m);
  Opcode opcode = laneOp.opcode;
  FixedVectorType* type = shapeOf(s, opcode);
  uint64_t lane = laneOp.val;
  switch (opcode) {
  case Opcode::I8X16ExtractLaneS:
  case Opcode::I16X8ExtractLaneS:
    push(builder.CreateSExt(builder.CreateExtractElement(popVector(type), lane), m.i32Ty));
    return;
  case Opcode::I8X16ExtractLaneU:
  case Opcode::I16X8ExtractLaneU:
    push(builder.CreateZExt(builder.CreateExtractElement(popVector(type), lane), m.i32Ty));
    return;
  case Opcode::I32X4ExtractLane:
  case Opcode::I64X2ExtractLane:
  case Opcode::F32X4ExtractLane:
  case Opcode::F64X2ExtractLane: push(builder.CreateExtractElement(popVector(type), lane)); return;
  default: { // replace_lane
    Value* scalar = pop();
    if (scalar->getType()->isIntegerTy() && scalar->getType() != type->getElementType())
      scalar = builder.CreateTrunc(scalar, type->getElementType());
    pushVector(builder.CreateInsertElement(popVector(type), scalar, lane));
    return;
  }
  }
}

void FunctionEmitter::emitSimdBitSelect(Opcode opcode) {
  ModuleContext& m = module;
  if (opcode != Opcode::V128BitSelect)
    throw UnsupportedError{std::string("instruction outside WebAssembly 2.0: ") + opcode.GetName()};
  Value* mask = popVector(m.v128Ty);
  Value* b = popVector(m.v128Ty);
  Value* a = popVector(m.v128Ty);
  pushVector(
      builder.CreateOr(builder.CreateAnd(a, mask), builder.CreateAnd(b, builder.CreateNot(mask))));
}

// ----- One operand -------------------------------------------------------------

// Unary operations and conversions: lane-wise ones here, those that reduce
// the lanes to an i32 and those that change the lane shape in their own phases.
void FunctionEmitter::emitSimdUnary(Opcode opcode) {
  ModuleContext& m = module;
  Shapes s(m);
  FixedVectorType* type = shapeOf(s, opcode);
  if (Intrinsic::ID id = lanewiseIntrinsic(kUnaryIntrinsics, opcode);
      id != Intrinsic::not_intrinsic) {
    pushVector(intrinsic(id, {type}, {popVector(type)}));
    return;
  }
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
    pushVector(splat(builder, scalar, type));
    return;
  }
  case Opcode::V128Not: pushVector(builder.CreateNot(popVector(m.v128Ty))); return;
  case Opcode::I8X16Abs:
  case Opcode::I16X8Abs:
  case Opcode::I32X4Abs:
  case Opcode::I64X2Abs:
    pushVector(builder.CreateBinaryIntrinsic(Intrinsic::abs, popVector(type), builder.getFalse()));
    return;
  case Opcode::I8X16Neg:
  case Opcode::I16X8Neg:
  case Opcode::I32X4Neg:
  case Opcode::I64X2Neg: pushVector(builder.CreateNeg(popVector(type))); return;
  case Opcode::F32X4Neg:
  case Opcode::F64X2Neg: pushVector(builder.CreateFNeg(popVector(type))); return;
  case Opcode::V128AnyTrue:
  case Opcode::I8X16AllTrue:
  case Opcode::I16X8AllTrue:
  case Opcode::I32X4AllTrue:
  case Opcode::I64X2AllTrue:
  case Opcode::I8X16Bitmask:
  case Opcode::I16X8Bitmask:
  case Opcode::I32X4Bitmask:
  case Opcode::I64X2Bitmask: return emitSimdLaneTest(opcode, type);
  default: return emitSimdConvert(opcode);
  }
}

// any_true, all_true and bitmask: the lanes reduced to an i32.
void FunctionEmitter::emitSimdLaneTest(Opcode opcode, FixedVectorType* type) {
  ModuleContext& m = module;
  switch (opcode) {
  case Opcode::V128AnyTrue: {
    Value* bits = builder.CreateBitCast(popVector(m.v128Ty), builder.getIntNTy(128));
    push(builder.CreateZExt(builder.CreateICmpNE(bits, builder.getIntN(128, 0)), m.i32Ty));
    return;
  }
  case Opcode::I8X16AllTrue:
  case Opcode::I16X8AllTrue:
  case Opcode::I32X4AllTrue:
  case Opcode::I64X2AllTrue: {
    Value* nonZero = builder.CreateICmpNE(popVector(type), Constant::getNullValue(type));
    push(builder.CreateZExt(builder.CreateAndReduce(nonZero), m.i32Ty));
    return;
  }
  default: { // bitmask
    Value* negative = builder.CreateICmpSLT(popVector(type), Constant::getNullValue(type));
    Value* bits = builder.CreateBitCast(negative, builder.getIntNTy(type->getNumElements()));
    push(builder.CreateZExt(bits, m.i32Ty));
    return;
  }
  }
}

// Conversions that change the lane shape: extensions, pairwise sums,
// float <-> int (saturating towards int), demotion and promotion.
void FunctionEmitter::emitSimdConvert(Opcode opcode) {
  ModuleContext& m = module;
  Shapes s(m);
  if (const LaneExtension* extension = laneExtension(opcode)) {
    Value* half = halfOf(builder, popVector(s.*extension->from), extension->high);
    pushVector(widenLanes(builder, half, extension->isSigned));
    return;
  }
  switch (opcode) {
  case Opcode::I16X8ExtaddPairwiseI8X16S:
  case Opcode::I16X8ExtaddPairwiseI8X16U:
  case Opcode::I32X4ExtaddPairwiseI16X8S:
  case Opcode::I32X4ExtaddPairwiseI16X8U: {
    bool isSigned =
        opcode == Opcode::I16X8ExtaddPairwiseI8X16S || opcode == Opcode::I32X4ExtaddPairwiseI16X8S;
    FixedVectorType* from =
        opcode == Opcode::I16X8ExtaddPairwiseI8X16S || opcode == Opcode::I16X8ExtaddPairwiseI8X16U
            ? s.i8x16
            : s.i16x8;
    Value* wide = widenLanes(builder, popVector(from), isSigned);
    int n = (int)from->getNumElements();
    Value* even = builder.CreateShuffleVector(wide, range(0, n / 2, 2));
    Value* odd = builder.CreateShuffleVector(wide, range(1, n / 2, 2));
    pushVector(builder.CreateAdd(even, odd));
    return;
  }
  case Opcode::I32X4TruncSatF32X4S:
    pushVector(intrinsic(Intrinsic::fptosi_sat, {s.i32x4, s.f32x4}, {popVector(s.f32x4)}));
    return;
  case Opcode::I32X4TruncSatF32X4U:
    pushVector(intrinsic(Intrinsic::fptoui_sat, {s.i32x4, s.f32x4}, {popVector(s.f32x4)}));
    return;
  case Opcode::I32X4TruncSatF64X2SZero:
  case Opcode::I32X4TruncSatF64X2UZero: {
    FixedVectorType* i32x2 = FixedVectorType::get(m.i32Ty, 2);
    Intrinsic::ID id =
        opcode == Opcode::I32X4TruncSatF64X2SZero ? Intrinsic::fptosi_sat : Intrinsic::fptoui_sat;
    Value* narrow = intrinsic(id, {i32x2, s.f64x2}, {popVector(s.f64x2)});
    pushVector(builder.CreateShuffleVector(narrow, Constant::getNullValue(i32x2), range(0, 4)));
    return;
  }
  case Opcode::F32X4ConvertI32X4S:
    pushVector(builder.CreateSIToFP(popVector(s.i32x4), s.f32x4));
    return;
  case Opcode::F32X4ConvertI32X4U:
    pushVector(builder.CreateUIToFP(popVector(s.i32x4), s.f32x4));
    return;
  case Opcode::F64X2ConvertLowI32X4S:
    pushVector(builder.CreateSIToFP(halfOf(builder, popVector(s.i32x4), false), s.f64x2));
    return;
  case Opcode::F64X2ConvertLowI32X4U:
    pushVector(builder.CreateUIToFP(halfOf(builder, popVector(s.i32x4), false), s.f64x2));
    return;
  case Opcode::F32X4DemoteF64X2Zero: {
    FixedVectorType* f32x2 = FixedVectorType::get(m.f32Ty, 2);
    Value* narrow = builder.CreateFPTrunc(popVector(s.f64x2), f32x2);
    pushVector(builder.CreateShuffleVector(narrow, Constant::getNullValue(f32x2), range(0, 4)));
    return;
  }
  case Opcode::F64X2PromoteLowF32X4:
    pushVector(builder.CreateFPExt(halfOf(builder, popVector(s.f32x4), false), s.f64x2));
    return;
  default: unsupportedSimd(opcode);
  }
}

// ----- Two operands --------------------------------------------------------------

void FunctionEmitter::emitSimdCompare(Opcode opcode) {
  Shapes s(module);
  FixedVectorType* type = shapeOf(s, opcode);
  Value* b = popVector(type);
  Value* a = popVector(type);
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
  pushVector(laneMaskOf(builder, builder.CreateCmp(predicate, a, b), type));
}

// Binary operations: shifts (a vector and an i32 count) and narrowing (two
// vectors into one of narrower lanes) in their own phases; the rest take two
// vectors of one shape.
void FunctionEmitter::emitSimdBinary(Opcode opcode) {
  Shapes s(module);
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
  case Opcode::I64X2ShrU: return emitSimdShift(opcode, type);
  case Opcode::I8X16NarrowI16X8S:
  case Opcode::I8X16NarrowI16X8U:
  case Opcode::I16X8NarrowI32X4S:
  case Opcode::I16X8NarrowI32X4U: return emitSimdNarrow(opcode);
  default: break;
  }
  Value* b = popVector(type);
  Value* a = popVector(type);
  Value* result;
  if (Intrinsic::ID id = lanewiseIntrinsic(kBinaryIntrinsics, opcode);
      id != Intrinsic::not_intrinsic)
    result = builder.CreateBinaryIntrinsic(id, a, b);
  else
    result = emitSimdLanewiseBinary(opcode, type, a, b);
  pushVector(result);
}

void FunctionEmitter::emitSimdShift(Opcode opcode, FixedVectorType* type) {
  ModuleContext& m = module;
  Value* count = pop(m.i32Ty);
  Value* a = popVector(type);
  Value* amount = shiftAmount(builder, type, count);
  std::string_view name = opcode.GetName();
  Value* result = name.ends_with("shl")     ? builder.CreateShl(a, amount)
                  : name.ends_with("shr_s") ? builder.CreateAShr(a, amount)
                                            : builder.CreateLShr(a, amount);
  pushVector(result);
}

// narrow_{s,u}: the lanes of both operands, each saturated to the narrower lane.
void FunctionEmitter::emitSimdNarrow(Opcode opcode) {
  Shapes s(module);
  bool toBytes = opcode == Opcode::I8X16NarrowI16X8S || opcode == Opcode::I8X16NarrowI16X8U;
  bool isSigned = opcode == Opcode::I8X16NarrowI16X8S || opcode == Opcode::I16X8NarrowI32X4S;
  FixedVectorType* from = toBytes ? s.i16x8 : s.i32x4;
  FixedVectorType* to = toBytes ? s.i8x16 : s.i16x8;
  Value* b = popVector(from);
  Value* a = popVector(from);
  int n = (int)from->getNumElements();
  Value* both = builder.CreateShuffleVector(a, b, range(0, 2 * n));
  unsigned bits = to->getScalarSizeInBits();
  int64_t lo = isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  int64_t hi = isSigned ? (int64_t(1) << (bits - 1)) - 1 : (int64_t(1) << bits) - 1;
  pushVector(builder.CreateTrunc(saturate(builder, both, lo, hi), to));
}

// Two vectors of one shape, lane by lane: bitwise, integer and float
// arithmetic, and the operations x86 has no single instruction for
// (emitSimdComposedBinary).
Value* FunctionEmitter::emitSimdLanewiseBinary(Opcode opcode, FixedVectorType* type, Value* a,
                                               Value* b) {
  switch (opcode) {
  case Opcode::V128And: return builder.CreateAnd(a, b);
  case Opcode::V128Or: return builder.CreateOr(a, b);
  case Opcode::V128Xor: return builder.CreateXor(a, b);
  case Opcode::V128Andnot: return builder.CreateAnd(a, builder.CreateNot(b));
  case Opcode::I8X16Add:
  case Opcode::I16X8Add:
  case Opcode::I32X4Add:
  case Opcode::I64X2Add: return builder.CreateAdd(a, b);
  case Opcode::I8X16Sub:
  case Opcode::I16X8Sub:
  case Opcode::I32X4Sub:
  case Opcode::I64X2Sub: return builder.CreateSub(a, b);
  case Opcode::I16X8Mul:
  case Opcode::I32X4Mul:
  case Opcode::I64X2Mul: return builder.CreateMul(a, b);
  case Opcode::F32X4Add:
  case Opcode::F64X2Add:
    return builder.CreateFAdd(hideIdentityConstant(a), hideIdentityConstant(b));
  case Opcode::F32X4Sub:
  case Opcode::F64X2Sub:
    return builder.CreateFSub(hideIdentityConstant(a), hideIdentityConstant(b));
  case Opcode::F32X4Mul:
  case Opcode::F64X2Mul:
    return builder.CreateFMul(hideIdentityConstant(a), hideIdentityConstant(b));
  case Opcode::F32X4Div:
  case Opcode::F64X2Div:
    return builder.CreateFDiv(hideIdentityConstant(a), hideIdentityConstant(b));
  case Opcode::F32X4Min:
  case Opcode::F64X2Min: return emitFloatMinMax(true, a, b);
  case Opcode::F32X4Max:
  case Opcode::F64X2Max: return emitFloatMinMax(false, a, b);
  case Opcode::F32X4PMin:
  case Opcode::F64X2PMin: return builder.CreateSelect(builder.CreateFCmpOLT(b, a), b, a);
  case Opcode::F32X4PMax:
  case Opcode::F64X2PMax: return builder.CreateSelect(builder.CreateFCmpOLT(a, b), b, a);
  default: return emitSimdComposedBinary(opcode, type, a, b);
  }
}

// Lane-wise operations composed of several LLVM ones: rounding average,
// Q15 multiplication, swizzle, dot product and extended multiplication.
Value* FunctionEmitter::emitSimdComposedBinary(Opcode opcode, FixedVectorType* type, Value* a,
                                               Value* b) {
  ModuleContext& m = module;
  Shapes s(m);
  switch (opcode) {
  case Opcode::I8X16AvgrU:
  case Opcode::I16X8AvgrU: {
    Value* wa = widenLanes(builder, a, false);
    Value* wb = widenLanes(builder, b, false);
    Value* one = ConstantInt::get(wa->getType(), 1);
    Value* sum = builder.CreateAdd(builder.CreateAdd(wa, wb), one);
    return builder.CreateTrunc(builder.CreateLShr(sum, one), type);
  }
  case Opcode::I16X8Q15mulrSatS: {
    FixedVectorType* wide = FixedVectorType::get(m.i32Ty, 8);
    Value* product = builder.CreateMul(builder.CreateSExt(a, wide), builder.CreateSExt(b, wide));
    Value* rounded = builder.CreateAShr(builder.CreateAdd(product, ConstantInt::get(wide, 0x4000)),
                                        ConstantInt::get(wide, 15));
    return builder.CreateTrunc(saturate(builder, rounded, -32768, 32767), type);
  }
  case Opcode::I8X16Swizzle: {
    // pshufb zeroes a lane whose index has its top bit set; a saturating
    // add of 0x70 sets it for every index >= 16 and keeps 0..15 intact.
    Value* indices =
        builder.CreateBinaryIntrinsic(Intrinsic::uadd_sat, b, ConstantInt::get(s.i8x16, 0x70));
    return intrinsic(Intrinsic::x86_ssse3_pshuf_b_128, {}, {a, indices});
  }
  case Opcode::I32X4DotI16X8S: {
    FixedVectorType* wide = FixedVectorType::get(m.i32Ty, 8);
    Value* product = builder.CreateMul(builder.CreateSExt(builder.CreateBitCast(a, s.i16x8), wide),
                                       builder.CreateSExt(builder.CreateBitCast(b, s.i16x8), wide));
    Value* even = builder.CreateShuffleVector(product, range(0, 4, 2));
    Value* odd = builder.CreateShuffleVector(product, range(1, 4, 2));
    return builder.CreateAdd(even, odd);
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
    Value* na = halfOf(builder, builder.CreateBitCast(a, from), high);
    Value* nb = halfOf(builder, builder.CreateBitCast(b, from), high);
    return builder.CreateMul(widenLanes(builder, na, isSigned), widenLanes(builder, nb, isSigned));
  }
  default: unsupportedSimd(opcode);
  }
}

} // namespace faasm::codegen
