// The limits pass: a WABT binary-reader delegate that counts, and fails the
// read at the first limit exceeded. WABT's reader decodes instructions in a
// loop and calls back per instruction, so nothing here recurses either; the
// nesting is a counter and the label arities a vector.
#include "WasmLimits.h"

#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"
#include "wabt/feature.h"

#include <algorithm>
#include <vector>

namespace faasm::codegen {

namespace {

using wabt::Index;
using wabt::Result;
using wabt::Type;

class LimitChecker : public wabt::BinaryReaderNop {
public:
  std::string problem; // the first limit exceeded

  bool OnError(const wabt::Error&) override { return true; }

  Result OnTypeCount(Index count) override { return count_("types", count, WasmLimits::kTypes); }
  Result OnFuncType(Index index, Index paramCount, Type*, Index resultCount, Type*) override {
    if (paramCount > WasmLimits::kParams)
      return fail("type " + std::to_string(index) + " has " + std::to_string(paramCount) +
                  " params, more than the limit of " + std::to_string(WasmLimits::kParams));
    if (resultCount > WasmLimits::kResults)
      return fail("type " + std::to_string(index) + " has " + std::to_string(resultCount) +
                  " results, more than the limit of " + std::to_string(WasmLimits::kResults));
    types_.push_back({paramCount, resultCount});
    return Result::Ok;
  }
  Result OnImportCount(Index count) override {
    return count_("imports", count, WasmLimits::kImports);
  }
  Result OnImportFunc(Index, std::string_view, std::string_view, Index, Index sigIndex) override {
    functionTypes_.push_back(sigIndex);
    return Result::Ok;
  }
  Result OnFunctionCount(Index count) override {
    return count_("functions", count, WasmLimits::kFunctions);
  }
  Result OnFunction(Index, Index sigIndex) override {
    functionTypes_.push_back(sigIndex);
    return Result::Ok;
  }
  Result OnGlobalCount(Index count) override {
    return count_("globals", count, WasmLimits::kGlobals);
  }
  Result OnExportCount(Index count) override {
    return count_("exports", count, WasmLimits::kExports);
  }
  Result OnDataSegmentCount(Index count) override {
    return count_("data segments", count, WasmLimits::kDataSegments);
  }
  Result OnElemSegmentCount(Index count) override {
    return count_("element segments", count, WasmLimits::kElemSegments);
  }

  // Constant expressions: WABT reads them with the instruction reader, so a
  // block in one (invalid, but only the validator says so) nests too.
  Result BeginGlobalInitExpr(Index) override { return beginConstant(); }
  Result BeginElemSegmentInitExpr(Index) override { return beginConstant(); }
  Result BeginDataSegmentInitExpr(Index) override { return beginConstant(); }

  Result BeginFunctionBody(Index index, wabt::Offset size) override {
    function_ = index;
    where_ = "function " + std::to_string(index);
    if (size > WasmLimits::kFunctionBodyBytes)
      return fail("function " + std::to_string(index) + " has a body of " + std::to_string(size) +
                  " bytes, more than the limit of " +
                  std::to_string(WasmLimits::kFunctionBodyBytes));
    const Arity* sig = functionArity(index);
    locals_ = 0;
    localsChecked_ = false;
    return beginExpression(sig ? sig->results : 0);
  }
  Result OnLocalDecl(Index, Index count, Type) override {
    locals_ += count;
    return Result::Ok;
  }

