// The no-alias copy of a versioned loop (NoAliasCopy.cpp): the fast copy
// once more, entered when its groups of accesses are checked apart at run
// time, with scoped no-alias metadata saying so.
#pragma once

#include "BoundsProof.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/ADT/SmallVector.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>

namespace faasm::codegen {

inline constexpr unsigned kMaxAliasGroups = 4;

// Covered accesses whose offsets differ by a constant, with the bytes
// they span over the whole loop: [low, high). Valid under the bounds
// condition, which keeps every offset in i64 without wrapping, so an
// affine offset's extremes are its values at the first and last
// iteration.
struct AliasGroup {
  const llvm::SCEV* representative;
  const llvm::SCEV* low;
  const llvm::SCEV* high;
  bool stores;
  llvm::SmallVector<llvm::Instruction*, 8> members;
  bool severalOffsets; // members at more than one offset
};

using AliasPlan = llvm::SmallVector<AliasGroup, kMaxAliasGroups>;

// The groups whose ranges, checked apart at run time, let the fast copy
// say which accesses cannot alias; empty when there is nothing to gain
// (fewer than two groups, no store, no storing group at two offsets) or the
// shape is not known. `accesses` must be every access of the loop, all
// covered; `backedges` is the loop's bound on back edges (null: none).
AliasPlan planNoAliasCopy(BoundsProof& proof, llvm::ScalarEvolution& scev,
                          llvm::ArrayRef<Access> accesses, const llvm::Loop& loop,
                          const llvm::SCEV* backedges, unsigned instructions);

// Whether every range of the plan can be computed at `insertAt`.
bool canExpandAliasPlan(llvm::ArrayRef<AliasGroup> plan, llvm::SCEVExpander& expander,
                        llvm::Instruction* insertAt);

// An i1 at `builder`: every pair of groups of which one stores is apart.
llvm::Value* emitDisjointCheck(llvm::ArrayRef<AliasGroup> plan, llvm::SCEVExpander& expander,
                               llvm::IRBuilder<>& builder, llvm::Instruction* insertAt);

// `loop` (the fast copy) runs when `disjoint` holds, its accesses tagged
// with the plan's scopes; a copy of it without the tags, which is returned,
// runs otherwise.
llvm::Loop* makeNoAliasCopy(llvm::Loop& loop, llvm::ArrayRef<AliasGroup> plan,
                            llvm::Value* disjoint, llvm::LoopInfo& loops,
                            llvm::DominatorTree& dominators);

} // namespace faasm::codegen
