// Merging explicit bounds checks along straight-line code (CheckMerging.cpp).
#pragma once

#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Function.h>

namespace faasm::codegen {

// Along a run of blocks joined by explicit checks, with no store, call or
// volatile access in between, checks of accesses at constant offsets from
// one address become one check of the largest end, at the first. Returns
// whether anything changed.
bool mergeChecks(llvm::Function& function, llvm::ScalarEvolution& scev);

} // namespace faasm::codegen
