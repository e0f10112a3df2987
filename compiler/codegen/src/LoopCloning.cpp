// Copying a loop behind a condition, as both versioning transformations do
// (LoopVersioning.cpp for the checked copy, NoAliasCopy.cpp for the copy
// without no-alias metadata). Nothing here decides what is safe: the copy is
// the loop as it is, and the caller chooses the condition.
#include "LoopCloning.h"

#include <llvm/IR/Instructions.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

using namespace llvm;

namespace faasm::codegen {

Loop* cloneBehind(Loop& loop, BasicBlock* preheader, Value* condition, const Twine& loopSuffix,
                  const Twine& cloneSuffix, LoopInfo& loops, DominatorTree& dominators) {
  BasicBlock* loopPreheader = SplitBlock(preheader, preheader->getTerminator(), &dominators, &loops,
                                         nullptr, preheader->getName() + loopSuffix);
  SmallVector<BasicBlock*, 16> cloneBlocks;
  ValueToValueMapTy map;
  Loop* clone = cloneLoopWithPreheader(loopPreheader, preheader, &loop, map, cloneSuffix, &loops,
                                       &dominators, cloneBlocks);
  remapInstructionsInBlocks(cloneBlocks, map);
  Instruction* jump = preheader->getTerminator();
  BranchInst::Create(loopPreheader, clone->getLoopPreheader(), condition, jump);
  jump->eraseFromParent();

  // The exits now have the clone's blocks as predecessors too.
  SmallVector<BasicBlock*, 4> exits;
  loop.getUniqueExitBlocks(exits);
  for (BasicBlock* exit : exits) {
    for (PHINode& phi : exit->phis()) {
      unsigned incoming = phi.getNumIncomingValues();
      for (unsigned i = 0; i < incoming; ++i) {
        BasicBlock* from = phi.getIncomingBlock(i);
        if (!loop.contains(from)) continue;
        Value* value = phi.getIncomingValue(i);
        Value* mapped = map.lookup(value);
        phi.addIncoming(mapped ? mapped : value, cast<BasicBlock>(map[from]));
      }
    }
  }
  dominators.recalculate(*preheader->getParent());
  return clone;
}

} // namespace faasm::codegen
