#include "LoopReport.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/Function.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace llvm;

namespace faasm::codegen {

namespace {

constexpr const char* kVectoriser = "loop-vectorize";
constexpr size_t kMaxRemainingShown = 12;

// The smallest wasm offset named by a block of `loop` outside its subloops
// (theirs carry their own).
int64_t wasmOffset(const Loop& loop) {
  int64_t best = -1;
  for (const BasicBlock* block : loop.blocks()) {
    if (any_of(loop.getSubLoops(), [&](const Loop* sub) { return sub->contains(block); })) continue;
    StringRef name = block->getName();
    uint64_t offset = 0;
    if (!name.consume_front(kLoopBlockPrefix) || name.consumeInteger(10, offset)) continue;
    if (best < 0 || int64_t(offset) < best) best = int64_t(offset);
  }
  return best;
}

class RemarkHandler : public DiagnosticHandler {
public:
  explicit RemarkHandler(LoopReport& report) : report_(report) {}
  bool isAnalysisRemarkEnabled(StringRef pass) const override { return pass == kVectoriser; }
  bool isMissedOptRemarkEnabled(StringRef pass) const override { return pass == kVectoriser; }
  bool isPassedOptRemarkEnabled(StringRef pass) const override { return pass == kVectoriser; }
  bool isAnyRemarkEnabled() const override { return true; }
  bool handleDiagnostics(const DiagnosticInfo& info) override {
    auto* remark = dyn_cast<DiagnosticInfoOptimizationBase>(&info);
    if (!remark) return false;
    if (remark->getPassName() == kVectoriser) report_.noteRemark(*remark);
    return true;
  }

private:
  LoopReport& report_;
};

} // namespace

LoopRecord& LoopReport::add(const Loop& loop) {
  records_.push_back(std::make_unique<LoopRecord>());
  LoopRecord& record = *records_.back();
  record.function = loop.getHeader()->getParent()->getName().str();
  record.offset = wasmOffset(loop);
  record.depth = loop.getLoopDepth();
  record.innermost = loop.isInnermost();
  headers_[loop.getHeader()] = {&record, LoopCopy::Running};
  return record;
}

void LoopReport::noteCopy(const BasicBlock* header, LoopRecord& record, LoopCopy copy) {
  headers_[header] = {&record, copy};
}

void LoopReport::noteRemark(const DiagnosticInfoOptimizationBase& remark) {
  const auto* ir = dyn_cast<DiagnosticInfoIROptimization>(&remark);
  if (!ir) return;
  const auto* header = dyn_cast_or_null<BasicBlock>(ir->getCodeRegion());
  auto found = headers_.find(header);
  if (found == headers_.end() || found->second.second != LoopCopy::Running) return;
  LoopRecord& record = *found->second.first;
  std::string message = remark.getMsg();
  if (remark.isPassed()) {
    record.vectorised = message;
  } else if (record.vectorised.empty()) {
    if (remark.getKind() == DK_OptimizationRemarkAnalysis || record.vectoriserReason.empty()) {
      // The analysis says why; the generic "loop not vectorized" is kept
      // only until one arrives.
      bool generic = StringRef(message).trim() == "loop not vectorized";
      if (!generic || record.vectoriserReason.empty()) record.vectoriserReason = message;
    }
  }
}

std::vector<LoopRecord> LoopReport::take() {
  std::vector<LoopRecord> out;
  for (auto& record : records_)
    out.push_back(std::move(*record));
  records_.clear();
  headers_.clear();
  return out;
}

std::unique_ptr<DiagnosticHandler> LoopReport::handlerFor(LoopReport& report) {
  return std::make_unique<RemarkHandler>(report);
}

std::string formatLoopReport(std::vector<LoopRecord> records) {
  // wasm.N by N, then named functions by name; loops by offset.
  auto functionKey = [](const std::string& name) {
    StringRef rest(name);
    uint64_t index = 0;
    if (rest.consume_front("wasm.") && !rest.consumeInteger(10, index) && rest.empty())
      return std::make_pair(index, std::string());
    return std::make_pair(uint64_t(-1), name);
  };
  std::stable_sort(records.begin(), records.end(), [&](const LoopRecord& a, const LoopRecord& b) {
    auto ka = functionKey(a.function), kb = functionKey(b.function);
    if (ka != kb) return ka < kb;
    return a.offset < b.offset;
  });
  std::string out;
  for (const LoopRecord& record : records) {
    out += record.function;
    out += record.offset >= 0 ? " loop body at 0x" + utohexstr(uint64_t(record.offset))
                              : std::string(" loop body at ?");
    out += " depth " + std::to_string(record.depth);
    if (!record.innermost) {
      out += ": outer loop (only innermost loops are versioned and vectorised)\n";
      continue;
    }
    out += "\n  bounds: " + record.versioning + "\n";
    out += "  vectoriser: ";
    if (!record.vectorised.empty())
      out += record.vectorised;
    else if (!record.vectoriserReason.empty())
      out += "not vectorised: " +
             StringRef(record.vectoriserReason)
                 .trim()
                 .drop_front(
                     StringRef(record.vectoriserReason).trim().starts_with("loop not vectorized: ")
                         ? strlen("loop not vectorized: ")
                         : 0)
                 .str();
    else
      out += "no remark (the loop was not given to it: removed, unrolled or merged before)";
    out += "\n";
    if (record.remaining.empty()) {
      out += "  checks left: none\n";
      continue;
    }
    out += "  checks left: " + std::to_string(record.remaining.size()) + "\n";
    for (size_t i = 0; i < record.remaining.size() && i < kMaxRemainingShown; ++i)
      out += "    " + record.remaining[i] + "\n";
    if (record.remaining.size() > kMaxRemainingShown)
      out +=
          "    ... and " + std::to_string(record.remaining.size() - kMaxRemainingShown) + " more\n";
  }
  return out;
}

} // namespace faasm::codegen
