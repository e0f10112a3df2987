// Loop versioning on bounds (LoopVersioning.cpp): one check in front of an
// innermost loop proves every covered linear-memory access in bounds for all
// its iterations, and the loop then runs a copy without per-access checks
// (explicit mode) or with ordinary loads and stores (guard mode), which LLVM
// may vectorise; the original loop runs when the check fails.
#pragma once

#include "faasm/abi/Abi.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Function.h>

namespace faasm::codegen {

class LoopReport;

// Versions every innermost loop of `function` it can and finds worth it.
// Returns whether anything changed. Keeps `loops` and `dominators` up to
// date while it works; the caller recomputes any other analysis.
// `report`, if given, gets a record of every loop: what was decided and why.
bool versionLoops(llvm::Function& function, abi::BoundsMode mode, llvm::LoopInfo& loops,
                  llvm::DominatorTree& dominators, llvm::ScalarEvolution& scev,
                  LoopReport* report = nullptr);

} // namespace faasm::codegen
