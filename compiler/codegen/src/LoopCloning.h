// Copying a loop behind a run-time condition (LoopCloning.cpp).
#pragma once

#include <llvm/ADT/Twine.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Value.h>

namespace faasm::codegen {

// The clone of `loop` (with a new preheader) that runs when `condition`,
// evaluated at the end of `preheader`, is false; `loop` runs when true.
// The loop's blocks get no suffix; the new preheader of `loop` is named
// after `preheader` with `loopSuffix`, the clone's blocks get `cloneSuffix`.
// Keeps `loops` up to date and recomputes `dominators`.
llvm::Loop* cloneBehind(llvm::Loop& loop, llvm::BasicBlock* preheader, llvm::Value* condition,
                        const llvm::Twine& loopSuffix, const llvm::Twine& cloneSuffix,
                        llvm::LoopInfo& loops, llvm::DominatorTree& dominators);

} // namespace faasm::codegen
