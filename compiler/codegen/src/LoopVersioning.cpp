// Loop versioning on bounds: the fast copy of an innermost loop (see
// LoopVersioning.h).
//
// ============================================================================
// SAFETY-CRITICAL. The fast copy of a loop runs without the checks that keep
// a guest inside its memory. What it does: one check in the preheader
// (BoundsProof's condition for every access it covers, the bound on back
// edges below 2^32, and any predicates that bound rests on) chooses between
// the loop with its covered accesses made ordinary (no explicit check, not
// volatile, addressed at the i64 offset the proof gives) and the original
// loop, every check kept, marked not to be vectorised or unrolled.
// Why it is safe:
//  1. The check is BoundsProof's condition (argued in BoundsProof.cpp): when
//     it holds, every covered access of every iteration is in bounds and its
//     i64 offset equals the original. When it fails the original loop runs,
//     so a trap happens at exactly the access the spec says.
//  2. An explicit check is removed only when BoundsProof covers its own end:
//     the condition then proves that very comparison false on every
//     iteration. Any other check stays in the fast copy.
//  3. A counted latch (BoundsProof::countedBackedges) compares the iteration
//     number with the bound B instead of the counter with its limit, which
//     is equivalent once the check, including that the distance is a
//     multiple of the step, holds.
//  4. Guard mode: an access the check does not cover must still fault where
//     it stands, after every earlier store. The fast copy is made only when
//     the covered accesses are all loads, the uncovered ones staying
//     volatile (an ordinary load that cannot fault may move across one that
//     can: neither writes, and the trap is the same), or when the uncovered
//     ones get explicit checks instead (addExplicitChecks), whose branches
//     to a trap order them as volatility did. A volatile access whose offset
//     is not known at all leaves the loop as it is.
// Which loops are worth the check in front (not a safety matter) is
// decided in worthVersioning. The copy of the fast copy with no-alias
// metadata is NoAliasCopy.cpp's.
// Tests that try to break it: tests/sandbox/loop-versioning.wast (both
// modes), the spec suite, tests/golden (versioned-loop, gather, and the
// loops that must not be versioned).
// ============================================================================
#include "LoopVersioning.h"

#include "BoundsProof.h"
#include "BoundsVersioning.h"
#include "CodeMap.h"
#include "LoopCloning.h"
#include "LoopReport.h"
#include "NoAliasCopy.h"

#include <llvm/ADT/DepthFirstIterator.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>

#include <cstddef>

using namespace llvm;

namespace faasm::codegen {

namespace {

constexpr unsigned kMaxLoopInstructions = 4000; // larger loops are left alone (compile time)

// What version() learns about one loop before it changes anything.
struct LoopPlan {
  BasicBlock* preheader = nullptr;
  LoopCondition condition;
  // The bound on back edges in i64 (null: none, and then only
  // loop-invariant addresses can be covered) ...
  const SCEV* backedges64 = nullptr;
  // ... with, for countedBackedges, what must be 0 on entry for it to hold,
  const SCEV* divisible = nullptr;
  // ... and the predicates it rests on (typically: a counter stepping by 2
  // towards 0 does not wrap), checked with the rest.
  SmallVector<const SCEVPredicate*, 4> predicates;

  SmallVector<CallInst*, 16> coveredChecks; // explicit checks the condition makes redundant
  SmallVector<Access, 16> accesses;         // covered loads and stores
  SmallVector<Instruction*, 16> uncovered;  // guard mode only: volatile, offset known, not covered
  bool keepUncovered = false;               // uncovered ones stay volatile (else: explicit checks)
  unsigned instructions = 0;
  AliasPlan aliasPlan; // the no-alias copy's, empty if there is none

  // For --report-loops only: why the loop is not versioned, and each check
  // or volatile access no check in front covers, with its reason.
  std::string whyNot;
  SmallVector<std::pair<Instruction*, std::string>, 8> uncoveredWhy;
};

class LoopVersioner {
public:
  LoopVersioner(Function& f, abi::BoundsMode mode, LoopInfo& loops, DominatorTree& dominators,
                ScalarEvolution& scev, LoopReport* report)
      : function_(f), mode_(mode), loops_(loops), dominators_(dominators), scev_(scev),
        proof_(f, scev), i64_(Type::getInt64Ty(f.getContext())), report_(report) {}

