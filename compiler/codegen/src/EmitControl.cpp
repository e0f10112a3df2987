// Function bodies: structured control flow, calls, locals and the helpers
// every instruction family shares.
//
// WebAssembly's control flow is structured, so everything after an
// unconditional transfer (br, br_table, return, unreachable) in the same
// instruction sequence is dead: emitBody skips it, and a block's end is
// reachable only if something branched to it or fell through into it.
#include "CodeMap.h"
#include "EmitContext.h"
#include "LoopReport.h"
#include "WasmLimits.h"

#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/IntrinsicsX86.h>

using namespace llvm;

namespace faasm::codegen {

FunctionEmitter::FunctionEmitter(ModuleContext& module, const wabt::Func& func,
                                 llvm::Function* function)
    : module(module), func(func), function(function),
      offsets(functionOffsets(func, module.wasmBytes)), builder(module.ctx) {}

namespace {

// Whether the body can call anything: only such functions can recurse, so
// only they need a stack-limit check. A loop over an explicit stack of
// sequences: the nesting depth is the input's to choose.
bool containsCalls(const wabt::ExprList& body) {
  std::vector<const wabt::ExprList*> pending{&body};
  while (!pending.empty()) {
    const wabt::ExprList* exprs = pending.back();
    pending.pop_back();
    for (const wabt::Expr& expr : *exprs) {
      switch (expr.type()) {
      case wabt::ExprType::Call:
      case wabt::ExprType::CallIndirect: return true;
      case wabt::ExprType::Block:
        pending.push_back(&wabt::cast<wabt::BlockExpr>(&expr)->block.exprs);
        break;
      case wabt::ExprType::Loop:
        pending.push_back(&wabt::cast<wabt::LoopExpr>(&expr)->block.exprs);
        break;
      case wabt::ExprType::If: {
        auto* ifExpr = wabt::cast<wabt::IfExpr>(&expr);
        pending.push_back(&ifExpr->true_.exprs);
        pending.push_back(&ifExpr->false_);
        break;
      }
      default: break;
      }
    }
  }
  return false;
}

wabt::Opcode numericOpcode(const wabt::Expr& expr) {
  switch (expr.type()) {
  case wabt::ExprType::Unary: return wabt::cast<wabt::UnaryExpr>(&expr)->opcode;
  case wabt::ExprType::Binary: return wabt::cast<wabt::BinaryExpr>(&expr)->opcode;
  case wabt::ExprType::Compare: return wabt::cast<wabt::CompareExpr>(&expr)->opcode;
  default: return wabt::cast<wabt::ConvertExpr>(&expr)->opcode;
  }
}

} // namespace

void FunctionEmitter::emit() {
  BasicBlock* entry = BasicBlock::Create(module.ctx, "entry", function);
  builder.SetInsertPoint(entry);
  // The prologue (the stack check among it) is the first instruction's.
  locate(offsets.firstInstruction);
  auto arg = function->arg_begin();
  vmctx = &*arg++;

  for (uint32_t i = 0; i < func.GetNumParamsAndLocals(); ++i) {
    wabt::Type type = func.GetLocalType(wabt::Var(i, wabt::Location()));
    localTypes.push_back(type);
    AllocaInst* slot = builder.CreateAlloca(module.wasmType(type));
    locals.push_back(slot);
    if (i < func.GetNumParams())
      builder.CreateStore(&*arg++, slot);
    else
      builder.CreateStore(Constant::getNullValue(module.wasmType(type)), slot);
  }

  // Frames of many locals can be large even without calls; check those too.
  if (containsCalls(func.exprs) || func.GetNumParamsAndLocals() > 4096) emitStackCheck();

  BasicBlock* returnBlock = newBlock("return");
  Frame frame{Frame::Function, returnBlock, returnBlock, {}, {}, {}, func.decl.sig.result_types, 0};
  frame.branchPhis = makePhis(returnBlock, frame.results);
  frame.exprs = &func.exprs;
  frame.next = func.exprs.begin();
  frames.push_back(std::move(frame));

  emitBody();
  if (reachable) {
    addIncoming(frames.back().branchPhis, frames.back().results.size());
    builder.CreateBr(returnBlock);
  }
  Frame done = std::move(frames.back());
  frames.pop_back();
  finishPhis(returnBlock, done.branchPhis);
  if (!reachable) return; // the function never returns normally

  std::vector<Value*> results(done.branchPhis.begin(), done.branchPhis.end());
  if (ModuleContext::resultsInMemory(func.decl.sig)) {
    Value* out = function->getArg(function->arg_size() - 1);
    for (size_t i = 0; i < results.size(); ++i)
      builder.CreateAlignedStore(
          results[i], builder.CreateConstInBoundsGEP1_64(module.i8Ty, out, i * sizeof(abi::Value)),
          Align(16));
    builder.CreateRetVoid();
  } else if (results.empty()) {
    builder.CreateRetVoid();
  } else if (results.size() == 1) {
    builder.CreateRet(results[0]);
  } else {
    Value* aggregate = UndefValue::get(function->getReturnType());
    for (unsigned i = 0; i < results.size(); ++i)
      aggregate = builder.CreateInsertValue(aggregate, results[i], i);
    builder.CreateRet(aggregate);
  }
}

// ----- Helpers ---------------------------------------------------------------

BasicBlock* FunctionEmitter::newBlock(const char* name) {
  return BasicBlock::Create(module.ctx, name, function);
}

Value* FunctionEmitter::pop() {
  assert(!stack.empty() && (frames.empty() || stack.size() > frames.back().stackBase) &&
         "value stack underflow: the validator should have rejected this");
  Value* value = stack.back();
  stack.pop_back();
  return value;
}

Value* FunctionEmitter::pop(Type* expected) {
  Value* value = pop();
  if (value->getType() != expected) value = builder.CreateBitCast(value, expected);
  return value;
}

std::vector<Value*> FunctionEmitter::popN(size_t count) {
  assert(stack.size() >= count);
  std::vector<Value*> values(stack.end() - count, stack.end());
  stack.resize(stack.size() - count);
  return values;
}

Value* FunctionEmitter::contextField(unsigned offset, Type* type, bool invariant, MDNode* tbaa) {
  Value* address = builder.CreateConstInBoundsGEP1_64(module.i8Ty, vmctx, offset);
  LoadInst* load = builder.CreateLoad(type, address);
  if (invariant) load->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  if (tbaa) load->setMetadata(LLVMContext::MD_tbaa, tbaa);
  return load;
}

Value* FunctionEmitter::loadRuntimeCall(unsigned index) {
  Value* calls = contextField(offsetof(abi::VMContext, rt), module.ptrTy, true, module.tbaaContext);
  Value* slot = builder.CreateConstInBoundsGEP1_64(module.ptrTy, calls, index);
  LoadInst* load = builder.CreateLoad(module.ptrTy, slot);
  load->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  load->setMetadata(LLVMContext::MD_tbaa, module.tbaaContext);
  return load;
}

CallInst* FunctionEmitter::callRuntime(unsigned index, FunctionType* type, ArrayRef<Value*> args) {
  std::vector<Value*> all{vmctx};
  all.insert(all.end(), args.begin(), args.end());
  return builder.CreateCall(type, loadRuntimeCall(index), all);
}

BasicBlock* FunctionEmitter::trapEdge(abi::TrapCode code) {
  TrapBlock& t = trapBlocks[code];
  if (!t.block || t.edges == kTrapEdgesPerBlock) {
    t.block = makeTrapBlock(*function, vmctx, code, t.site);
    t.edges = 0;
  }
  t.edges++;
  t.site->addIncoming(builder.getInt32(currentOffset), builder.GetInsertBlock());
  return t.block;
}

void FunctionEmitter::trapIf(Value* condition, abi::TrapCode code) {
  BasicBlock* next = newBlock("ok");
  MDBuilder weights(module.ctx);
  builder.CreateCondBr(condition, trapEdge(code), next, weights.createUnlikelyBranchWeights());
  builder.SetInsertPoint(next);
}

Value* FunctionEmitter::intrinsic(Intrinsic::ID id, ArrayRef<Type*> types, ArrayRef<Value*> args) {
  Function* callee = Intrinsic::getDeclaration(module.llvmModule.get(), id, types);
  return builder.CreateCall(callee, args);
}

void FunctionEmitter::markUnreachable() {
  reachable = false;
  builder.ClearInsertionPoint();
}

// Unbounded recursion must trap, not run off the end of the native stack: a
// function that can call compares its stack pointer with the limit the
// runtime put in the VMContext (which leaves room for host calls and the
// signal handler below it).
void FunctionEmitter::emitStackCheck() {
  MDNode* rsp = MDNode::get(module.ctx, MDString::get(module.ctx, "rsp"));
  Function* readRegister =
      Intrinsic::getDeclaration(module.llvmModule.get(), Intrinsic::read_register, {module.i64Ty});
  Value* sp = builder.CreateCall(readRegister, {MetadataAsValue::get(module.ctx, rsp)});
  Value* limit =
      contextField(offsetof(abi::VMContext, stackLimit), module.i64Ty, true, module.tbaaContext);
  trapIf(builder.CreateICmpULT(sp, limit), abi::TrapCode::StackExhausted);
}

std::vector<PHINode*> FunctionEmitter::makePhis(BasicBlock* block, const wabt::TypeVector& types) {
  IRBuilder<>::InsertPointGuard guard(builder);
  builder.SetInsertPoint(block);
  std::vector<PHINode*> phis;
  for (wabt::Type type : types)
    phis.push_back(builder.CreatePHI(module.wasmType(type), 2));
  return phis;
}

// Adds the top `count` stack values (left in place) as the incoming values
// from the current block.
void FunctionEmitter::addIncoming(std::vector<PHINode*>& phis, size_t count) {
  assert(phis.size() == count && stack.size() >= count);
  BasicBlock* from = builder.GetInsertBlock();
  for (size_t i = 0; i < count; ++i) {
    Value* value = stack[stack.size() - count + i];
    if (value->getType() != phis[i]->getType())
      value = builder.CreateBitCast(value, phis[i]->getType());
    phis[i]->addIncoming(value, from);
  }
}

// Positions the builder at the end of a block whose branches are all known:
// reachable with its phis as the values, or erased if nothing reaches it.
void FunctionEmitter::finishPhis(BasicBlock* block, std::vector<PHINode*>& phis) {
  if (pred_empty(block)) {
    for (PHINode* phi : phis)
      phi->eraseFromParent();
    phis.clear();
    block->eraseFromParent();
    markUnreachable();
    return;
  }
  builder.SetInsertPoint(block);
  reachable = true;
}

// ----- Control flow ----------------------------------------------------------

namespace {

// What a trap or a backtrace can name: an instruction that can trap, fault
// or call (the runtime, the host or a function). Only these carry their
// offset; the others get line 0 (their function, no instruction): half of
// the compile time the locations cost (mlp_eigen: 1.63 s without any, 1.87
// with every instruction's, 1.73 with these), and no report loses anything.
bool canTrapOrCall(const wabt::Expr& expr) {
  switch (expr.type()) {
  case wabt::ExprType::Binary:
    switch (wabt::cast<wabt::BinaryExpr>(&expr)->opcode) {
    case wabt::Opcode::I32DivS:
    case wabt::Opcode::I32DivU:
    case wabt::Opcode::I32RemS:
    case wabt::Opcode::I32RemU:
    case wabt::Opcode::I64DivS:
    case wabt::Opcode::I64DivU:
    case wabt::Opcode::I64RemS:
    case wabt::Opcode::I64RemU: return true;
    default: return false;
    }
  case wabt::ExprType::Convert: // the trapping truncations (and others: cheap to keep)
  case wabt::ExprType::Call:
  case wabt::ExprType::CallIndirect:
  case wabt::ExprType::Load:
  case wabt::ExprType::Store:
  case wabt::ExprType::LoadSplat:
  case wabt::ExprType::LoadZero:
  case wabt::ExprType::SimdLoadLane:
  case wabt::ExprType::SimdStoreLane:
  case wabt::ExprType::MemoryGrow:
  case wabt::ExprType::MemoryCopy:
  case wabt::ExprType::MemoryFill:
  case wabt::ExprType::MemoryInit:
  case wabt::ExprType::DataDrop:
  case wabt::ExprType::TableGet:
  case wabt::ExprType::TableSet:
  case wabt::ExprType::TableGrow:
  case wabt::ExprType::TableFill:
  case wabt::ExprType::TableCopy:
  case wabt::ExprType::TableInit:
  case wabt::ExprType::ElemDrop:
  case wabt::ExprType::Unreachable: return true;
  default: return false;
  }
}

} // namespace

void FunctionEmitter::locate(const wabt::Expr& expr) {
  auto found = offsets.starts.find(&expr);
  locate(found == offsets.starts.end() || !canTrapOrCall(expr) ? 0 : found->second);
}

void FunctionEmitter::locate(uint32_t wasmOffset) {
  currentOffset = wasmOffset;
  DISubprogram* subprogram = function->getSubprogram();
  if (!subprogram) return;
  builder.SetCurrentDebugLocation(DILocation::get(module.ctx, wasmOffset, 0, subprogram));
}

// Translates the function's instructions: a loop over the innermost open
// frame's sequence. A block, loop or if pushes a frame and translation goes
// on inside it; when a sequence ends (or the rest of it is dead, see the top
// of the file) finishFrame closes its frame. Returns with only the
// function's frame left.
void FunctionEmitter::emitBody() {
  for (;;) {
    Frame& top = frames.back();
    if (reachable && *top.next != top.exprs->end()) {
      const wabt::Expr& expr = *(*top.next)++;
      locate(expr);
      emitExpr(expr); // may push a frame, which invalidates `top`
      continue;
    }
    if (frames.size() == 1) return;
    finishFrame();
  }
}

void FunctionEmitter::beginBlock(const wabt::Block& block, Frame::Kind kind, size_t offset) {
  const wabt::FuncSignature& sig = module.blockSignature(block.decl);
  size_t numParams = sig.param_types.size();
  Frame frame{kind, nullptr,         nullptr,          {},
              {},   sig.param_types, sig.result_types, stack.size() - numParams};
  frame.exprs = &block.exprs;
  frame.next = block.exprs.begin();

  if (kind == Frame::Loop) {
    BasicBlock* header =
        module.options.loopReportPath.empty()
            ? newBlock("loop")
            : BasicBlock::Create(module.ctx, kLoopBlockPrefix + std::to_string(offset), function);
    frame.branchTarget = header;
    frame.branchPhis = makePhis(header, sig.param_types);
    addIncoming(frame.branchPhis, numParams);
    builder.CreateBr(header);
    builder.SetInsertPoint(header);
    stack.resize(frame.stackBase);
    for (PHINode* phi : frame.branchPhis)
      stack.push_back(phi);
  } else {
    frame.endBlock = newBlock("block.end");
    frame.branchTarget = frame.endBlock;
    frame.branchPhis = makePhis(frame.endBlock, sig.result_types);
  }
  frames.push_back(std::move(frame));
}

void FunctionEmitter::beginIf(const wabt::IfExpr& expr) {
  Value* condition = builder.CreateICmpNE(pop(module.i32Ty), builder.getInt32(0));
  const wabt::FuncSignature& sig = module.blockSignature(expr.true_.decl);
  std::vector<Value*> params = popN(sig.param_types.size());

  BasicBlock* thenBlock = newBlock("if.then");
  BasicBlock* elseBlock = newBlock("if.else");
  BasicBlock* endBlock = newBlock("if.end");
  builder.CreateCondBr(condition, thenBlock, elseBlock);

  Frame frame{Frame::If, endBlock,        endBlock,         {},
              {},        sig.param_types, sig.result_types, stack.size()};
  frame.branchPhis = makePhis(endBlock, sig.result_types);
  frame.elseBlock = elseBlock;
  frame.ifParams = std::move(params);
  frame.ifExpr = &expr;
  frame.exprs = &expr.true_.exprs;
  frame.next = expr.true_.exprs.begin();
  builder.SetInsertPoint(thenBlock);
  reachable = true;
  stack.insert(stack.end(), frame.ifParams.begin(), frame.ifParams.end());
  frames.push_back(std::move(frame));
}

// Closes the innermost frame once its sequence is done: falls through to
// its end (if reachable) and leaves its results on the stack. For an if
// whose then arm is done, starts the else arm (an absent else passes the
// params through) instead.
void FunctionEmitter::finishFrame() {
  Frame& self = frames.back();
  if (self.kind == Frame::Loop) {
    // A loop's end is reached only by falling out of its body, with the
    // results on the stack already.
    size_t base = self.stackBase;
    frames.pop_back();
    if (!reachable) stack.resize(base);
    return;
  }
  if (reachable) {
    addIncoming(self.branchPhis, self.results.size());
    builder.CreateBr(self.endBlock);
  }
  stack.resize(self.stackBase);
  if (self.kind == Frame::If && !self.inElse) {
    self.inElse = true;
    self.exprs = &self.ifExpr->false_;
    self.next = self.exprs->begin();
    builder.SetInsertPoint(self.elseBlock);
    reachable = true;
    stack.insert(stack.end(), self.ifParams.begin(), self.ifParams.end());
    return;
  }
  Frame done = std::move(self);
  frames.pop_back();
  finishPhis(done.endBlock, done.branchPhis);
  for (PHINode* phi : done.branchPhis)
    stack.push_back(phi);
}

void FunctionEmitter::emitBranch(uint32_t depth) {
  Frame& target = frameAt(depth);
  size_t count = target.kind == Frame::Loop ? target.params.size() : target.results.size();
  addIncoming(target.branchPhis, count);
  builder.CreateBr(target.branchTarget);
  markUnreachable();
}

void FunctionEmitter::emitBrIf(uint32_t depth) {
  Value* condition = builder.CreateICmpNE(pop(module.i32Ty), builder.getInt32(0));
  Frame& target = frameAt(depth);
  size_t count = target.kind == Frame::Loop ? target.params.size() : target.results.size();
  addIncoming(target.branchPhis, count);
  BasicBlock* next = newBlock("br_if.cont");
  builder.CreateCondBr(condition, target.branchTarget, next);
  builder.SetInsertPoint(next);
}

void FunctionEmitter::emitBrTable(const wabt::BrTableExpr& expr) {
  Value* index = pop(module.i32Ty);
  BasicBlock* from = builder.GetInsertBlock();
  // One edge block per distinct target, so each target's phis get exactly one
  // incoming entry per predecessor however many table slots name it.
  std::map<uint32_t, BasicBlock*> edges;
  auto edgeTo = [&](uint32_t depth) {
    auto found = edges.find(depth);
    if (found != edges.end()) return found->second;
    BasicBlock* edge = newBlock("br_table.edge");
    builder.SetInsertPoint(edge);
    Frame& target = frameAt(depth);
    size_t count = target.kind == Frame::Loop ? target.params.size() : target.results.size();
    addIncoming(target.branchPhis, count);
    builder.CreateBr(target.branchTarget);
    edges[depth] = edge;
    return edge;
  };
  BasicBlock* defaultEdge = edgeTo(expr.default_target.index());
  std::vector<BasicBlock*> caseEdges;
  for (const wabt::Var& target : expr.targets)
    caseEdges.push_back(edgeTo(target.index()));
  builder.SetInsertPoint(from);
  SwitchInst* switchInst = builder.CreateSwitch(index, defaultEdge, (unsigned)caseEdges.size());
  for (size_t i = 0; i < caseEdges.size(); ++i)
    switchInst->addCase(builder.getInt32((uint32_t)i), caseEdges[i]);
  markUnreachable();
}

void FunctionEmitter::emitReturn() {
  emitBranch((uint32_t)frames.size() - 1);
}

// ----- Calls -----------------------------------------------------------------

void FunctionEmitter::emitCallWithSignature(Value* code, Value* calleeContext,
                                            const wabt::FuncSignature& sig) {
  std::vector<Value*> args = popN(sig.param_types.size());
  FunctionType* type = module.functionType(sig);
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i]->getType() != type->getParamType((unsigned)i + 1))
      args[i] = builder.CreateBitCast(args[i], type->getParamType((unsigned)i + 1));
  args.insert(args.begin(), calleeContext);
  size_t numResults = sig.result_types.size();
  if (ModuleContext::resultsInMemory(sig)) {
    // The results' slots: one buffer for every such call of the function
    // (each call's results are loaded right after it), large enough for
    // the most results a type may have, in the entry block.
    if (!resultSlots) {
      IRBuilder<>::InsertPointGuard guard(builder);
      BasicBlock& entry = function->getEntryBlock();
      builder.SetInsertPoint(&entry, entry.getFirstInsertionPt());
      resultSlots = builder.CreateAlloca(
          ArrayType::get(module.i8Ty, WasmLimits::kResults * sizeof(abi::Value)));
      resultSlots->setAlignment(Align(16));
    }
    Value* slots = resultSlots;
    args.push_back(slots);
    // Each call keeps its own return address and location: a frame of a
    // trap's backtrace then names the call it returns to (merged, two host
    // calls lost their locations).
    builder.CreateCall(type, code, args)->addFnAttr(Attribute::NoMerge);
    for (size_t i = 0; i < numResults; ++i)
      push(builder.CreateAlignedLoad(
          module.wasmType(sig.result_types[i]),
          builder.CreateConstInBoundsGEP1_64(module.i8Ty, slots, i * sizeof(abi::Value)),
          Align(16)));
    return;
  }
  CallInst* call = builder.CreateCall(type, code, args);
  call->addFnAttr(Attribute::NoMerge);
  if (numResults == 1) {
    push(call);
  } else if (numResults > 1) {
    for (unsigned i = 0; i < numResults; ++i)
      push(builder.CreateExtractValue(call, i));
  }
}

