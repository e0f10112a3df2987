// Linear memory accesses and their bounds checks.
//
// ============================================================================
// SAFETY-CRITICAL. Every guest load and store goes through memoryAddress();
// a mistake here lets a guest read or write the host's memory. Rules:
//  1. The 32-bit wasm address is ZERO-extended to 64 bits before anything is
//     added to it. Sign-extending would let a guest reach base - 2 GiB.
//  2. The static offset (u32) is added in 64-bit arithmetic, so
//     address + offset + size never wraps.
//  3. Guard mode: base + 2^32 + 2^32 + 16 lies inside the reservation
//     (abi::kGuardReservationBytes), all PROT_NONE beyond the current size, so
//     any address a guest can form faults inside it; the runtime's signal
//     handler turns that fault into a trap.
//     Explicit mode: the end of the access (address + offset + size, 64-bit) is
//     compared with VMContext::memorySize and the access traps before it runs.
//  4. A trap must happen exactly where the spec says, so the optimiser may not
//     delete a load whose value is unused nor move an access across another:
//     in guard mode the access itself is the check, so loads and stores are
//     volatile; in explicit mode the check is a branch to a call the
//     optimiser cannot see through, which already orders the accesses.
//     For the same reason global.set and table.set are volatile in guard
//     mode (EmitTable.cpp): what ran before a trap stays done.
//     The one exception is LoopVersioning.cpp: a loop whose accesses are
//     all proven in bounds before it starts runs a copy with ordinary ones.
// Changes here need a second reviewer, the hostile-module tests in
// tests/sandbox and the golden tests in tests/golden (memory-access,
// volatile-accesses).
// ============================================================================
#include "BoundsVersioning.h"
#include "EmitContext.h"

using namespace llvm;

