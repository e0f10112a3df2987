// The no-alias copy of a versioned loop (see NoAliasCopy.h).
//
// ============================================================================
// SUBTLE, and part of the code that runs without bounds checks. What it
// does: the fast copy of a loop (LoopVersioning.cpp) is copied once more.
// Its covered accesses are grouped by constant distance (a[j] and a[j + 1]
// in one group), each group's bytes over the whole loop form a range
// [low, high), and when the ranges of every pair of groups of which one
// stores are checked apart at run time, the loop runs with scoped no-alias
// metadata saying that accesses of those groups never alias; otherwise the
// copy without the metadata runs.
// Why: the loop vectoriser's own run-time checks compare every pair of
// pointers, and in a loop clang unrolled (a[j], a[j + 1] stored) two of them
// always overlap, so its vector loop never runs: lu's inner loop went from
// scalar to SSE2 with this copy. Only such loops get it (planNoAliasCopy):
// elsewhere the vectoriser's checks do the job, and the extra copy cost
// jacobi2d and conv2d 5-10%.
// Why it is safe:
//  1. Bounds do not depend on it. The tagged loop is entered only under the
//     fast copy's bounds condition, which covers every access of it (the
//     copy is planned only when nothing is uncovered). The metadata only
//     lets the optimiser reorder or combine accesses of different groups: a
//     wrong range would give wrong results, never an access outside memory.
//  2. The ranges are exact. Under the bounds condition every offset is an
//     i64 expression that does not wrap (BoundsProof), and an affine one is
//     monotonic, so its extremes are its values at iteration 0 and at the
//     bound on back edges; a group's range is the unsigned minimum and
//     maximum of its members' extremes, plus the access size.
//  3. Nothing else reaches memory: a loop with any call other than a bounds
//     check, or with accesses from two memory bases, gets no copy.
//  4. Two groups are declared apart only if they were checked apart
//     (aliasChecked: one of them stores); loads may be reordered anyway.
// Tests that try to break it: tests/sandbox/alias-versioning.wast (both
// modes: ranges apart, adjacent, overlapping by one element and by half of
// one, identical) and tests/golden/alias-copy.wat.
// ============================================================================
#include "NoAliasCopy.h"

#include "BoundsVersioning.h"
#include "LoopCloning.h"

#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>

using namespace llvm;

