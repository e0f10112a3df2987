// Loop versioning on bounds (see BoundsVersioning.h).
//
// ============================================================================
// SAFETY-CRITICAL. The fast copy of a loop runs without the checks that keep
// a guest inside its memory, so the one check in front of it must cover every
// access it removes, for every iteration the loop can run. The argument:
//  1. An access's byte offset from the memory base is a scalar-evolution
//     expression in i64. It is accepted only as a sum of terms, each of which
//     is loop-invariant, an affine recurrence of the loop in i64, or the
//     zero-extension of an affine i32 recurrence of the loop.
//  2. The loop takes its back edge at most B times (the symbolic maximum
//     back-edge count; or, for a latch that leaves when a counter stepping by
//     a power of two 2^k equals a limit, the distance / 2^k with the distance
//     checked to be a multiple of 2^k), so a recurrence {s,+,d} takes values
//     s + d*i for i in [0, B] only; being affine it is monotonic, and its
//     extremes are its values at 0 and at B, computed in i64 without
//     overflow: |d| < 2^31 and B < 2^32 are required, the latter checked at
//     run time.
//  3. Each term is checked at run time to stay inside [0, 2^33) at both
//     extremes (an i32 recurrence inside [0, 2^32), which also proves that
//     its i32 arithmetic never wraps, so zero-extending it is the same as
//     evaluating it in i64; an i32 start, and a loop-invariant zext of an
//     i32 value, is likewise spelled as an i64 expression congruent to it
//     modulo 2^32 (wide32), checked to stay below 2^32). The sum of
//     the terms' maxima is then at most a few times 2^33, again without
//     overflow, and bounds the offset.
//  4. The check is: that sum + the access size <= memorySize, read in front
//     of the loop. Memory never shrinks while code runs, so it holds for the
//     whole loop.
// In the fast copy the accesses use those i64 forms, and a counted latch
// compares the iteration number with B, which is equivalent once the checks
// hold. If any of this cannot be established the loop is left as it is. In guard
// mode an access the check does not cover stays volatile and faults where it
// stands; the fast copy is made only when the covered accesses are all loads
// (an ordinary load that cannot fault may move across one that can: neither
// writes, and the trap is the same), or when the uncovered ones are given
// explicit checks instead (below), so no store is reordered with a fault.
// A third copy, of the fast one, is entered when the ranges the accesses
// span over the loop, grouped by constant distance, are checked apart at run
// time (under the checks above each range is exact in i64); its accesses
// carry scoped no-alias metadata saying just that (aliasGroups). The metadata
// only lets the optimiser reorder accesses of different groups: a wrong
// range would give wrong results, never an access outside memory, as the
// bounds argument above does not depend on it.
// The same file merges explicit checks along a run of blocks (mergeChecks,
// argued where it is defined).
// Tests that try to break it: tests/sandbox (both modes, alias-versioning.wast
// for the third copy) and the spec suite.
// ============================================================================
#include "BoundsVersioning.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <cstddef>
#include <map>

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

namespace {

constexpr uint64_t kTermLimit = uint64_t(1) << 33;
constexpr uint64_t kI32Limit = uint64_t(1) << 32;
constexpr unsigned kMaxLoopInstructions = 4000; // larger loops are left alone (compile time)
constexpr unsigned kMaxChecks = 64;
constexpr unsigned kMaxAliasGroups = 4;
constexpr unsigned kMaxAliasLoopInstructions = 400; // the fast copy is copied once more

// The run-time condition of one loop, gathered as SCEVs: each `below` value
// must be unsigned-less than its limit, and each `end` (one past the last
// byte an access can touch) at most memorySize.
struct LoopCondition {
  SmallVector<std::pair<const SCEV*, uint64_t>, 8> below;
  SmallVector<const SCEV*, 8> ends;
};

class LoopVersioner {
public:
  LoopVersioner(Function& f, abi::BoundsMode mode, LoopInfo& loops, DominatorTree& dominators,
                ScalarEvolution& scev)
      : function_(f), mode_(mode), loops_(loops), dominators_(dominators), scev_(scev),
        i64_(Type::getInt64Ty(f.getContext())) {}

