// The analysis both loop transformations that remove bounds checks rest on
// (LoopVersioning.cpp, NoAliasCopy.cpp): an access's offset as a sum of terms
// scalar evolution can bound over a loop, and the run-time conditions under
// which that bound holds. The argument is at the top of BoundsProof.cpp.
#pragma once

#include <llvm/ADT/SmallVector.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instruction.h>

#include <cstdint>
#include <utility>

namespace faasm::codegen {

inline constexpr uint64_t kI32Limit = uint64_t(1) << 32;

// The run-time condition of one loop, gathered as SCEVs: each `below` value
// must be unsigned-less than its limit, and each `end` (one past the last
// byte an access can touch) at most memorySize.
struct LoopCondition {
  llvm::SmallVector<std::pair<const llvm::SCEV*, uint64_t>, 8> below;
  llvm::SmallVector<const llvm::SCEV*, 8> ends;
};

// A linear-memory access the condition of its loop covers.
struct Access {
  llvm::Instruction* instruction; // a load or store of linear memory
  const llvm::SCEV* wideOffset;   // its offset, equal to the original in the fast copy
};

class BoundsProof {
public:
  BoundsProof(llvm::Function& function, llvm::ScalarEvolution& scev);

  // The byte offset an access starts at, as an i64 SCEV; null if unknown.
  const llvm::SCEV* accessOffset(llvm::Value* pointer);

  // The memory base load an access's pointer is based on (accessOffset
  // has established that it is one).
  llvm::Value* memoryBaseOf(llvm::Value* pointer);

  // Adds `value < limit` to the condition unless scalar evolution knows it.
  void requireBelow(LoopCondition& condition, const llvm::SCEV* value, uint64_t limit);

  // Adds what proves [offset, offset + bytes) in bounds for the whole loop;
  // returns the offset as an i64 expression valid under that proof, or null
  // (and leaves the condition as it was).
  const llvm::SCEV* coverAccess(const llvm::SCEV* offset, uint64_t bytes, const llvm::Loop& loop,
                                const llvm::SCEV* backedges, LoopCondition& condition);

  // The number of back edges of a loop whose latch leaves when a counter
  // stepping by a power of two equals a limit (the shape of a loop unrolled
  // by clang); `divisible` must be 0 on entry for it to hold.
  const llvm::SCEV* countedBackedges(const llvm::Loop& loop, const llvm::SCEV*& divisible);

private:
  bool isMemoryBase(const llvm::Value* value) const;
  const llvm::SCEV* termMaximum(const llvm::SCEV* term, const llvm::Loop& loop,
                                const llvm::SCEV* backedges, LoopCondition& condition,
                                const llvm::SCEV*& wide);
  const llvm::SCEV* wideStart(const llvm::SCEV* start, LoopCondition& condition);
  const llvm::SCEV* wide32(const llvm::SCEV* x, unsigned depth);

  llvm::Function& function_;
  llvm::ScalarEvolution& scev_;
  llvm::IntegerType* i64_;
};

} // namespace faasm::codegen
