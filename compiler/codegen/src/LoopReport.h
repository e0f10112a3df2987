// faasm-codegen --report-loops: for each loop the optimiser still sees when
// bounds versioning runs, whether it was versioned, which bounds checks its
// running copy keeps and why, and what LLVM's loop vectoriser made of it
// (its own optimisation remarks). A diagnostic for users: nothing here
// changes the code that is generated.
#pragma once

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/DiagnosticHandler.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/LLVMContext.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace faasm::codegen {

// The prefix of a wasm `loop`'s header block when loops are reported; the
// byte offset of its body in the module follows.
inline constexpr const char* kLoopBlockPrefix = "loop.at.";

struct LoopRecord {
  std::string function;
  // The byte offset in the module of the loop's body (just after `loop` and
  // its block type); -1 if LLVM merged away the block that carried it.
  int64_t offset = -1;
  unsigned depth = 1;
  bool innermost = true;
  std::string versioning;             // "versioned ..." or "not versioned: <why>"
  std::vector<std::string> remaining; // checks the running copy keeps, each with its reason
  std::string vectorised;             // from the vectoriser's remarks about the running copy
  std::string vectoriserReason;       // its analysis when it did not vectorise
};

// Which copy of a loop a header belongs to.
enum class LoopCopy { Running, Fallback };

// One partition's records (one LLVMContext, one thread).
class LoopReport {
public:
  // A record for `loop`, whose header (and, once versioned, the headers of
  // its copies: noteCopy) the vectoriser's remarks are matched by.
  LoopRecord& add(const llvm::Loop& loop);
  void noteCopy(const llvm::BasicBlock* header, LoopRecord& record, LoopCopy copy);
  void noteRemark(const llvm::DiagnosticInfoOptimizationBase& remark);
  std::vector<LoopRecord> take();

  // Routes loop-vectorize's remarks to `report`; other diagnostics go on
  // to LLVM's default handling.
  static std::unique_ptr<llvm::DiagnosticHandler> handlerFor(LoopReport& report);

private:
  std::vector<std::unique_ptr<LoopRecord>> records_;
  std::map<const llvm::BasicBlock*, std::pair<LoopRecord*, LoopCopy>> headers_;
};

// The report's text: a line per loop (function, wasm offset, depth), the
// verdicts, and the checks that remain, sorted by function and offset.
std::string formatLoopReport(std::vector<LoopRecord> records);

} // namespace faasm::codegen