  Result OnOpcode(wabt::Opcode) override {
    // Locals are checked once they are all declared: a declaration list
    // whose total does not fit in 32 bits is malformed, which the reader
    // reports (and must, for the spec suite) before this limit.
    if (!localsChecked_) {
      localsChecked_ = true;
      if (locals_ > WasmLimits::kLocals)
        return fail("function " + std::to_string(function_) + " declares " +
                    std::to_string(locals_) + " locals, more than the limit of " +
                    std::to_string(WasmLimits::kLocals));
    }
    return addValues(1);
  }
  Result OnBlockExpr(Type sig) override { return open(sig, false); }
  Result OnLoopExpr(Type sig) override { return open(sig, true); }
  Result OnIfExpr(Type sig) override { return open(sig, false); }
  Result OnTryExpr(Type sig) override { return open(sig, false); }
  Result OnElseExpr() override {
    // The then arm's results flow to the end; the else arm starts again
    // from the block's params.
    return addValues(labels_.empty() ? 0 : labels_.back().params + labels_.back().results);
  }
  Result OnEndExpr() override {
    if (labels_.empty()) return Result::Ok;
    uint64_t results = labels_.back().results;
    labels_.pop_back();
    return addValues(results);
  }
  Result OnBrExpr(Index depth) override { return addValues(labelArity(depth)); }
  Result OnBrIfExpr(Index depth) override { return addValues(labelArity(depth)); }
  Result OnBrTableExpr(Index count, Index* depths, Index defaultDepth) override {
    if (count > WasmLimits::kBrTableTargets)
      return fail("br_table of " + std::to_string(count) + " targets in " + where_ +
                  " exceeds the limit of " + std::to_string(WasmLimits::kBrTableTargets));
    // The translation makes one edge per distinct target, carrying its values.
    std::vector<Index> distinct(depths, depths + count);
    distinct.push_back(defaultDepth);
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    uint64_t values = count;
    for (Index depth : distinct)
      values += labelArity(depth);
    return addValues(values);
  }
  Result OnReturnExpr() override { return addValues(labels_.empty() ? 0 : labels_[0].results); }
  Result OnCallExpr(Index funcIndex) override {
    return addValues(funcIndex < functionTypes_.size() ? typeValues(functionTypes_[funcIndex]) : 0);
  }
  Result OnCallIndirectExpr(Index sigIndex, Index) override {
    return addValues(typeValues(sigIndex));
  }

private:
  struct Arity {
    uint64_t params = 0, results = 0;
  };
  // A label: the values a branch to it carries, and its results.
  struct Label {
    uint64_t branch = 0, params = 0, results = 0;
  };

  Result fail(std::string message) {
    if (problem.empty()) problem = std::move(message);
    return Result::Error;
  }
  Result count_(const char* what, Index count, uint64_t limit) {
    if (count <= limit) return Result::Ok;
    return fail(std::to_string(count) + " " + what + " exceed the limit of " +
                std::to_string(limit));
  }
  const Arity* functionArity(Index definedIndex) const {
    // BeginFunctionBody numbers functions with the imports counted.
    if (definedIndex >= functionTypes_.size()) return nullptr;
    Index type = functionTypes_[definedIndex];
    return type < types_.size() ? &types_[type] : nullptr;
  }
  uint64_t typeValues(Index type) const {
    return type < types_.size() ? types_[type].params + types_[type].results : 0;
  }
  uint64_t labelArity(Index depth) const {
    return depth < labels_.size() ? labels_[labels_.size() - 1 - depth].branch : 0;
  }

  Result beginConstant() {
    where_ = "a constant expression";
    return beginExpression(0);
  }
  Result beginExpression(uint64_t results) {
    labels_.clear();
    labels_.push_back({results, 0, results});
    values_ = 0;
    return Result::Ok;
  }
  Result open(Type sig, bool loop) {
    Arity arity;
    if (sig.IsIndex()) {
      if (sig.GetIndex() < types_.size()) arity = types_[sig.GetIndex()];
    } else if (sig != Type::Void) {
      arity.results = 1;
    }
    // labels_[0] is the function body's own label, not a nesting level.
    if (labels_.size() > WasmLimits::kNesting)
      return fail("block nesting " + std::to_string(labels_.size()) + " in " + where_ +
                  " exceeds the limit of " + std::to_string(WasmLimits::kNesting));
    labels_.push_back({loop ? arity.params : arity.results, arity.params, arity.results});
    return addValues(arity.params + arity.results);
  }
  Result addValues(uint64_t count) {
    values_ += count;
    if (values_ > WasmLimits::kFunctionValues)
      return fail(where_ + " makes more than " + std::to_string(WasmLimits::kFunctionValues) +
                  " values (instructions, and the params and results they move), the limit");
    return Result::Ok;
  }

  std::vector<Arity> types_;
  std::vector<Index> functionTypes_; // type index per function, imports first
  std::vector<Label> labels_;
  Index function_ = 0;
  std::string where_ = "a constant expression";
  uint64_t locals_ = 0;
  bool localsChecked_ = true; // outside a function body there are none
  uint64_t values_ = 0;
};

} // namespace

std::string checkLimits(std::span<const uint8_t> wasm, const wabt::Features& features) {
  if (wasm.size() > WasmLimits::kModuleBytes)
    return "module of " + std::to_string(wasm.size()) + " bytes exceeds the limit of " +
           std::to_string(WasmLimits::kModuleBytes);
  // Custom sections are not read (no debug names): their contents cost the
  // translation nothing, and a broken one must not hide a limit.
  wabt::ReadBinaryOptions options(features, /*log_stream=*/nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  LimitChecker checker;
  wabt::ReadBinary(wasm.data(), wasm.size(), &checker, options);
  return checker.problem;
}

} // namespace faasm::codegen