namespace faasm::codegen {

namespace {

constexpr unsigned kMaxAliasLoopInstructions = 400; // the fast copy is copied once more

// Pairs of groups whose disjointness is checked: those with a store.
bool aliasChecked(const AliasGroup& a, const AliasGroup& b) {
  return a.stores || b.stores;
}

} // namespace

AliasPlan planNoAliasCopy(BoundsProof& proof, ScalarEvolution& scev, ArrayRef<Access> accesses,
                          const Loop& loop, const SCEV* backedges, unsigned instructions) {
  const DataLayout& layout = loop.getHeader()->getParent()->getDataLayout();
  IntegerType* i64 = Type::getInt64Ty(scev.getContext());
  if (!backedges || instructions > kMaxAliasLoopInstructions) return {};
  // One memory base, and nothing that could move it or touch memory
  // unseen (a call) inside the loop.
  for (BasicBlock* block : loop.blocks())
    for (Instruction& inst : *block)
      if (auto* call = dyn_cast<CallBase>(&inst);
          call && (!call->getCalledFunction() ||
                   call->getCalledFunction()->getName() != kBoundsCheckFunction))
        return {};
  AliasPlan groups;
  Value* base = nullptr;
  for (const Access& access : accesses) {
    Value* accessBase = proof.memoryBaseOf(getLoadStorePointerOperand(access.instruction));
    if (base && accessBase != base) return {};
    base = accessBase;
    const SCEV* first = access.wideOffset;
    const SCEV* last = access.wideOffset;
    if (!scev.isLoopInvariant(access.wideOffset, &loop)) {
      const auto* rec = dyn_cast<SCEVAddRecExpr>(access.wideOffset);
      if (!rec || rec->getLoop() != &loop || !rec->isAffine()) return {};
      first = rec->getStart();
      last = rec->evaluateAtIteration(backedges, scev);
    }
    uint64_t bytes = layout.getTypeStoreSize(getLoadStoreType(access.instruction));
    const SCEV* low = scev.getUMinExpr(first, last);
    const SCEV* high = scev.getAddExpr(scev.getUMaxExpr(first, last), scev.getConstant(i64, bytes));
    auto group = find_if(groups, [&](const AliasGroup& candidate) {
      return isa<SCEVConstant>(scev.getMinusSCEV(access.wideOffset, candidate.representative));
    });
    if (group == groups.end()) {
      if (groups.size() == kMaxAliasGroups) return {};
      groups.push_back({access.wideOffset, low, high, false, {}, false});
      group = groups.end() - 1;
    } else {
      group->low = scev.getUMinExpr(group->low, low);
      group->high = scev.getUMaxExpr(group->high, high);
    }
    group->stores |= isa<StoreInst>(access.instruction);
    group->members.push_back(access.instruction);
    group->severalOffsets |= access.wideOffset != group->representative;
  }
  if (groups.size() < 2 || none_of(groups, [](const AliasGroup& group) { return group.stores; }))
    return {};
  // Only where a group that stores reaches more than one offset (a[j] and
  // a[j + 1]): the loop vectoriser's own run-time checks then compare
  // those two pointers with each other, and they always overlap, so its
  // vector loop never runs. Elsewhere its checks do the job of this copy
  // without the extra code (which cost jacobi2d and conv2d 5-10%).
  if (none_of(groups, [](const AliasGroup& group) { return group.stores && group.severalOffsets; }))
    return {};
  return groups;
}

bool canExpandAliasPlan(ArrayRef<AliasGroup> plan, SCEVExpander& expander, Instruction* insertAt) {
  for (const AliasGroup& group : plan)
    if (!expander.isSafeToExpandAt(group.low, insertAt) ||
        !expander.isSafeToExpandAt(group.high, insertAt))
      return false;
  return true;
}

Value* emitDisjointCheck(ArrayRef<AliasGroup> plan, SCEVExpander& expander, IRBuilder<>& builder,
                         Instruction* insertAt) {
  Type* i64 = builder.getInt64Ty();
  Value* disjoint = builder.getTrue();
  for (size_t a = 0; a < plan.size(); ++a)
    for (size_t b = a + 1; b < plan.size(); ++b) {
      if (!aliasChecked(plan[a], plan[b])) continue;
      auto expand = [&](const SCEV* value) { return expander.expandCodeFor(value, i64, insertAt); };
      Value* below = builder.CreateICmpULE(expand(plan[a].high), expand(plan[b].low));
      Value* above = builder.CreateICmpULE(expand(plan[b].high), expand(plan[a].low));
      disjoint = builder.CreateAnd(disjoint, builder.CreateOr(below, above));
    }
  return disjoint;
}

Loop* makeNoAliasCopy(Loop& loop, ArrayRef<AliasGroup> plan, Value* disjoint, LoopInfo& loops,
                      DominatorTree& dominators) {
  LLVMContext& ctx = loop.getHeader()->getContext();
  // fast copy -> (disjoint) this loop, tagged | an untagged copy.
  Loop* overlapping = cloneBehind(loop, loop.getLoopPreheader(), disjoint, ".disjoint",
                                  ".overlapping", loops, dominators);
  MDBuilder scopes(ctx);
  MDNode* domain = scopes.createAnonymousAliasScopeDomain("faasm.bounds");
  SmallVector<MDNode*, kMaxAliasGroups> scope;
  for (size_t g = 0; g < plan.size(); ++g)
    scope.push_back(scopes.createAnonymousAliasScope(domain));
  for (size_t g = 0; g < plan.size(); ++g) {
    SmallVector<Metadata*, kMaxAliasGroups> apart;
    for (size_t h = 0; h < plan.size(); ++h)
      if (h != g && aliasChecked(plan[g], plan[h])) apart.push_back(scope[h]);
    for (Instruction* inst : plan[g].members) {
      inst->setMetadata(LLVMContext::MD_alias_scope, MDNode::get(ctx, {scope[g]}));
      inst->setMetadata(LLVMContext::MD_noalias, MDNode::get(ctx, apart));
    }
  }
  return overlapping;
}

} // namespace faasm::codegen