  bool run() {
    SmallVector<Loop*, 16> innermost;
    for (Loop* top : loops_)
      for (Loop* loop : depth_first(top)) {
        if (loop->isInnermost())
          innermost.push_back(loop);
        else if (report_)
          report_->add(*loop);
      }
    bool changed = false;
    for (Loop* loop : innermost)
      changed |= version(*loop);
    return changed;
  }

private:
  Function& function_;
  abi::BoundsMode mode_;
  LoopInfo& loops_;
  DominatorTree& dominators_;
  ScalarEvolution& scev_;
  BoundsProof proof_;
  IntegerType* i64_;
  LoopReport* report_;

  bool version(Loop& loop);
  bool decide(Loop& loop, LoopPlan& plan);
  std::string whyUncovered(Instruction& inst, const SCEV* offset, uint64_t bytes, Loop& loop,
                           const LoopPlan& plan);
  void record(LoopRecord& entry, Loop& loop, const LoopPlan& plan, bool versioned, Loop* slow);
  bool putInSimplifiedForm(Loop& loop);
  void boundBackedges(Loop& loop, LoopPlan& plan);
  bool collectAccesses(Loop& loop, LoopPlan& plan);
  bool worthVersioning(Loop& loop, LoopPlan& plan);
  bool canExpandChecks(Loop& loop, const LoopPlan& plan, SCEVExpander& expander,
                       Instruction* insertAt);
  Value* emitBoundsCheck(const LoopPlan& plan, SCEVExpander& expander, IRBuilder<>& builder,
                         Instruction* insertAt, Value*& backedgeCount);
  void keepScalar(Loop& slow);
  void makeFastCopy(Loop& loop, const LoopPlan& plan, Value* backedgeCount);
  void countLatchByIteration(Loop& loop, Value* backedgeCount, SCEVExpander& wideExpander);
  // A linear-memory load or store made non-volatile, at `pointer` if given.
  static void makeOrdinary(Instruction* access, Value* pointer = nullptr) {
    if (auto* load = dyn_cast<LoadInst>(access)) {
      load->setVolatile(false);
      if (pointer) load->setOperand(load->getPointerOperandIndex(), pointer);
    } else {
      auto* store = cast<StoreInst>(access);
      store->setVolatile(false);
      if (pointer) store->setOperand(store->getPointerOperandIndex(), pointer);
    }
  }

  // Explicit mode's check in front of each access, trapping to a block of
  // this loop's own (makeTrapBlock: each edge says which access); the
  // accesses become ordinary ones.
  void addExplicitChecks(Loop& loop, ArrayRef<Instruction*> uncovered) {
    LLVMContext& ctx = function_.getContext();
    Value* vmctx = function_.getArg(0);
    PHINode* site = nullptr;
    BasicBlock* trap = makeTrapBlock(function_, vmctx, abi::TrapCode::MemoryOutOfBounds, site);

    Function* outside = boundsCheckDeclaration(*function_.getParent());
    MDBuilder weights(ctx);
    for (Instruction* inst : uncovered) {
      Value* pointer = getLoadStorePointerOperand(inst);
      auto* baseLoad = cast<LoadInst>(proof_.memoryBaseOf(pointer));
      uint64_t bytes = function_.getDataLayout().getTypeStoreSize(getLoadStoreType(inst));
      IRBuilder<> at(inst);
      Value* offset =
          at.CreateSub(at.CreatePtrToInt(pointer, i64_), at.CreatePtrToInt(baseLoad, i64_));
      Value* end = at.CreateAdd(offset, at.getInt64(bytes));
      LoadInst* size =
          at.CreateLoad(i64_, at.CreateConstInBoundsGEP1_64(at.getInt8Ty(), vmctx,
                                                            offsetof(abi::VMContext, memorySize)));
      size->setMetadata(LLVMContext::MD_tbaa, baseLoad->getMetadata(LLVMContext::MD_tbaa));
      Value* fails = at.CreateCall(outside, {end, size});
      BasicBlock* block = inst->getParent();
      BasicBlock* rest = block->splitBasicBlock(inst, block->getName() + ".inbounds");
      loop.addBasicBlockToLoop(rest, loops_);
      block->getTerminator()->eraseFromParent();
      BranchInst* branch = BranchInst::Create(trap, rest, fails, block);
      branch->setMetadata(LLVMContext::MD_prof, weights.createUnlikelyBranchWeights());
      branch->setDebugLoc(inst->getDebugLoc());
      const DebugLoc& loc = inst->getDebugLoc();
      site->addIncoming(ConstantInt::get(Type::getInt32Ty(ctx), loc ? loc.getLine() : 0), block);
      makeOrdinary(inst);
    }
    dominators_.recalculate(function_);
  }

