// The bounds-versioning pass (see BoundsVersioning.h) and explicit mode's
// check function.
//
// ============================================================================
// SUBTLE: this pass removes bounds checks, through three transformations,
// each argued in its own file:
//  - LoopVersioning.cpp: a loop proven in bounds up front (BoundsProof.cpp)
//    runs a copy without per-access checks or volatile accesses;
//  - NoAliasCopy.cpp: that copy, once more, with no-alias metadata, where
//    its groups of accesses are checked apart at run time;
//  - CheckMerging.cpp: explicit checks of constant offsets from one address
//    along straight-line code become one.
// Loops are versioned first; checks are merged afterwards in what is left
// (straight-line code, the checked copies of loops), with scalar evolution
// computed again.
// Explicit checks stay calls to a pure function until then, so that the
// optimiser cannot rewrite the comparison into a shape these
// transformations do not know; lowerBoundsChecks turns them into compares
// before code generation, at every optimisation level.
// ============================================================================
#include "BoundsVersioning.h"

#include "CheckMerging.h"
#include "LoopVersioning.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>

using namespace llvm;

namespace faasm::codegen {

Function* boundsCheckDeclaration(Module& module) {
  if (Function* existing = module.getFunction(kBoundsCheckFunction)) return existing;
  LLVMContext& ctx = module.getContext();
  Type* i64 = Type::getInt64Ty(ctx);
  FunctionType* type = FunctionType::get(Type::getInt1Ty(ctx), {i64, i64}, false);
  Function* f = Function::Create(type, GlobalValue::ExternalLinkage, kBoundsCheckFunction, module);
  f->setDoesNotAccessMemory();
  f->setDoesNotThrow();
  f->setWillReturn();
  f->setNoSync();
  f->setDoesNotFreeMemory();
  f->addFnAttr(Attribute::Speculatable);
  return f;
}

void lowerBoundsChecks(Module& module) {
  Function* check = module.getFunction(kBoundsCheckFunction);
  if (!check) return;
  for (User* user : make_early_inc_range(check->users())) {
    auto* call = cast<CallInst>(user);
    IRBuilder<> builder(call);
    call->replaceAllUsesWith(builder.CreateICmpUGT(call->getArgOperand(0), call->getArgOperand(1)));
    call->eraseFromParent();
  }
  check->eraseFromParent();
}

PreservedAnalyses BoundsVersioningPass::run(Function& function, FunctionAnalysisManager& analyses) {
  if (function.isDeclaration() || function.arg_empty()) return PreservedAnalyses::all();
  auto& loops = analyses.getResult<LoopAnalysis>(function);
  auto& dominators = analyses.getResult<DominatorTreeAnalysis>(function);
  auto& scev = analyses.getResult<ScalarEvolutionAnalysis>(function);
  bool changed = !loops.empty() && versionLoops(function, mode_, loops, dominators, scev, report_);
  if (changed) {
    analyses.invalidate(function, PreservedAnalyses::none());
  }
  auto& freshScev = analyses.getResult<ScalarEvolutionAnalysis>(function);
  changed |= mergeChecks(function, freshScev);
  return changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace faasm::codegen