namespace faasm::codegen {

Value* FunctionEmitter::memoryBase() {
  // The base never moves for the life of an instance (both modes reserve the
  // address space up front), so one load at the top of the function serves
  // every access.
  if (!cachedMemoryBase) {
    IRBuilder<>::InsertPointGuard guard(builder);
    BasicBlock& entry = function->getEntryBlock();
    builder.SetInsertPoint(&entry, entry.getFirstInsertionPt());
    cachedMemoryBase =
        contextField(offsetof(abi::VMContext, memoryBase), module.ptrTy, true, module.tbaaContext);
  }
  return cachedMemoryBase;
}

Value* FunctionEmitter::memorySize() {
  return contextField(offsetof(abi::VMContext, memorySize), module.i64Ty, false,
                      module.tbaaContext);
}

Value* FunctionEmitter::memoryAddress(Value* address, uint64_t offset, unsigned accessBytes) {
  assert(address->getType() == module.i32Ty);
  Value* effective = builder.CreateZExt(address, module.i64Ty); // rule 1: never sext
  if (offset != 0)
    effective = builder.CreateAdd(effective, builder.getInt64(offset), "", /*HasNUW=*/true);
  if (module.options.bounds == abi::BoundsMode::Explicit) {
    Value* end = builder.CreateAdd(effective, builder.getInt64(accessBytes), "", true);
    // `end > memorySize`, as a pure call until the bounds-versioning pass has
    // seen it (BoundsVersioning.cpp).
    Value* outside =
        builder.CreateCall(boundsCheckDeclaration(*module.llvmModule), {end, memorySize()});
    trapIf(outside, abi::TrapCode::MemoryOutOfBounds);
  }
  return builder.CreateInBoundsGEP(module.i8Ty, memoryBase(), effective);
}

LoadInst* FunctionEmitter::loadFromMemory(Type* type, Value* pointer) {
  LoadInst* load = builder.CreateAlignedLoad(type, pointer, MaybeAlign(1));
  load->setMetadata(LLVMContext::MD_tbaa, module.tbaaMemory);
  if (module.options.bounds == abi::BoundsMode::Guard) load->setVolatile(true); // rule 4
  return load;
}

StoreInst* FunctionEmitter::storeToMemory(Value* value, Value* pointer) {
  StoreInst* store = builder.CreateAlignedStore(value, pointer, MaybeAlign(1));
  store->setMetadata(LLVMContext::MD_tbaa, module.tbaaMemory);
  if (module.options.bounds == abi::BoundsMode::Guard) store->setVolatile(true); // rule 4
  return store;
}

namespace {

struct AccessShape {
  Type* memoryType; // what is read or written
  Type* valueType;  // the wasm value on the stack
  bool signExtend;
};

} // namespace

void FunctionEmitter::emitLoad(const wabt::LoadExpr& expr) {
  ModuleContext& m = module;
  AccessShape shape;
  switch (expr.opcode) {
  case wabt::Opcode::I32Load: shape = {m.i32Ty, m.i32Ty, false}; break;
  case wabt::Opcode::I64Load: shape = {m.i64Ty, m.i64Ty, false}; break;
  case wabt::Opcode::F32Load: shape = {m.f32Ty, m.f32Ty, false}; break;
  case wabt::Opcode::F64Load: shape = {m.f64Ty, m.f64Ty, false}; break;
  case wabt::Opcode::V128Load: shape = {m.v128Ty, m.v128Ty, false}; break;
  case wabt::Opcode::I32Load8S: shape = {m.i8Ty, m.i32Ty, true}; break;
  case wabt::Opcode::I32Load8U: shape = {m.i8Ty, m.i32Ty, false}; break;
  case wabt::Opcode::I32Load16S: shape = {m.i16Ty, m.i32Ty, true}; break;
  case wabt::Opcode::I32Load16U: shape = {m.i16Ty, m.i32Ty, false}; break;
  case wabt::Opcode::I64Load8S: shape = {m.i8Ty, m.i64Ty, true}; break;
  case wabt::Opcode::I64Load8U: shape = {m.i8Ty, m.i64Ty, false}; break;
  case wabt::Opcode::I64Load16S: shape = {m.i16Ty, m.i64Ty, true}; break;
  case wabt::Opcode::I64Load16U: shape = {m.i16Ty, m.i64Ty, false}; break;
  case wabt::Opcode::I64Load32S: shape = {m.i32Ty, m.i64Ty, true}; break;
  case wabt::Opcode::I64Load32U: shape = {m.i32Ty, m.i64Ty, false}; break;
  default: return emitSimd(expr); // v128.loadNxM_{s,u} and friends
  }
  Value* address = pop(m.i32Ty);
  unsigned bytes = (unsigned)expr.opcode.GetMemorySize();
  Value* value = loadFromMemory(shape.memoryType, memoryAddress(address, expr.offset, bytes));
  if (shape.memoryType != shape.valueType)
    value = shape.signExtend ? builder.CreateSExt(value, shape.valueType)
                             : builder.CreateZExt(value, shape.valueType);
  push(value);
}

void FunctionEmitter::emitStore(const wabt::StoreExpr& expr) {
  ModuleContext& m = module;
  Type* memoryType;
  switch (expr.opcode) {
  case wabt::Opcode::I32Store: memoryType = m.i32Ty; break;
  case wabt::Opcode::I64Store: memoryType = m.i64Ty; break;
  case wabt::Opcode::F32Store: memoryType = m.f32Ty; break;
  case wabt::Opcode::F64Store: memoryType = m.f64Ty; break;
  case wabt::Opcode::V128Store: memoryType = m.v128Ty; break;
  case wabt::Opcode::I32Store8:
  case wabt::Opcode::I64Store8: memoryType = m.i8Ty; break;
  case wabt::Opcode::I32Store16:
  case wabt::Opcode::I64Store16: memoryType = m.i16Ty; break;
  case wabt::Opcode::I64Store32: memoryType = m.i32Ty; break;
  default: throw UnsupportedError{std::string("store ") + expr.opcode.GetName()};
  }
  Value* value = pop();
  Value* address = pop(m.i32Ty);
  if (value->getType() != memoryType) {
    if (memoryType->isIntegerTy() && value->getType()->isIntegerTy())
      value = builder.CreateTrunc(value, memoryType);
    else
      value = builder.CreateBitCast(value, memoryType);
  }
  unsigned bytes = (unsigned)expr.opcode.GetMemorySize();
  storeToMemory(value, memoryAddress(address, expr.offset, bytes));
}

void FunctionEmitter::emitMemoryOp(const wabt::Expr& expr) {
  ModuleContext& m = module;
  FunctionType* voidWith3 =
      FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty, m.i32Ty, m.i32Ty}, false);
  switch (expr.type()) {
  case wabt::ExprType::MemorySize: {
    Value* pages = builder.CreateLShr(memorySize(), builder.getInt64(16));
    push(builder.CreateTrunc(pages, m.i32Ty));
    return;
  }
  case wabt::ExprType::MemoryGrow: {
    FunctionType* type = FunctionType::get(m.i32Ty, {m.ptrTy, m.i32Ty}, false);
    push(callRuntime(kRtMemoryGrow, type, {pop(m.i32Ty)}));
    return;
  }
  case wabt::ExprType::MemoryCopy:
  case wabt::ExprType::MemoryFill: {
    Value* length = pop(m.i32Ty);
    Value* source = pop(m.i32Ty); // the fill value for memory.fill
    Value* destination = pop(m.i32Ty);
    unsigned call = expr.type() == wabt::ExprType::MemoryCopy ? kRtMemoryCopy : kRtMemoryFill;
    callRuntime(call, voidWith3, {destination, source, length});
    return;
  }
  case wabt::ExprType::MemoryInit: {
    auto* init = wabt::cast<wabt::MemoryInitExpr>(&expr);
    Value* length = pop(m.i32Ty);
    Value* source = pop(m.i32Ty);
    Value* destination = pop(m.i32Ty);
    FunctionType* type =
        FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty, m.i32Ty, m.i32Ty, m.i32Ty}, false);
    uint32_t segment = m.wasm.GetDataSegmentIndex(init->var);
    callRuntime(kRtMemoryInit, type, {builder.getInt32(segment), destination, source, length});
    return;
  }
  case wabt::ExprType::DataDrop: {
    auto* drop = wabt::cast<wabt::DataDropExpr>(&expr);
    FunctionType* type = FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty}, false);
    callRuntime(kRtDataDrop, type, {builder.getInt32(m.wasm.GetDataSegmentIndex(drop->var))});
    return;
  }
  default: throw UnsupportedError{std::string("memory instruction ") + wabt::GetExprTypeName(expr)};
  }
}

} // namespace faasm::codegen