  // Whether the loop stores to a loop-invariant offset that it never loads.
  bool storesFixedWithoutReload(ArrayRef<Access> accesses, const Loop& loop) {
    SmallPtrSet<const SCEV*, 8> stored, loaded;
    for (const Access& access : accesses) {
      if (!scev_.isLoopInvariant(access.wideOffset, &loop)) continue;
      (isa<StoreInst>(access.instruction) ? stored : loaded).insert(access.wideOffset);
    }
    return any_of(stored, [&](const SCEV* offset) { return !loaded.contains(offset); });
  }
};

// preheader -> (in bounds) the fast copy | the original loop, kept as it was.
bool LoopVersioner::version(Loop& loop) {
  LoopRecord* entry = report_ ? &report_->add(loop) : nullptr;
  LoopPlan plan;
  if (!decide(loop, plan)) {
    if (entry) record(*entry, loop, plan, false, nullptr);
    return false;
  }
  SCEVExpander expander(scev_, function_.getDataLayout(), "bounds");
  Instruction* insertAt = plan.preheader->getTerminator();

  // The checks, at the end of the preheader, from the SCEVs gathered before
  // anything changes.
  IRBuilder<> builder(insertAt);
  Value* backedgeCount = nullptr;
  Value* inBounds = emitBoundsCheck(plan, expander, builder, insertAt, backedgeCount);
  Value* disjoint = nullptr;
  if (!plan.aliasPlan.empty())
    disjoint = emitDisjointCheck(plan.aliasPlan, expander, builder, insertAt);
  expander.clear();

  Loop* slow =
      cloneBehind(loop, plan.preheader, inBounds, ".inbounds", ".checked", loops_, dominators_);
  keepScalar(*slow);
  if (entry) record(*entry, loop, plan, true, slow);
  makeFastCopy(loop, plan, backedgeCount);
  if (disjoint) {
    Loop* overlapping = makeNoAliasCopy(loop, plan.aliasPlan, disjoint, loops_, dominators_);
    if (entry) report_->noteCopy(overlapping->getHeader(), *entry, LoopCopy::Fallback);
  }
  scev_.forgetLoop(&loop);
  return true;
}

// Everything version() needs to know before it changes anything; false (and
// plan.whyNot) if the loop is left as it is.
bool LoopVersioner::decide(Loop& loop, LoopPlan& plan) {
  if (!putInSimplifiedForm(loop)) {
    plan.whyNot = "not in simplified form (no single preheader or latch)";
    return false;
  }
  plan.preheader = loop.getLoopPreheader();
  boundBackedges(loop, plan);
  if (!collectAccesses(loop, plan) || !worthVersioning(loop, plan)) return false;
  SCEVExpander expander(scev_, function_.getDataLayout(), "bounds");
  Instruction* insertAt = plan.preheader->getTerminator();
  if (plan.uncovered.empty())
    plan.aliasPlan =
        planNoAliasCopy(proof_, scev_, plan.accesses, loop, plan.backedges64, plan.instructions);
  if (!canExpandAliasPlan(plan.aliasPlan, expander, insertAt)) plan.aliasPlan.clear();
  bool expandable = canExpandChecks(loop, plan, expander, insertAt);
  expander.clear();
  if (!expandable) plan.whyNot = "a value the check needs is not available in front of the loop";
  return expandable;
}

// As the loop vectoriser does: put the loop in simplified, LCSSA form.
bool LoopVersioner::putInSimplifiedForm(Loop& loop) {
  simplifyLoop(&loop, &dominators_, &loops_, &scev_, nullptr, nullptr, false);
  formLCSSA(loop, dominators_, &loops_, &scev_);
  return loop.isLoopSimplifyForm() && loop.isLCSSAForm(dominators_);
}

void LoopVersioner::boundBackedges(Loop& loop, LoopPlan& plan) {
  const SCEV* backedges = scev_.getSymbolicMaxBackedgeTakenCount(&loop);
  const SCEV* divisible = nullptr;
  if (isa<SCEVCouldNotCompute>(backedges)) backedges = proof_.countedBackedges(loop, divisible);
  if (isa<SCEVCouldNotCompute>(backedges))
    backedges = scev_.getPredicatedSymbolicMaxBackedgeTakenCount(&loop, plan.predicates);
  if (!isa<SCEVCouldNotCompute>(backedges) && backedges->getType()->getIntegerBitWidth() <= 64) {
    plan.backedges64 = scev_.getNoopOrZeroExtend(backedges, i64_);
    plan.divisible = divisible;
    proof_.requireBelow(plan.condition, plan.backedges64, kI32Limit);
  } else {
    plan.predicates.clear();
  }
}

// Sorts the loop's checks and accesses into covered and not; false if the
// loop cannot be versioned at all (too large, or in guard mode an access
// whose offset is unknown, which cannot be checked).
bool LoopVersioner::collectAccesses(Loop& loop, LoopPlan& plan) {
  bool guard = mode_ == abi::BoundsMode::Guard;
  for (BasicBlock* block : loop.blocks()) {
    for (Instruction& inst : *block) {
      if (++plan.instructions > kMaxLoopInstructions) {
        plan.whyNot = "more than " + std::to_string(kMaxLoopInstructions) +
                      " instructions (left alone for compile time)";
        return false;
      }
      if (auto* call = dyn_cast<CallInst>(&inst)) {
        // Explicit mode's check: its first operand is the end of the access.
        Function* callee = call->getCalledFunction();
        if (!callee || callee->getName() != kBoundsCheckFunction) continue;
        const SCEV* end = scev_.getSCEV(call->getArgOperand(0));
        if (end->getType() == i64_ &&
            proof_.coverAccess(end, 0, loop, plan.backedges64, plan.condition))
          plan.coveredChecks.push_back(call);
        else if (report_)
          plan.uncoveredWhy.push_back({call, whyUncovered(*call, end, 0, loop, plan)});
        continue;
      }
      Value* pointer = getLoadStorePointerOperand(&inst);
      if (!pointer) continue;
      bool isVolatile = inst.isVolatile();
      Type* type = getLoadStoreType(&inst);
      const SCEV* offset = proof_.accessOffset(pointer);
      const SCEV* wide = nullptr;
      if (offset)
        wide = proof_.coverAccess(offset, function_.getDataLayout().getTypeStoreSize(type), loop,
                                  plan.backedges64, plan.condition);
      if (!wide && guard && isVolatile && report_)
        plan.uncoveredWhy.push_back(
            {&inst, whyUncovered(inst, offset, function_.getDataLayout().getTypeStoreSize(type),
                                 loop, plan)});
      if (wide) {
        plan.accesses.push_back({&inst, wide});
      } else if (guard && isVolatile && offset) {
        plan.uncovered.push_back(&inst);
      } else if (guard && isVolatile) {
        plan.whyNot = "an access whose address is not an offset from the memory base (guard mode "
                      "cannot check it)";
        return false;
      }
    }
  }
  return true;
}

// Whether the fast copy repays the check in front of it; sets keepUncovered.
bool LoopVersioner::worthVersioning(Loop& loop, LoopPlan& plan) {
  if (plan.coveredChecks.empty() && plan.accesses.empty()) {
    plan.whyNot = plan.uncoveredWhy.empty() ? "no linear-memory access in the loop"
                                            : "no access or check it could cover";
    return false;
  }
  // Guard mode: in the fast copy every access is an ordinary one, so those
  // not covered by the check get explicit mode's check instead (their trap
  // then orders them as volatility did).
  // Worth it when the loop keeps a variable in memory at a fixed address
  // (a store there each iteration, which a volatile access must make and
  // reload, and an ordinary one can keep in a register), and the checks
  // added are fewer than the accesses freed (a loop of one free and one
  // checked access, such as skipping spaces, runs too few iterations per
  // entry to repay the check in front of it: json was 1.37x native
  // without, 1.54x with).
  // When the covered accesses are all loads, the uncovered ones can stay
  // as they are, volatile, faulting where they stand: an ordinary load
  // that cannot fault may move across one that can without any visible
  // difference (neither writes, and a fault is the same trap wherever it
  // comes). The covered loads then address in i64 (sgd's gathers, whose
  // index and value arrays are affine).
  plan.keepUncovered = !plan.uncovered.empty() && none_of(plan.accesses, [](const Access& access) {
    return isa<StoreInst>(access.instruction);
  });
  if (!plan.uncovered.empty() && !plan.keepUncovered) {
    bool fixedStore = any_of(plan.accesses, [&](const Access& access) {
      return isa<StoreInst>(access.instruction) && scev_.isLoopInvariant(access.wideOffset, &loop);
    });
    if (!fixedStore || plan.uncovered.size() >= plan.accesses.size()) {
      plan.whyNot = "guard mode: it stores, and accesses the check cannot cover would need "
                    "explicit checks that cost more than the copy saves";
      return false;
    }
  }
  // A loop with more than one exit that stores to a fixed address every
  // time round without loading it again: a scanner keeping its cursor in
  // memory (skipping spaces, reading digits, finding the closing quote).
  // Those run zero or one iteration per entry more often than not, and the
  // vectoriser will not take a loop with two exits, so the check in front
  // costs more than the fast copy saves: json ran 1.37-1.47x native with
  // it, 1.13-1.21x without in guard mode (explicit: 1.50-1.70x, 1.34x).
  // Loops of loads alone, such as a sort's scans, gain from it.
  if (!loop.getExitingBlock() && storesFixedWithoutReload(plan.accesses, loop)) {
    plan.whyNot = "several exits and a store to a fixed address (a scanner: too few iterations "
                  "per entry to repay the check)";
    return false;
  }
  return true;
}

// Whether every value the checks and the fast copy's addresses need can be
// computed where they go: the checks at `insertAt`, the addresses on entry
// to the header.
bool LoopVersioner::canExpandChecks(Loop& loop, const LoopPlan& plan, SCEVExpander& expander,
                                    Instruction* insertAt) {
  for (const auto& [value, limit] : plan.condition.below)
    if (!expander.isSafeToExpandAt(value, insertAt)) return false;
  for (const SCEV* end : plan.condition.ends)
    if (!expander.isSafeToExpandAt(end, insertAt)) return false;
  for (const Access& access : plan.accesses)
    if (!expander.isSafeToExpandAt(access.wideOffset, &*loop.getHeader()->getFirstInsertionPt()))
      return false;
  return true;
}

// The i1 that chooses the fast copy. For a counted latch, also expands the
// bound on back edges into `backedgeCount` (null otherwise).
Value* LoopVersioner::emitBoundsCheck(const LoopPlan& plan, SCEVExpander& expander,
                                      IRBuilder<>& builder, Instruction* insertAt,
                                      Value*& backedgeCount) {
  Value* inBounds = builder.getTrue();
  for (const auto& [value, limit] : plan.condition.below) {
    Value* expanded = expander.expandCodeFor(value, i64_, insertAt);
    inBounds =
        builder.CreateAnd(inBounds, builder.CreateICmpULT(expanded, builder.getInt64(limit)));
  }
  if (plan.divisible) {
    inBounds = builder.CreateAnd(
        inBounds, builder.CreateICmpEQ(expander.expandCodeFor(plan.divisible, nullptr, insertAt),
                                       ConstantInt::get(plan.divisible->getType(), 0)));
    backedgeCount = expander.expandCodeFor(plan.backedges64, i64_, insertAt);
  }
  for (const SCEVPredicate* predicate : plan.predicates) // expands to true when it fails
    inBounds = builder.CreateAnd(
        inBounds, builder.CreateNot(expander.expandCodeForPredicate(predicate, insertAt)));
  Value* sizeAddress = builder.CreateConstInBoundsGEP1_64(builder.getInt8Ty(), function_.getArg(0),
                                                          offsetof(abi::VMContext, memorySize));
  Value* memorySize = builder.CreateLoad(i64_, sizeAddress, "memory.size");
  for (const SCEV* end : plan.condition.ends) {
    Value* expanded = expander.expandCodeFor(end, i64_, insertAt);
    inBounds = builder.CreateAnd(inBounds, builder.CreateICmpULE(expanded, memorySize));
  }
  return inBounds;
}

// The slow copy keeps every check; nothing will vectorise it.
void LoopVersioner::keepScalar(Loop& slow) {
  LLVMContext& ctx = function_.getContext();
  MDNode* noVectorise = MDNode::get(ctx, {MDString::get(ctx, "llvm.loop.vectorize.enable"),
                                          ConstantAsMetadata::get(ConstantInt::getFalse(ctx))});
  MDNode* noUnroll = MDNode::get(ctx, {MDString::get(ctx, "llvm.loop.unroll.disable")});
  MDNode* id = MDNode::getDistinct(ctx, {nullptr, noVectorise, noUnroll});
  id->replaceOperandWith(0, id);
  slow.setLoopID(id);
}

// The fast copy: covered checks pass; covered accesses are ordinary
// loads and stores at an i64 offset the optimiser can follow.
void LoopVersioner::makeFastCopy(Loop& loop, const LoopPlan& plan, Value* backedgeCount) {
  LLVMContext& ctx = function_.getContext();
  for (CallInst* call : plan.coveredChecks) {
    call->replaceAllUsesWith(ConstantInt::getFalse(ctx));
    call->eraseFromParent();
  }
  // One pointer per distinct offset, so that the loop vectoriser sees a
  // load and a store of the same element as one pointer.
  SCEVExpander wideExpander(scev_, function_.getDataLayout(), "inbounds");
  DenseMap<const SCEV*, Value*> pointers;
  Instruction* headerStart = &*loop.getHeader()->getFirstInsertionPt();
  for (const Access& access : plan.accesses) {
    Instruction* inst = access.instruction;
    Value*& pointer = pointers[access.wideOffset];
    if (!pointer) {
      // Affine in this loop and invariant parts only: computable on entry
      // to the header, which dominates every access of the loop.
      Value* base = proof_.memoryBaseOf(getLoadStorePointerOperand(inst));
      Value* offset = wideExpander.expandCodeFor(access.wideOffset, i64_, headerStart);
      pointer = GetElementPtrInst::CreateInBounds(Type::getInt8Ty(ctx), base, {offset},
                                                  "inbounds.address", headerStart);
    }
    makeOrdinary(inst, pointer);
  }
  if (!plan.uncovered.empty() && !plan.keepUncovered) addExplicitChecks(loop, plan.uncovered);
  if (backedgeCount) countLatchByIteration(loop, backedgeCount, wideExpander);
  wideExpander.clear();
}

// The counter leaves at iteration `backedgeCount` exactly; saying so on
// the iteration number gives the vectoriser a trip count it can use.
void LoopVersioner::countLatchByIteration(Loop& loop, Value* backedgeCount,
                                          SCEVExpander& wideExpander) {
  auto* compare =
      cast<ICmpInst>(cast<BranchInst>(loop.getLoopLatch()->getTerminator())->getCondition());
  const SCEV* iteration =
      scev_.getAddRecExpr(scev_.getZero(i64_), scev_.getOne(i64_), &loop, SCEV::FlagNUW);
  Value* current = wideExpander.expandCodeFor(iteration, i64_, compare);
  IRBuilder<> at(compare);
  Value* leaves = at.CreateICmp(compare->getPredicate(), current, backedgeCount, "count.exit");
  compare->replaceAllUsesWith(leaves);
  compare->eraseFromParent();
}

// Why an access or check of `loop` is not covered by the check in front.
std::string LoopVersioner::whyUncovered(Instruction& inst, const SCEV* offset, uint64_t bytes,
                                        Loop& loop, const LoopPlan& plan) {
  std::string what;
  raw_string_ostream out(what);
  if (isa<CallInst>(inst))
    out << "explicit check";
  else
    out << (isa<StoreInst>(inst) ? "store " : "load ") << *getLoadStoreType(&inst);
  if (!offset) {
    out << ": address not an offset from the memory base";
    return what;
  }
  std::string text;
  raw_string_ostream scevText(text);
  scevText << *offset;
  if (text.size() > 120) text = text.substr(0, 117) + "...";
  out << " at " << text << ": ";
  LoopCondition fresh;
  if (!plan.backedges64 && !scev_.isLoopInvariant(offset, &loop))
    out << "the loop's trip count has no bound scalar evolution can compute";
  else if (proof_.coverAccess(offset, bytes, loop, plan.backedges64, fresh))
    out << "the check in front would exceed its limit of conditions";
  else
    out << "not a sum of loop-invariant terms and affine recurrences of this loop";
  return what;
}

void LoopVersioner::record(LoopRecord& entry, Loop& loop, const LoopPlan& plan, bool versioned,
                           Loop* slow) {
  bool guard = mode_ == abi::BoundsMode::Guard;
  if (!versioned) {
    entry.versioning = "not versioned: " + plan.whyNot;
    // Every check, or every volatile access, stays.
    for (BasicBlock* block : loop.blocks())
      for (Instruction& inst : *block) {
        auto* call = dyn_cast<CallInst>(&inst);
        bool check = call && call->getCalledFunction() &&
                     call->getCalledFunction()->getName() == kBoundsCheckFunction;
        bool isVolatile = getLoadStorePointerOperand(&inst) && inst.isVolatile();
        if (!(guard ? isVolatile : check)) continue;
        auto known =
            find_if(plan.uncoveredWhy, [&](const auto& why) { return why.first == &inst; });
        if (known != plan.uncoveredWhy.end()) {
          entry.remaining.push_back(known->second);
        } else {
          std::string what;
          raw_string_ostream out(what);
          if (check)
            out << "explicit check";
          else
            out << (isa<StoreInst>(inst) ? "store " : "load ") << *getLoadStoreType(&inst)
                << " (volatile)";
          entry.remaining.push_back(what + ": covered, but the loop is not versioned");
        }
      }
    return;
  }
  entry.versioning = "versioned: " + std::to_string(plan.accesses.size()) + " accesses and " +
                     std::to_string(plan.coveredChecks.size()) +
                     " checks proven in bounds by one check in front";
  if (!plan.aliasPlan.empty())
    entry.versioning += ", with a no-alias copy (" + std::to_string(plan.aliasPlan.size()) +
                        " groups checked apart)";
  for (const auto& [inst, why] : plan.uncoveredWhy)
    entry.remaining.push_back(why + (!guard               ? ""
                                     : plan.keepUncovered ? " (stays volatile)"
                                                          : " (explicit check added)"));
  if (slow) report_->noteCopy(slow->getHeader(), entry, LoopCopy::Fallback);
}

} // namespace

bool versionLoops(Function& function, abi::BoundsMode mode, LoopInfo& loops,
                  DominatorTree& dominators, ScalarEvolution& scev, LoopReport* report) {
  return LoopVersioner(function, mode, loops, dominators, scev, report).run();
}

} // namespace faasm::codegen
