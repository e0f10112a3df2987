// Globals, tables and references. Tables are reached through
// VMContext::tables, globals through VMContext::globals, so imported and
// exported ones are shared with other instances with no copying.
#include "EmitContext.h"

using namespace llvm;

namespace faasm::codegen {

Value* FunctionEmitter::globalCell(uint32_t index) {
  Value* cells =
      contextField(offsetof(abi::VMContext, globals), module.ptrTy, true, module.tbaaContext);
  LoadInst* cell = builder.CreateLoad(
      module.ptrTy, builder.CreateConstInBoundsGEP1_64(module.ptrTy, cells, index));
  cell->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  cell->setMetadata(LLVMContext::MD_tbaa, module.tbaaContext);
  return cell;
}

void FunctionEmitter::emitGlobalGet(uint32_t index) {
  Type* type = module.wasmType(module.globalType(index));
  LoadInst* load = builder.CreateAlignedLoad(type, globalCell(index), MaybeAlign(16));
  load->setMetadata(LLVMContext::MD_tbaa, module.tbaaGlobal);
  if (!module.globalMutable(index))
    load->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  push(load);
}

void FunctionEmitter::emitGlobalSet(uint32_t index) {
  Type* type = module.wasmType(module.globalType(index));
  StoreInst* store = builder.CreateAlignedStore(pop(type), globalCell(index), MaybeAlign(16));
  store->setMetadata(LLVMContext::MD_tbaa, module.tbaaGlobal);
  // Guard mode: a linear-memory access may fault (trap) where it stands, and
  // the optimiser orders volatile operations only among themselves. So the
  // store is volatile too, never sunk past an access that traps nor merged
  // with a later one: the value is in the global when the trap ends the call
  // (tests/sandbox/trap-state.wast). Explicit mode traps through a call,
  // which orders it already.
  if (module.options.bounds == abi::BoundsMode::Guard) store->setVolatile(true);
}

Value* FunctionEmitter::tablePointer(uint32_t index) {
  Value* tables =
      contextField(offsetof(abi::VMContext, tables), module.ptrTy, true, module.tbaaContext);
  LoadInst* table = builder.CreateLoad(
      module.ptrTy, builder.CreateConstInBoundsGEP1_64(module.ptrTy, tables, index));
  table->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  table->setMetadata(LLVMContext::MD_tbaa, module.tbaaContext);
  return table;
}

Value* FunctionEmitter::funcRef(uint32_t funcIndex) {
  Value* refs =
      contextField(offsetof(abi::VMContext, funcs), module.ptrTy, true, module.tbaaContext);
  LoadInst* ref = builder.CreateLoad(
      module.ptrTy, builder.CreateConstInBoundsGEP1_64(module.ptrTy, refs, funcIndex));
  ref->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  ref->setMetadata(LLVMContext::MD_tbaa, module.tbaaContext);
  return ref;
}

void FunctionEmitter::emitTableOp(const wabt::Expr& expr) {
  ModuleContext& m = module;
  using wabt::cast;
  using wabt::ExprType;
  // Pointer to element `index` of table `table` after checking index < size.
  auto checkedElement = [&](Value* table, Value* index) {
    LoadInst* size = builder.CreateLoad(
        m.i32Ty, builder.CreateConstInBoundsGEP1_64(m.i8Ty, table, offsetof(abi::Table, size)));
    size->setMetadata(LLVMContext::MD_tbaa, m.tbaaTable);
    trapIf(builder.CreateICmpUGE(index, size), abi::TrapCode::TableOutOfBounds);
    LoadInst* elements = builder.CreateLoad(m.ptrTy, table);
    elements->setMetadata(LLVMContext::MD_tbaa, m.tbaaTable);
    return builder.CreateInBoundsGEP(m.ptrTy, elements, builder.CreateZExt(index, m.i64Ty));
  };

  switch (expr.type()) {
  case ExprType::RefNull: push(ConstantPointerNull::get(m.ptrTy)); return;
  case ExprType::RefIsNull:
    push(builder.CreateZExt(builder.CreateIsNull(pop(m.ptrTy)), m.i32Ty));
    return;
  case ExprType::RefFunc:
    push(funcRef(m.wasm.GetFuncIndex(cast<wabt::RefFuncExpr>(&expr)->var)));
    return;
  case ExprType::TableGet: {
    uint32_t table = m.wasm.GetTableIndex(cast<wabt::TableGetExpr>(&expr)->var);
    Value* index = pop(m.i32Ty);
    LoadInst* load = builder.CreateLoad(m.ptrTy, checkedElement(tablePointer(table), index));
    load->setMetadata(LLVMContext::MD_tbaa, m.tbaaTable);
    push(load);
    return;
  }
  case ExprType::TableSet: {
    uint32_t table = m.wasm.GetTableIndex(cast<wabt::TableSetExpr>(&expr)->var);
    Value* value = pop(m.ptrTy);
    Value* index = pop(m.i32Ty);
    StoreInst* store = builder.CreateStore(value, checkedElement(tablePointer(table), index));
    store->setMetadata(LLVMContext::MD_tbaa, m.tbaaTable);
    if (m.options.bounds == abi::BoundsMode::Guard)
      store->setVolatile(true); // as global.set: done before a later access faults
    return;
  }
  case ExprType::TableSize: {
    uint32_t table = m.wasm.GetTableIndex(cast<wabt::TableSizeExpr>(&expr)->var);
    LoadInst* size =
        builder.CreateLoad(m.i32Ty, builder.CreateConstInBoundsGEP1_64(m.i8Ty, tablePointer(table),
                                                                       offsetof(abi::Table, size)));
    size->setMetadata(LLVMContext::MD_tbaa, m.tbaaTable);
    push(size);
    return;
  }
  case ExprType::TableGrow: {
    uint32_t table = m.wasm.GetTableIndex(cast<wabt::TableGrowExpr>(&expr)->var);
    Value* delta = pop(m.i32Ty);
    Value* init = pop(m.ptrTy);
    FunctionType* type = FunctionType::get(m.i32Ty, {m.ptrTy, m.i32Ty, m.ptrTy, m.i32Ty}, false);
    push(callRuntime(kRtTableGrow, type, {builder.getInt32(table), init, delta}));
    return;
  }
  case ExprType::TableFill: {
    uint32_t table = m.wasm.GetTableIndex(cast<wabt::TableFillExpr>(&expr)->var);
    Value* length = pop(m.i32Ty);
    Value* value = pop(m.ptrTy);
    Value* destination = pop(m.i32Ty);
    FunctionType* type =
        FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty, m.i32Ty, m.ptrTy, m.i32Ty}, false);
    callRuntime(kRtTableFill, type, {builder.getInt32(table), destination, value, length});
    return;
  }
  case ExprType::TableCopy: {
    auto* copy = cast<wabt::TableCopyExpr>(&expr);
    Value* length = pop(m.i32Ty);
    Value* source = pop(m.i32Ty);
    Value* destination = pop(m.i32Ty);
    FunctionType* type =
        FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty, m.i32Ty, m.i32Ty, m.i32Ty, m.i32Ty}, false);
    callRuntime(kRtTableCopy, type,
                {builder.getInt32(m.wasm.GetTableIndex(copy->dst_table)),
                 builder.getInt32(m.wasm.GetTableIndex(copy->src_table)), destination, source,
                 length});
    return;
  }
  case ExprType::TableInit: {
    auto* init = cast<wabt::TableInitExpr>(&expr);
    Value* length = pop(m.i32Ty);
    Value* source = pop(m.i32Ty);
    Value* destination = pop(m.i32Ty);
    FunctionType* type =
        FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty, m.i32Ty, m.i32Ty, m.i32Ty, m.i32Ty}, false);
    callRuntime(kRtTableInit, type,
                {builder.getInt32(m.wasm.GetTableIndex(init->table_index)),
                 builder.getInt32(m.wasm.GetElemSegmentIndex(init->segment_index)), destination,
                 source, length});
    return;
  }
  case ExprType::ElemDrop: {
    auto* drop = cast<wabt::ElemDropExpr>(&expr);
    FunctionType* type = FunctionType::get(m.voidTy, {m.ptrTy, m.i32Ty}, false);
    callRuntime(kRtElemDrop, type, {builder.getInt32(m.wasm.GetElemSegmentIndex(drop->var))});
    return;
  }
  default: throw UnsupportedError{std::string("table instruction ") + wabt::GetExprTypeName(expr)};
  }
}

} // namespace faasm::codegen
