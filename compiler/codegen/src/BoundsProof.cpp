// The bounds proof of a loop (see BoundsProof.h).
//
// ============================================================================
// SAFETY-CRITICAL. LoopVersioning.cpp runs a loop without the checks that
// keep a guest inside its memory when the condition built here holds, so
// the condition must cover every access it is asked to, for every iteration
// the loop can run. The argument:
//  1. An access's byte offset from the memory base is a scalar-evolution
//     expression in i64. It is accepted only as a sum of terms, each of which
//     is loop-invariant, an affine recurrence of the loop in i64, the
//     zero-extension of an affine iN recurrence of the loop (N <= 32), or a
//     constant 0 < c < 2^16 times one of those.
//  2. The loop takes its back edge at most B times (the symbolic maximum
//     back-edge count; or, for a latch that leaves when a counter stepping by
//     a power of two 2^k equals a limit, the distance / 2^k with the distance
//     checked to be a multiple of 2^k: countedBackedges), so a recurrence
//     {s,+,d} takes values s + d*i for i in [0, B] only; being affine it is
//     monotonic, and its extremes are its values at 0 and at B, computed in
//     i64 without overflow: |d| < 2^31 and B < 2^32 are required, the latter
//     checked at run time (by the caller, which owns B).
//  3. Each term is checked at run time to stay inside [0, 2^33) at both
//     extremes (an iN recurrence inside [0, 2^N), which also proves that
//     its iN arithmetic never wraps, so zero-extending it is the same as
//     evaluating it in i64; an i32 start, and a loop-invariant zext of an
//     i32 value, is likewise spelled as an i64 expression congruent to it
//     modulo 2^32 (wide32), checked to stay below 2^32). The sum of
//     the terms' maxima is then at most a few times 2^33, again without
//     overflow, and bounds the offset.
//  4. The check is: that sum + the access size <= memorySize, read in front
//     of the loop. Memory never shrinks while code runs, so it holds for the
//     whole loop.
// coverAccess returns the offset in those i64 forms, equal to the original
// offset whenever the condition holds; the fast copy addresses with them. If
// any of this cannot be established for an access, it is not covered.
// Tests that try to break it: tests/sandbox/loop-versioning.wast and
// alias-versioning.wast (both modes), the spec suite, tests/golden.
// ============================================================================
#include "BoundsProof.h"

#include "faasm/abi/Abi.h"

#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/Instructions.h>

#include <cstddef>

using namespace llvm;

namespace faasm::codegen {

namespace {

constexpr uint64_t kTermLimit = uint64_t(1) << 33;
constexpr unsigned kMaxChecks = 64;

} // namespace

BoundsProof::BoundsProof(Function& function, ScalarEvolution& scev)
    : function_(function), scev_(scev), i64_(Type::getInt64Ty(function.getContext())) {}

bool BoundsProof::isMemoryBase(const Value* value) const {
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

const SCEV* BoundsProof::accessOffset(Value* pointer) {
  const SCEV* address = scev_.getSCEV(pointer);
  const auto* base = dyn_cast<SCEVUnknown>(scev_.getPointerBase(address));
  if (!base || !isMemoryBase(base->getValue())) return nullptr;
  const SCEV* offset = scev_.removePointerBase(address);
  if (isa<SCEVCouldNotCompute>(offset) || offset->getType() != i64_) return nullptr;
  return offset;
}

Value* BoundsProof::memoryBaseOf(Value* pointer) {
  return cast<SCEVUnknown>(scev_.getPointerBase(scev_.getSCEV(pointer)))->getValue();
}

void BoundsProof::requireBelow(LoopCondition& condition, const SCEV* value, uint64_t limit) {
  if (scev_.getUnsignedRangeMax(value).ult(limit)) return; // known already
  condition.below.push_back({value, limit});
}

const SCEV* BoundsProof::coverAccess(const SCEV* offset, uint64_t bytes, const Loop& loop,
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

// Adds the conditions under which `term` stays in [0, 2^33) over the loop
// and returns its largest value, or null if the term has no known shape.
// `wide` receives the term as an i64 expression equal to it whenever the
// conditions hold (a zero-extended i32 recurrence becomes an i64 one).
const SCEV* BoundsProof::termMaximum(const SCEV* term, const Loop& loop, const SCEV* backedges,
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
    if (!factor || factor->getAPInt().isZero() || !factor->getAPInt().ult(1 << 16)) return nullptr;
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
const SCEV* BoundsProof::wideStart(const SCEV* start, LoopCondition& condition) {
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
const SCEV* BoundsProof::wide32(const SCEV* x, unsigned depth) {
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

// A loop whose latch leaves when a counter {a,+,s} (s a constant power of
// two in magnitude) equals an invariant c, the shape of a loop unrolled by
// s: it takes its back edge d/|s| times, d = (c - a) for s > 0 and (a - c)
// for s < 0 in the counter's width, provided d is a multiple of |s|. Sets
// `divisible` to d mod |s|, which the check requires to be 0.
const SCEV* BoundsProof::countedBackedges(const Loop& loop, const SCEV*& divisible) {
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
  const SCEV* distance = step->getAPInt().isNegative() ? scev_.getMinusSCEV(rec->getStart(), limit)
                                                       : scev_.getMinusSCEV(limit, rec->getStart());
  const SCEV* size = scev_.getConstant(magnitude);
  divisible = scev_.getURemExpr(distance, size);
  return scev_.getUDivExpr(distance, size);
}

} // namespace faasm::codegen