// Calls the function a FuncRef names, with the VMContext it carries (its own
// instance's, or the importer's for a host function). A FuncRef never changes
// once made, so its fields are invariant loads.
void FunctionEmitter::emitCallThroughRef(Value* ref, const wabt::FuncSignature& sig) {
  LoadInst* code = builder.CreateLoad(module.ptrTy, ref);
  code->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  LoadInst* context = builder.CreateLoad(
      module.ptrTy,
      builder.CreateConstInBoundsGEP1_64(module.i8Ty, ref, offsetof(abi::FuncRef, vmctx)));
  context->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  emitCallWithSignature(code, context, sig);
}

void FunctionEmitter::emitCall(uint32_t funcIndex) {
  const wabt::FuncSignature& sig = module.funcSignature(funcIndex);
  if (funcIndex >= module.numImportedFuncs) {
    emitCallWithSignature(module.definedFunctions[funcIndex - module.numImportedFuncs], vmctx, sig);
    return;
  }
  // An import: another instance's function or a host function, through the
  // target the runtime resolved when it linked the instance (abi::ImportCall,
  // after the VMContext): one load from vmctx, not funcs -> FuncRef -> code.
  // The target never changes once linked, so its loads are invariant and
  // leave a loop with the first call.
  Value* slot = builder.CreateConstInBoundsGEP1_64(
      module.i8Ty, vmctx, abi::kImportCallsOffset + uint64_t(funcIndex) * sizeof(abi::ImportCall));
  LoadInst* code = builder.CreateLoad(
      module.ptrTy,
      builder.CreateConstInBoundsGEP1_64(module.i8Ty, slot, offsetof(abi::ImportCall, code)));
  LoadInst* context = builder.CreateLoad(
      module.ptrTy,
      builder.CreateConstInBoundsGEP1_64(module.i8Ty, slot, offsetof(abi::ImportCall, vmctx)));
  for (LoadInst* load : {code, context}) {
    load->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
    load->setMetadata(LLVMContext::MD_tbaa, module.tbaaContext);
  }
  emitCallWithSignature(code, context, sig);
}

