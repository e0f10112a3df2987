// The pass that removes bounds checks LLVM cannot: loop versioning on
// bounds (one check before an innermost loop proves every linear-memory
// access of the loop in bounds for all its iterations, and the loop then
// runs a copy without per-access checks in explicit mode, or with ordinary
// loads and stores in guard mode, which LLVM may vectorise), its no-alias
// copy, and merged explicit checks. Each is argued in its own file; the
// order is BoundsVersioning.cpp's.
#pragma once

#include "faasm/abi/Abi.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>

namespace faasm::codegen {

class LoopReport;

// Explicit mode's bounds check, `trap if end > memorySize`, is emitted as a
// call to this pure function until the versioning pass has seen it, so the
// optimiser cannot rewrite the comparison into a shape the pass does not
// know. lowerBoundsChecks() turns every remaining call into the comparison.
inline constexpr const char* kBoundsCheckFunction = "faasm.bounds.outside";

// Declares (once per module) i1 faasm.bounds.outside(i64 end, i64 memorySize).
llvm::Function* boundsCheckDeclaration(llvm::Module& module);

// Replaces every call to the check function by `icmp ugt end, memorySize`.
// Must run before code generation, at every optimisation level.
void lowerBoundsChecks(llvm::Module& module);

class BoundsVersioningPass : public llvm::PassInfoMixin<BoundsVersioningPass> {
public:
  // `report`, if given, receives a record of every loop (--report-loops).
  explicit BoundsVersioningPass(abi::BoundsMode mode, LoopReport* report = nullptr)
      : mode_(mode), report_(report) {}
  llvm::PreservedAnalyses run(llvm::Function& function, llvm::FunctionAnalysisManager& analyses);

private:
  abi::BoundsMode mode_;
  LoopReport* report_;
};

} // namespace faasm::codegen