  bool run() {
    SmallVector<Loop*, 16> innermost;
    for (Loop* top : loops_)
      for (Loop* loop : depth_first(top))
        if (loop->isInnermost()) innermost.push_back(loop);
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
  IntegerType* i64_;

  bool isMemoryBase(const Value* value) const {
    // VMContext::memoryBase: a pointer loaded from the function's first
    // argument (the VMContext) at offset 0.
    static_assert(offsetof(abi::VMContext, memoryBase) == 0);
    const auto* load = dyn_cast<LoadInst>(value);
    if (!load || !load->getType()->isPointerTy()) return false;
    APInt offset(64, 0);
    const Value* from = load->getPointerOperand()->stripAndAccumulateInBoundsConstantOffsets(
        function_.getDataLayout(), offset);
    return from == function_.getArg(0) && offset.isZero();
  }

  // The byte offset an access starts at, as an i64 SCEV; null if unknown.
  const SCEV* accessOffset(Value* pointer) {
    const SCEV* address = scev_.getSCEV(pointer);
    const auto* base = dyn_cast<SCEVUnknown>(scev_.getPointerBase(address));
    if (!base || !isMemoryBase(base->getValue())) return nullptr;
    const SCEV* offset = scev_.removePointerBase(address);
    if (isa<SCEVCouldNotCompute>(offset) || offset->getType() != i64_) return nullptr;
    return offset;
  }

  void requireBelow(LoopCondition& condition, const SCEV* value, uint64_t limit) {
    if (scev_.getUnsignedRangeMax(value).ult(limit)) return; // known already
    condition.below.push_back({value, limit});
  }

  // Adds the conditions under which `term` stays in [0, 2^33) over the loop
  // and returns its largest value, or null if the term has no known shape.
  // `wide` receives the term as an i64 expression equal to it whenever the
  // conditions hold (a zero-extended i32 recurrence becomes an i64 one).
  const SCEV* termMaximum(const SCEV* term, const Loop& loop, const SCEV* backedges,
                          LoopCondition& condition, const SCEV*& wide) {
    if (term->getType() != i64_) return nullptr;
    wide = term;
    if (scev_.isLoopInvariant(term, &loop)) {
      // zext of an i32 value spelled as an i64 sum, as for starts below, so
      // that a[i] and a[i + 1] addressed from two invariant bases that an
      // outer loop computes apart are seen 8 bytes apart.
      if (const auto* ext = dyn_cast<SCEVZeroExtendExpr>(term);
          ext && ext->getOperand()->getType()->isIntegerTy(32)) {
        const SCEV* widened = wideStart(ext->getOperand(), condition);
        if (widened != term) {
          wide = widened;
          return widened;
        }
      }
      requireBelow(condition, term, kTermLimit);
      return term;
    }
    if (!backedges) return nullptr; // a recurrence needs a bound on the iterations
    if (const auto* rec = dyn_cast<SCEVAddRecExpr>(term)) {
      // i64 recurrence: constant step only, so |step * backedges| < 2^63.
      const auto* step = dyn_cast<SCEVConstant>(rec->getStepRecurrence(scev_));
      if (rec->getLoop() != &loop || !rec->isAffine() || !step) return nullptr;
      int64_t d = step->getAPInt().getSExtValue();
      if (d <= -(int64_t(1) << 31) || d >= (int64_t(1) << 31)) return nullptr;
      const SCEV* first = rec->getStart();
      const SCEV* last = scev_.getAddExpr(first, scev_.getMulExpr(step, backedges));
      requireBelow(condition, first, kTermLimit);
      requireBelow(condition, last, kTermLimit);
      return d >= 0 ? last : first;
    }
    if (const auto* product = dyn_cast<SCEVMulExpr>(term);
        product && product->getNumOperands() == 2) {
      // c * x for a constant 0 < c < 2^16 (an index scaled to bytes, as
      // scalar evolution spells zext(i << 2)): x's conditions, and c times
      // its largest value below 2^33, which keeps c * x exact in i64.
      const auto* factor = dyn_cast<SCEVConstant>(product->getOperand(0));
      if (!factor || factor->getAPInt().isZero() || !factor->getAPInt().ult(1 << 16))
        return nullptr;
      const SCEV* innerWide = nullptr;
      const SCEV* innerMaximum =
          termMaximum(product->getOperand(1), loop, backedges, condition, innerWide);
      if (!innerMaximum) return nullptr;
      const SCEV* maximum = scev_.getMulExpr(factor, innerMaximum);
      requireBelow(condition, maximum, kTermLimit);
      wide = scev_.getMulExpr(factor, innerWide);
      return maximum;
    }
    if (const auto* ext = dyn_cast<SCEVZeroExtendExpr>(term)) {
      // zext of an iN recurrence, N <= 32: |step| < 2^31 by type.
      const auto* rec = dyn_cast<SCEVAddRecExpr>(ext->getOperand());
      if (!rec || rec->getLoop() != &loop || !rec->isAffine() || !rec->getType()->isIntegerTy() ||
          rec->getType()->getIntegerBitWidth() > 32)
        return nullptr;
      unsigned width = rec->getType()->getIntegerBitWidth();
      const SCEV* step = rec->getStepRecurrence(scev_);
      if (!scev_.isLoopInvariant(step, &loop)) return nullptr;
      // A narrower start is zero-extended as it is: exact, and below 2^N.
      const SCEV* first = width == 32 ? wideStart(rec->getStart(), condition)
                                      : scev_.getZeroExtendExpr(rec->getStart(), i64_);
      const SCEV* step64 = scev_.getSignExtendExpr(step, i64_);
      const SCEV* last = scev_.getAddExpr(first, scev_.getMulExpr(step64, backedges));
      requireBelow(condition, last, uint64_t(1) << width); // no iN wrap at either end
      wide = scev_.getAddRecExpr(first, step64, &loop, SCEV::FlagAnyWrap);
      if (const auto* constant = dyn_cast<SCEVConstant>(step))
        return constant->getAPInt().isNonNegative() ? last : first;
      return scev_.getUMaxExpr(first, last);
    }
    return nullptr;
  }

  // An i32 start value s, as an i64 expression equal to zext(s) whenever it
  // lies in [0, 2^32) (checked): see wide32. Spelling starts this way lets
  // the optimiser see that a[i] and a[i + 1] are neighbours.
  const SCEV* wideStart(const SCEV* start, LoopCondition& condition) {
    const SCEV* wide = wide32(start, 0);
    if (wide != scev_.getZeroExtendExpr(start, i64_)) requireBelow(condition, wide, kI32Limit);
    return wide;
  }

  // An i64 expression congruent to the i32 expression x modulo 2^32: sums
  // and products term by term, constants sign-extended, a recurrence whose
  // innermost start adds a constant c as c + zext(the recurrence less c), a
  // truncation of an i64 value as that value, anything else zero-extended.
  // Addition and multiplication respect congruence, and so does the i64
  // arithmetic the expression is evaluated in even when it wraps (2^32
  // divides 2^64). So when the value lies in [0, 2^32), which the caller
  // checks at run time, it is zext(x) exactly, whatever x's own i32
  // arithmetic did on the way. Recurrences are not taken apart further: the
  // zext of one is a value the code has already, where a new i64 recurrence
  // would be a new register live across the outer loops.
  const SCEV* wide32(const SCEV* x, unsigned depth) {
    constexpr unsigned kMaxDepth = 6;
    if (const auto* constant = dyn_cast<SCEVConstant>(x))
      return scev_.getSignExtendExpr(constant, i64_);
    if (depth < kMaxDepth) {
      if (const auto* sum = dyn_cast<SCEVAddExpr>(x)) {
        SmallVector<const SCEV*, 4> terms;
        for (const SCEV* term : sum->operands())
          terms.push_back(wide32(term, depth + 1));
        return scev_.getAddExpr(terms);
      }
      if (const auto* product = dyn_cast<SCEVMulExpr>(x)) {
        SmallVector<const SCEV*, 4> factors;
        for (const SCEV* factor : product->operands())
          factors.push_back(wide32(factor, depth + 1));
        return scev_.getMulExpr(factors);
      }
      if (isa<SCEVAddRecExpr>(x)) {
        const SCEV* start = x;
        while (const auto* rec = dyn_cast<SCEVAddRecExpr>(start))
          start = rec->getStart();
        if (const auto* sum = dyn_cast<SCEVAddExpr>(start))
          if (const auto* constant = dyn_cast<SCEVConstant>(sum->getOperand(0)))
            return scev_.getAddExpr(scev_.getSignExtendExpr(constant, i64_),
                                    scev_.getZeroExtendExpr(scev_.getMinusSCEV(x, constant), i64_));
      }
      if (const auto* trunc = dyn_cast<SCEVTruncateExpr>(x);
          trunc && trunc->getOperand()->getType() == i64_)
        return trunc->getOperand();
    }
    return scev_.getZeroExtendExpr(x, i64_);
  }

  // Adds what proves [offset, offset + bytes) in bounds for the whole loop;
  // returns the offset as an i64 expression valid under that proof, or null.
  const SCEV* coverAccess(const SCEV* offset, uint64_t bytes, const Loop& loop,
                          const SCEV* backedges, LoopCondition& condition) {
    LoopCondition attempt = condition;
    const SCEV* maximum = scev_.getConstant(i64_, bytes);
    SmallVector<const SCEV*, 4> wideTerms;
    auto addTerm = [&](const SCEV* term) {
      const SCEV* wide = nullptr;
      const SCEV* termMax = termMaximum(term, loop, backedges, attempt, wide);
      if (!termMax) return false;
      maximum = scev_.getAddExpr(maximum, termMax);
      wideTerms.push_back(wide);
      return true;
    };
    if (const auto* sum = dyn_cast<SCEVAddExpr>(offset)) {
      for (const SCEV* term : sum->operands())
        if (!addTerm(term)) return nullptr;
    } else if (!addTerm(offset)) {
      return nullptr;
    }
    if (!is_contained(attempt.ends, maximum)) attempt.ends.push_back(maximum);
    if (attempt.below.size() + attempt.ends.size() > kMaxChecks) return nullptr;
    condition = std::move(attempt);
    return scev_.getAddExpr(wideTerms);
  }

  // A loop whose latch leaves when a counter {a,+,s} (s a constant power of
  // two in magnitude) equals an invariant c, the shape of a loop unrolled by
  // s: it takes its back edge d/|s| times, d = (c - a) for s > 0 and (a - c)
  // for s < 0 in the counter's width, provided d is a multiple of |s|. Sets
  // `divisible` to d mod |s|, which the check requires to be 0.
  const SCEV* countedBackedges(const Loop& loop, const SCEV*& divisible) {
    const SCEV* unknown = scev_.getCouldNotCompute();
    BasicBlock* latch = loop.getLoopLatch();
    auto* branch = latch ? dyn_cast<BranchInst>(latch->getTerminator()) : nullptr;
    if (!branch || !branch->isConditional() ||
        loop.contains(branch->getSuccessor(0)) == loop.contains(branch->getSuccessor(1)))
      return unknown;
    auto* compare = dyn_cast<ICmpInst>(branch->getCondition());
    if (!compare || !compare->isEquality()) return unknown;
    bool exitOnTrue = !loop.contains(branch->getSuccessor(0));
    if ((compare->getPredicate() == ICmpInst::ICMP_EQ) != exitOnTrue)
      return unknown; // leaves while the counter differs: not this shape
    const SCEV* counter = scev_.getSCEV(compare->getOperand(0));
    const SCEV* limit = scev_.getSCEV(compare->getOperand(1));
    if (scev_.isLoopInvariant(counter, &loop)) std::swap(counter, limit);
    const auto* rec = dyn_cast<SCEVAddRecExpr>(counter);
    if (!rec || rec->getLoop() != &loop || !rec->isAffine() || !scev_.isLoopInvariant(limit, &loop))
      return unknown;
    const auto* step = dyn_cast<SCEVConstant>(rec->getStepRecurrence(scev_));
    if (!step || step->getAPInt().isZero()) return unknown;
    APInt magnitude = step->getAPInt().abs();
    if (!magnitude.isPowerOf2()) return unknown;
    const SCEV* distance = step->getAPInt().isNegative()
                               ? scev_.getMinusSCEV(rec->getStart(), limit)
                               : scev_.getMinusSCEV(limit, rec->getStart());
    const SCEV* size = scev_.getConstant(magnitude);
    divisible = scev_.getURemExpr(distance, size);
    return scev_.getUDivExpr(distance, size);
  }

  // The memory base load an access's pointer is based on (accessOffset
  // has established that it is one).
  Value* memoryBaseOf(Value* pointer) {
    return cast<SCEVUnknown>(scev_.getPointerBase(scev_.getSCEV(pointer)))->getValue();
  }

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
  // this loop's own; the accesses become ordinary ones.
  void addExplicitChecks(Loop& loop, ArrayRef<Instruction*> uncovered) {
    LLVMContext& ctx = function_.getContext();
    Value* vmctx = function_.getArg(0);
    Type* ptr = PointerType::getUnqual(ctx);
    Type* i32 = Type::getInt32Ty(ctx);

    BasicBlock* trap = BasicBlock::Create(ctx, "trap.bounds", &function_);
    IRBuilder<> atTrap(trap);
    Value* calls =
        atTrap.CreateLoad(ptr, atTrap.CreateConstInBoundsGEP1_64(atTrap.getInt8Ty(), vmctx,
                                                                 offsetof(abi::VMContext, rt)));
    Value* trapCall =
        atTrap.CreateLoad(ptr, atTrap.CreateConstInBoundsGEP1_64(
                                   atTrap.getInt8Ty(), calls, offsetof(abi::RuntimeCalls, trap)));
    CallInst* call =
        atTrap.CreateCall(FunctionType::get(atTrap.getVoidTy(), {ptr, i32}, false), trapCall,
                          {vmctx, atTrap.getInt32(uint32_t(abi::TrapCode::MemoryOutOfBounds))});
    call->setDoesNotReturn();
    call->setDoesNotThrow();
    atTrap.CreateUnreachable();

    Function* outside = boundsCheckDeclaration(*function_.getParent());
    MDBuilder weights(ctx);
    for (Instruction* inst : uncovered) {
      Value* pointer = getLoadStorePointerOperand(inst);
      auto* baseLoad = cast<LoadInst>(memoryBaseOf(pointer));
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
      BranchInst::Create(trap, rest, fails, block)
          ->setMetadata(LLVMContext::MD_prof, weights.createUnlikelyBranchWeights());
      makeOrdinary(inst);
    }
    dominators_.recalculate(function_);
  }

  struct Access {
    Instruction* instruction; // a load or store of linear memory
    const SCEV* wideOffset;   // its offset, equal to the original in the fast copy
  };

  // Covered accesses whose offsets differ by a constant, with the bytes
  // they span over the whole loop: [low, high). Valid under the bounds
  // condition, which keeps every offset in i64 without wrapping, so an
  // affine offset's extremes are its values at the first and last
  // iteration.
  struct AliasGroup {
    const SCEV* representative;
    const SCEV* low;
    const SCEV* high;
    bool stores;
    SmallVector<Instruction*, 8> members;
    bool severalOffsets; // members at more than one offset
  };

  // The groups whose ranges, checked apart at run time, let the fast copy
  // say which accesses cannot alias; empty when there is nothing to gain
  // (fewer than two groups, no store) or the shape is not known.
  SmallVector<AliasGroup, kMaxAliasGroups> aliasGroups(ArrayRef<Access> accesses, const Loop& loop,
                                                       const SCEV* backedges,
                                                       unsigned instructions) {
    if (!backedges || instructions > kMaxAliasLoopInstructions) return {};
    // One memory base, and nothing that could move it or touch memory
    // unseen (a call) inside the loop.
    for (BasicBlock* block : loop.blocks())
      for (Instruction& inst : *block)
        if (auto* call = dyn_cast<CallBase>(&inst);
            call && (!call->getCalledFunction() ||
                     call->getCalledFunction()->getName() != kBoundsCheckFunction))
          return {};
    SmallVector<AliasGroup, kMaxAliasGroups> groups;
    Value* base = nullptr;
    for (const Access& access : accesses) {
      Value* accessBase = memoryBaseOf(getLoadStorePointerOperand(access.instruction));
      if (base && accessBase != base) return {};
      base = accessBase;
      const SCEV* first = access.wideOffset;
      const SCEV* last = access.wideOffset;
      if (!scev_.isLoopInvariant(access.wideOffset, &loop)) {
        const auto* rec = dyn_cast<SCEVAddRecExpr>(access.wideOffset);
        if (!rec || rec->getLoop() != &loop || !rec->isAffine()) return {};
        first = rec->getStart();
        last = rec->evaluateAtIteration(backedges, scev_);
      }
      uint64_t bytes =
          function_.getDataLayout().getTypeStoreSize(getLoadStoreType(access.instruction));
      const SCEV* low = scev_.getUMinExpr(first, last);
      const SCEV* high =
          scev_.getAddExpr(scev_.getUMaxExpr(first, last), scev_.getConstant(i64_, bytes));
      auto group = find_if(groups, [&](const AliasGroup& candidate) {
        return isa<SCEVConstant>(scev_.getMinusSCEV(access.wideOffset, candidate.representative));
      });
      if (group == groups.end()) {
        if (groups.size() == kMaxAliasGroups) return {};
        groups.push_back({access.wideOffset, low, high, false, {}, false});
        group = groups.end() - 1;
      } else {
        group->low = scev_.getUMinExpr(group->low, low);
        group->high = scev_.getUMaxExpr(group->high, high);
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
    if (none_of(groups,
                [](const AliasGroup& group) { return group.stores && group.severalOffsets; }))
      return {};
    return groups;
  }

  // Pairs of groups whose disjointness is checked: those with a store.
  static bool aliasChecked(const AliasGroup& a, const AliasGroup& b) {
    return a.stores || b.stores;
  }

  // The clone of `loop` (with a new preheader) that runs when `condition`,
  // evaluated at the end of `preheader`, is false; `loop` runs when true.
  Loop* cloneBehind(Loop& loop, BasicBlock* preheader, Value* condition, const Twine& loopSuffix,
                    const Twine& cloneSuffix) {
    BasicBlock* loopPreheader = SplitBlock(preheader, preheader->getTerminator(), &dominators_,
                                           &loops_, nullptr, preheader->getName() + loopSuffix);
    SmallVector<BasicBlock*, 16> cloneBlocks;
    ValueToValueMapTy map;
    Loop* clone = cloneLoopWithPreheader(loopPreheader, preheader, &loop, map, cloneSuffix, &loops_,
                                         &dominators_, cloneBlocks);
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
    dominators_.recalculate(function_);
    return clone;
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

  bool version(Loop& loop) {
    // As the loop vectoriser does: put the loop in simplified, LCSSA form.
    simplifyLoop(&loop, &dominators_, &loops_, &scev_, nullptr, nullptr, false);
    formLCSSA(loop, dominators_, &loops_, &scev_);
    if (!loop.isLoopSimplifyForm() || !loop.isLCSSAForm(dominators_)) return false;
    BasicBlock* preheader = loop.getLoopPreheader();
    // The bound on back edges may rest on predicates (typically: a counter
    // stepping by 2 towards 0 does not wrap), then checked with the rest.
    SmallVector<const SCEVPredicate*, 4> predicates;
    const SCEV* backedges = scev_.getSymbolicMaxBackedgeTakenCount(&loop);
    const SCEV* divisible = nullptr; // for countedBackedges: must be 0 on entry
    if (isa<SCEVCouldNotCompute>(backedges)) backedges = countedBackedges(loop, divisible);
    if (isa<SCEVCouldNotCompute>(backedges))
      backedges = scev_.getPredicatedSymbolicMaxBackedgeTakenCount(&loop, predicates);
    // Without a bound only loop-invariant addresses can be covered.
    LoopCondition condition;
    const SCEV* backedges64 = nullptr;
    if (!isa<SCEVCouldNotCompute>(backedges) && backedges->getType()->getIntegerBitWidth() <= 64) {
      backedges64 = scev_.getNoopOrZeroExtend(backedges, i64_);
      requireBelow(condition, backedges64, kI32Limit);
    } else {
      divisible = nullptr;
      predicates.clear();
    }

    bool guard = mode_ == abi::BoundsMode::Guard;
    SmallVector<CallInst*, 16> coveredChecks;
    SmallVector<Access, 16> accesses;
    SmallVector<Instruction*, 16> uncovered; // guard mode only
    unsigned instructions = 0;
    for (BasicBlock* block : loop.blocks()) {
      for (Instruction& inst : *block) {
        if (++instructions > kMaxLoopInstructions) return false;
        if (auto* call = dyn_cast<CallInst>(&inst)) {
          // Explicit mode's check: its first operand is the end of the access.
          Function* callee = call->getCalledFunction();
          if (!callee || callee->getName() != kBoundsCheckFunction) continue;
          const SCEV* end = scev_.getSCEV(call->getArgOperand(0));
          if (end->getType() == i64_ && coverAccess(end, 0, loop, backedges64, condition))
            coveredChecks.push_back(call);
          continue;
        }
        Value* pointer = getLoadStorePointerOperand(&inst);
        if (!pointer) continue;
        bool isVolatile = inst.isVolatile();
        Type* type = getLoadStoreType(&inst);
        const SCEV* offset = accessOffset(pointer);
        const SCEV* wide = nullptr;
        if (offset)
          wide = coverAccess(offset, function_.getDataLayout().getTypeStoreSize(type), loop,
                             backedges64, condition);
        if (wide)
          accesses.push_back({&inst, wide});
        else if (guard && isVolatile && offset)
          uncovered.push_back(&inst);
        else if (guard && isVolatile)
          return false; // an access whose offset is unknown cannot be checked
      }
    }
    if (coveredChecks.empty() && accesses.empty()) return false;
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
    bool keepUncovered = !uncovered.empty() && none_of(accesses, [](const Access& access) {
      return isa<StoreInst>(access.instruction);
    });
    if (!uncovered.empty() && !keepUncovered) {
      bool fixedStore = any_of(accesses, [&](const Access& access) {
        return isa<StoreInst>(access.instruction) &&
               scev_.isLoopInvariant(access.wideOffset, &loop);
      });
      if (!fixedStore || uncovered.size() >= accesses.size()) return false;
    }
    // A loop with more than one exit that stores to a fixed address every
    // time round without loading it again: a scanner keeping its cursor in
    // memory (skipping spaces, reading digits, finding the closing quote).
    // Those run zero or one iteration per entry more often than not, and the
    // vectoriser will not take a loop with two exits, so the check in front
    // costs more than the fast copy saves: json ran 1.37-1.47x native with
    // it, 1.13-1.21x without in guard mode (explicit: 1.50-1.70x, 1.34x).
    // Loops of loads alone, such as a sort's scans, gain from it.
    if (!loop.getExitingBlock() && storesFixedWithoutReload(accesses, loop)) return false;

    SCEVExpander expander(scev_, function_.getDataLayout(), "bounds");
    Instruction* insertAt = preheader->getTerminator();
    // Where all accesses are covered and they fall in groups apart from
    // each other, a third copy, entered when the groups' ranges are checked
    // disjoint, says so (scoped no-alias metadata): the loop vectoriser and
    // the SLP vectoriser then need no checks of their own, which for a loop
    // clang unrolled before (a[j], a[j + 1]) always fail, as their ranges
    // interleave.
    SmallVector<AliasGroup, kMaxAliasGroups> aliasPlan;
    if (uncovered.empty()) aliasPlan = aliasGroups(accesses, loop, backedges64, instructions);
    for (const AliasGroup& group : aliasPlan)
      if (!expander.isSafeToExpandAt(group.low, insertAt) ||
          !expander.isSafeToExpandAt(group.high, insertAt)) {
        aliasPlan.clear();
        break;
      }
    for (const auto& [value, limit] : condition.below)
      if (!expander.isSafeToExpandAt(value, insertAt)) return false;
    for (const SCEV* end : condition.ends)
      if (!expander.isSafeToExpandAt(end, insertAt)) return false;
    for (const Access& access : accesses)
      if (!expander.isSafeToExpandAt(access.wideOffset, &*loop.getHeader()->getFirstInsertionPt()))
        return false;

    // The check, at the end of the preheader.
    IRBuilder<> builder(insertAt);
    Value* inBounds = builder.getTrue();
    for (const auto& [value, limit] : condition.below) {
      Value* expanded = expander.expandCodeFor(value, i64_, insertAt);
      inBounds =
          builder.CreateAnd(inBounds, builder.CreateICmpULT(expanded, builder.getInt64(limit)));
    }
    Value* backedgeCount = nullptr;
    if (divisible) {
      inBounds = builder.CreateAnd(
          inBounds, builder.CreateICmpEQ(expander.expandCodeFor(divisible, nullptr, insertAt),
                                         ConstantInt::get(divisible->getType(), 0)));
      backedgeCount = expander.expandCodeFor(backedges64, i64_, insertAt);
    }
    for (const SCEVPredicate* predicate : predicates) // expands to true when it fails
      inBounds = builder.CreateAnd(
          inBounds, builder.CreateNot(expander.expandCodeForPredicate(predicate, insertAt)));
    Value* sizeAddress = builder.CreateConstInBoundsGEP1_64(
        builder.getInt8Ty(), function_.getArg(0), offsetof(abi::VMContext, memorySize));
    Value* memorySize = builder.CreateLoad(i64_, sizeAddress, "memory.size");
    for (const SCEV* end : condition.ends) {
      Value* expanded = expander.expandCodeFor(end, i64_, insertAt);
      inBounds = builder.CreateAnd(inBounds, builder.CreateICmpULE(expanded, memorySize));
    }

    // The alias condition, from the same SCEVs, before anything changes.
    Value* disjoint = nullptr;
    if (!aliasPlan.empty()) {
      disjoint = builder.getTrue();
      for (size_t a = 0; a < aliasPlan.size(); ++a)
        for (size_t b = a + 1; b < aliasPlan.size(); ++b) {
          if (!aliasChecked(aliasPlan[a], aliasPlan[b])) continue;
          auto expand = [&](const SCEV* value) {
            return expander.expandCodeFor(value, i64_, insertAt);
          };
          Value* below = builder.CreateICmpULE(expand(aliasPlan[a].high), expand(aliasPlan[b].low));
          Value* above = builder.CreateICmpULE(expand(aliasPlan[b].high), expand(aliasPlan[a].low));
          disjoint = builder.CreateAnd(disjoint, builder.CreateOr(below, above));
        }
    }
    expander.clear();

    // preheader -> (checked) fast loop | slow loop, a copy as it was.
    Loop* slow = cloneBehind(loop, preheader, inBounds, ".inbounds", ".checked");
    // The slow copy keeps every check; nothing will vectorise it.
    LLVMContext& ctx = function_.getContext();
    MDNode* noVectorise = MDNode::get(ctx, {MDString::get(ctx, "llvm.loop.vectorize.enable"),
                                            ConstantAsMetadata::get(ConstantInt::getFalse(ctx))});
    MDNode* noUnroll = MDNode::get(ctx, {MDString::get(ctx, "llvm.loop.unroll.disable")});
    MDNode* id = MDNode::getDistinct(ctx, {nullptr, noVectorise, noUnroll});
    id->replaceOperandWith(0, id);
    slow->setLoopID(id);

    // The fast copy: covered checks pass; covered accesses are ordinary
    // loads and stores at an i64 offset the optimiser can follow.
    for (CallInst* call : coveredChecks) {
      call->replaceAllUsesWith(ConstantInt::getFalse(ctx));
      call->eraseFromParent();
    }
    // One pointer per distinct offset, so that the loop vectoriser sees a
    // load and a store of the same element as one pointer.
    SCEVExpander wideExpander(scev_, function_.getDataLayout(), "inbounds");
    DenseMap<const SCEV*, Value*> pointers;
    Instruction* headerStart = &*loop.getHeader()->getFirstInsertionPt();
    for (const Access& access : accesses) {
      Instruction* inst = access.instruction;
      Value*& pointer = pointers[access.wideOffset];
      if (!pointer) {
        // Affine in this loop and invariant parts only: computable on entry
        // to the header, which dominates every access of the loop.
        Value* base = memoryBaseOf(getLoadStorePointerOperand(inst));
        Value* offset = wideExpander.expandCodeFor(access.wideOffset, i64_, headerStart);
        pointer = GetElementPtrInst::CreateInBounds(Type::getInt8Ty(ctx), base, {offset},
                                                    "inbounds.address", headerStart);
      }
      makeOrdinary(inst, pointer);
    }
    if (!uncovered.empty() && !keepUncovered) addExplicitChecks(loop, uncovered);
    if (backedgeCount) {
      // The counter leaves at iteration `backedgeCount` exactly; saying so on
      // the iteration number gives the vectoriser a trip count it can use.
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
    wideExpander.clear();
    if (disjoint) {
      // fast copy -> (disjoint) this loop, tagged | an untagged copy.
      cloneBehind(loop, loop.getLoopPreheader(), disjoint, ".disjoint", ".overlapping");
      MDBuilder scopes(ctx);
      MDNode* domain = scopes.createAnonymousAliasScopeDomain("faasm.bounds");
      SmallVector<MDNode*, kMaxAliasGroups> scope;
      for (size_t g = 0; g < aliasPlan.size(); ++g)
        scope.push_back(scopes.createAnonymousAliasScope(domain));
      for (size_t g = 0; g < aliasPlan.size(); ++g) {
        SmallVector<Metadata*, kMaxAliasGroups> apart;
        for (size_t h = 0; h < aliasPlan.size(); ++h)
          if (h != g && aliasChecked(aliasPlan[g], aliasPlan[h])) apart.push_back(scope[h]);
        for (Instruction* inst : aliasPlan[g].members) {
          inst->setMetadata(LLVMContext::MD_alias_scope, MDNode::get(ctx, {scope[g]}));
          inst->setMetadata(LLVMContext::MD_noalias, MDNode::get(ctx, apart));
        }
      }
    }
    scev_.forgetLoop(&loop);
    return true;
  }
};

// Merging explicit checks: along a run of blocks joined by bounds checks
// (each block's branch either traps or falls through to a block with no
// other predecessor), with no store, call or other side effect in between,
// checks whose ends differ only by a constant are one check: the first, of
// the largest end. An access between the first and the last is then covered
// before it runs; a trap comes earlier, but only loads would have run in
// between, so nothing observable differs (the trap is the same).
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

} // namespace

PreservedAnalyses BoundsVersioningPass::run(Function& function, FunctionAnalysisManager& analyses) {
  if (function.isDeclaration() || function.arg_empty()) return PreservedAnalyses::all();
  auto& loops = analyses.getResult<LoopAnalysis>(function);
  auto& dominators = analyses.getResult<DominatorTreeAnalysis>(function);
  auto& scev = analyses.getResult<ScalarEvolutionAnalysis>(function);
  bool changed = !loops.empty() && LoopVersioner(function, mode_, loops, dominators, scev).run();
  if (changed) {
    analyses.invalidate(function, PreservedAnalyses::none());
  }
  auto& freshScev = analyses.getResult<ScalarEvolutionAnalysis>(function);
  changed |= mergeChecks(function, freshScev);
  return changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace faasm::codegen