void FunctionEmitter::emitCallIndirect(const wabt::CallIndirectExpr& expr) {
  uint32_t typeIndex = module.wasm.GetFuncTypeIndex(expr.decl);
  const wabt::FuncSignature& sig = module.typeSignature(typeIndex);
  Value* index = pop(module.i32Ty);

  Value* table = tablePointer(expr.table.index());
  LoadInst* size = builder.CreateLoad(
      module.i32Ty,
      builder.CreateConstInBoundsGEP1_64(module.i8Ty, table, offsetof(abi::Table, size)));
  size->setMetadata(LLVMContext::MD_tbaa, module.tbaaTable);
  trapIf(builder.CreateICmpUGE(index, size), abi::TrapCode::UndefinedElement);
  LoadInst* elements = builder.CreateLoad(module.ptrTy, table);
  elements->setMetadata(LLVMContext::MD_tbaa, module.tbaaTable);
  LoadInst* ref = builder.CreateLoad(
      module.ptrTy,
      builder.CreateInBoundsGEP(module.ptrTy, elements, builder.CreateZExt(index, module.i64Ty)));
  ref->setMetadata(LLVMContext::MD_tbaa, module.tbaaTable);
  trapIf(builder.CreateIsNull(ref), abi::TrapCode::UninitializedElement);

  Value* typeIds =
      contextField(offsetof(abi::VMContext, typeIds), module.ptrTy, true, module.tbaaContext);
  LoadInst* expected = builder.CreateLoad(
      module.i32Ty, builder.CreateConstInBoundsGEP1_64(module.i32Ty, typeIds, typeIndex));
  expected->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  LoadInst* actual = builder.CreateLoad(
      module.i32Ty,
      builder.CreateConstInBoundsGEP1_64(module.i8Ty, ref, offsetof(abi::FuncRef, typeId)));
  actual->setMetadata(LLVMContext::MD_invariant_load, module.emptyNode);
  trapIf(builder.CreateICmpNE(expected, actual), abi::TrapCode::IndirectCallTypeMismatch);

  emitCallThroughRef(ref, sig);
}

