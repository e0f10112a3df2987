// Merging explicit bounds checks along straight-line code (explicit mode).
//
// ============================================================================
// SAFETY-CRITICAL. This removes explicit checks, each of which stands
// between an access and memory it must not reach. The argument:
//  1. Only a run of blocks is considered in which each block ends in a
//     bounds check whose failing branch goes to a trap block, and whose
//     passing branch goes to the next block of the run, which has no other
//     predecessor. Every block of the run after the first is therefore
//     entered only through all the checks before it.
//  2. Checks are grouped by (the end of the access less a constant below
//     2^33, the memorySize value compared with): the same base address, the
//     same size read. Within a group the first check is made to compare the
//     largest end of the group (first end + the largest constant difference,
//     in i64, where it cannot wrap: a wasm address, offset and size are all
//     far below 2^63) and the others are removed. Every access of the group
//     then has its end checked at or before the point where its own check
//     stood, against the same memorySize.
//  3. A group is closed at anything with a side effect, a call or a volatile
//     access (a store, memory.grow, a call that may trap or write): no check
//     moves across one. So a trap that now comes earlier skips only loads,
//     which nothing can observe, and it is the same trap (out of bounds).
// Tests that try to break it: tests/sandbox/check-merging.wast (both
// modes), the spec suite, tests/golden/merged-checks.wat.
// ============================================================================
#include "CheckMerging.h"

#include "BoundsVersioning.h"

#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>

#include <map>
#include <vector>

using namespace llvm;

namespace faasm::codegen {

bool mergeChecks(Function& function, ScalarEvolution& scev) {
  struct Group {
    CallInst* first;
    APInt firstOffset, maxOffset;
  };
  std::vector<Group> finished;
  auto asCheck = [](Instruction* terminator) -> CallInst* {
    auto* branch = dyn_cast<BranchInst>(terminator);
    if (!branch || !branch->isConditional()) return nullptr;
    auto* call = dyn_cast<CallInst>(branch->getCondition());
    Function* callee = call ? call->getCalledFunction() : nullptr;
    if (!callee || callee->getName() != kBoundsCheckFunction || !call->hasOneUse()) return nullptr;
    if (!isa<UnreachableInst>(branch->getSuccessor(0)->getTerminator()))
      return nullptr; // not a trap block
    return call;
  };
  bool changed = false;
  SmallPtrSet<BasicBlock*, 32> visited;
  for (BasicBlock& start : function) {
    if (visited.contains(&start)) continue;
    std::map<std::pair<const SCEV*, Value*>, Group> groups; // (base, memorySize)
    SmallVector<CallInst*, 8> removed;
    auto closeAll = [&] {
      for (auto& [key, group] : groups)
        finished.push_back(group);
      groups.clear();
    };
    for (BasicBlock* block = &start; block && visited.insert(block).second;) {
      for (Instruction& inst : *block) {
        if (&inst == block->getTerminator()) break;
        auto* call = dyn_cast<CallInst>(&inst);
        bool pureCheck = call && call->getCalledFunction() &&
                         call->getCalledFunction()->getName() == kBoundsCheckFunction;
        if (!pureCheck && (inst.mayHaveSideEffects() || isa<CallBase>(inst)))
          closeAll(); // a store, a call, a volatile access: no merging across it
      }
      CallInst* check = asCheck(block->getTerminator());
      if (!check) break;
      const SCEV* end = scev.getSCEV(check->getArgOperand(0));
      const SCEV* base = end;
      APInt offset(64, 0);
      if (const auto* sum = dyn_cast<SCEVAddExpr>(end))
        if (const auto* constant = dyn_cast<SCEVConstant>(sum->getOperand(0));
            constant && constant->getAPInt().ult(uint64_t(1) << 33)) {
          offset = constant->getAPInt(); // a wasm offset plus a size: below 2^33
          base = scev.getMinusSCEV(end, constant);
        }
      auto key = std::make_pair(base, check->getArgOperand(1));
      auto found = groups.find(key);
      if (found == groups.end()) {
        groups.emplace(key, Group{check, offset, offset});
      } else {
        if (offset.ugt(found->second.maxOffset)) found->second.maxOffset = offset;
        removed.push_back(check);
      }
      BasicBlock* next = cast<BranchInst>(block->getTerminator())->getSuccessor(1);
      block = next->getSinglePredecessor() == block ? next : nullptr;
    }
    closeAll();
    for (Group& group : finished) {
      if (!group.maxOffset.ugt(group.firstOffset)) continue;
      IRBuilder<> at(group.first);
      group.first->setArgOperand(0, at.CreateAdd(group.first->getArgOperand(0),
                                                 at.getInt(group.maxOffset - group.firstOffset),
                                                 "merged.end", /*HasNUW=*/true));
    }
    finished.clear();
    for (CallInst* check : removed) {
      check->replaceAllUsesWith(ConstantInt::getFalse(function.getContext()));
      check->eraseFromParent();
      changed = true;
    }
  }
  return changed;
}

} // namespace faasm::codegen