// ----- Dispatch --------------------------------------------------------------

void FunctionEmitter::emitExpr(const wabt::Expr& expr) {
  using wabt::cast;
  using wabt::ExprType;
  switch (expr.type()) {
  case ExprType::Nop: return;
  case ExprType::Unreachable:
    builder.CreateBr(trapEdge(abi::TrapCode::Unreachable));
    markUnreachable();
    return;
  case ExprType::Block: return beginBlock(cast<wabt::BlockExpr>(&expr)->block, Frame::Block);
  case ExprType::Loop:
    return beginBlock(cast<wabt::LoopExpr>(&expr)->block, Frame::Loop, expr.loc.offset);
  case ExprType::If: return beginIf(*cast<wabt::IfExpr>(&expr));
  case ExprType::Br: return emitBranch(cast<wabt::BrExpr>(&expr)->var.index());
  case ExprType::BrIf: return emitBrIf(cast<wabt::BrIfExpr>(&expr)->var.index());
  case ExprType::BrTable: return emitBrTable(*cast<wabt::BrTableExpr>(&expr));
  case ExprType::Return: return emitReturn();
  case ExprType::Call: return emitCall(module.wasm.GetFuncIndex(cast<wabt::CallExpr>(&expr)->var));
  case ExprType::CallIndirect: return emitCallIndirect(*cast<wabt::CallIndirectExpr>(&expr));
  case ExprType::Drop: pop(); return;
  case ExprType::Select: {
    Value* condition = builder.CreateICmpNE(pop(module.i32Ty), builder.getInt32(0));
    Value* ifFalse = pop();
    Value* ifTrue = pop();
    if (ifFalse->getType() != ifTrue->getType())
      ifFalse = builder.CreateBitCast(ifFalse, ifTrue->getType());
    push(builder.CreateSelect(condition, ifTrue, ifFalse));
    return;
  }
  case ExprType::LocalGet: {
    uint32_t index = func.GetLocalIndex(cast<wabt::LocalGetExpr>(&expr)->var);
    push(builder.CreateLoad(locals[index]->getAllocatedType(), locals[index]));
    return;
  }
  case ExprType::LocalSet: {
    uint32_t index = func.GetLocalIndex(cast<wabt::LocalSetExpr>(&expr)->var);
    builder.CreateStore(pop(locals[index]->getAllocatedType()), locals[index]);
    return;
  }
  case ExprType::LocalTee: {
    uint32_t index = func.GetLocalIndex(cast<wabt::LocalTeeExpr>(&expr)->var);
    Value* value = pop(locals[index]->getAllocatedType());
    builder.CreateStore(value, locals[index]);
    push(value);
    return;
  }
  case ExprType::GlobalGet:
    return emitGlobalGet(module.wasm.GetGlobalIndex(cast<wabt::GlobalGetExpr>(&expr)->var));
  case ExprType::GlobalSet:
    return emitGlobalSet(module.wasm.GetGlobalIndex(cast<wabt::GlobalSetExpr>(&expr)->var));
  case ExprType::Const: return emitConst(cast<wabt::ConstExpr>(&expr)->const_);
  case ExprType::Unary:
  case ExprType::Binary:
  case ExprType::Compare:
  case ExprType::Convert: {
    wabt::Opcode opcode = numericOpcode(expr);
    if (isVectorOpcode(opcode)) // v128 operations are EmitSimd's
      return emitSimd(expr);
    switch (expr.type()) {
    case ExprType::Unary: return emitUnary(opcode);
    case ExprType::Binary: return emitBinary(opcode);
    case ExprType::Compare: return emitCompare(opcode);
    default: return emitConvert(opcode);
    }
  }
  case ExprType::Load: return emitLoad(*cast<wabt::LoadExpr>(&expr));
  case ExprType::Store: return emitStore(*cast<wabt::StoreExpr>(&expr));
  case ExprType::MemorySize:
  case ExprType::MemoryGrow:
  case ExprType::MemoryCopy:
  case ExprType::MemoryFill:
  case ExprType::MemoryInit:
  case ExprType::DataDrop: return emitMemoryOp(expr);
  case ExprType::TableGet:
  case ExprType::TableSet:
  case ExprType::TableSize:
  case ExprType::TableGrow:
  case ExprType::TableFill:
  case ExprType::TableCopy:
  case ExprType::TableInit:
  case ExprType::ElemDrop:
  case ExprType::RefNull:
  case ExprType::RefIsNull:
  case ExprType::RefFunc: return emitTableOp(expr);
  case ExprType::Ternary:
  case ExprType::SimdLaneOp:
  case ExprType::SimdLoadLane:
  case ExprType::SimdStoreLane:
  case ExprType::SimdShuffleOp:
  case ExprType::LoadSplat:
  case ExprType::LoadZero: return emitSimd(expr);
  default:
    throw UnsupportedError{std::string("instruction outside WebAssembly 2.0: ") +
                           wabt::GetExprTypeName(expr)};
  }
}

} // namespace faasm::codegen
