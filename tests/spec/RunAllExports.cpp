#include "RunAllExports.h"

#include "DummyImports.h"
#include "Process.h"

#include "faasm/codegen/Compiler.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Module.h"
#include "faasm/runtime/TypeRegistry.h"

#include <cstdio>
#include <memory>
#include <vector>

namespace faasm::spec {
namespace {

// wasm-interp's trap texts, so that outputs can be diffed. Its
// out-of-bounds messages carry a detail after a colon (the address, the
// bound) that scripts/fuzz-diff strips from both sides.
const char* interpTrapText(abi::TrapCode code) {
  switch (code) {
  case abi::TrapCode::Unreachable: return "unreachable executed";
  case abi::TrapCode::UndefinedElement: return "undefined table index";
  case abi::TrapCode::UninitializedElement: return "uninitialized table element";
  case abi::TrapCode::IndirectCallTypeMismatch: return "indirect call signature mismatch";
  default: return abi::trapMessage(code);
  }
}

} // namespace

int runAllExports(const std::string& wasmPath, const RunOptions& options) {
  std::string bytes;
  if (!readFile(wasmPath, bytes)) {
    std::printf("error: cannot read %s\n", wasmPath.c_str());
    return 1;
  }
  TempDir tmp;
  if (!tmp.ok()) {
    std::printf("error: cannot create a temporary directory\n");
    return 1;
  }
  codegen::CompileOptions copts;
  copts.bounds = options.bounds;
  copts.optLevel = options.optLevel;
  copts.sourceName = wasmPath;
  std::string soPath = tmp.path() + "/module.so";
  codegen::CompileResult cr = codegen::compileToSharedObject(
      std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), copts, soPath);
  if (!cr.ok) {
    std::printf("error: compile failed: %s\n", cr.message.c_str());
    return 1;
  }
  auto module = runtime::Module::load(soPath);
  if (!module) {
    std::printf("error: load failed: %s\n", module.error().message.c_str());
    return 1;
  }

  // Every imported function becomes a dummy; wasm-interp's dummies cover
  // functions only, so other imports stay unknown there and here.
  const abi::ModuleDescriptor& d = module.value()->descriptor();
  std::vector<std::shared_ptr<host::HostFunction>> hosts;
  for (const abi::ImportDesc& imp : d.imports) {
    if (abi::ExternKind(imp.kind) != abi::ExternKind::Func) continue;
    auto h = std::make_shared<host::HostFunction>();
    std::string err;
    if (!makeDummyImport(std::string(imp.module.view()), std::string(imp.name.view()),
                         d.types[imp.typeIndex].signature, *h, err)) {
      std::printf("error: %s\n", err.c_str());
      return 1;
    }
    hosts.push_back(h);
  }
  auto resolver = [&](std::string_view m, std::string_view n) -> std::optional<runtime::Extern> {
    for (const auto& h : hosts)
      if (h->module == m && h->name == n) {
        runtime::Extern e;
        e.kind = abi::ExternKind::Func;
        e.host = h.get();
        e.owner = h;
        return e;
      }
    return std::nullopt;
  };
  std::fflush(stdout);
  auto inst = runtime::Instance::instantiate(module.value(), resolver);
  if (!inst) {
    const runtime::Error& e = inst.error();
    std::fflush(stdout);
    std::fprintf(stderr, "error initializing module: %s\n",
                 e.trap != abi::TrapCode::None ? interpTrapText(e.trap) : e.message.c_str());
    return 1;
  }

  for (const abi::ExportDesc& e : d.exports) {
    if (abi::ExternKind(e.kind) != abi::ExternKind::Func) continue;
    std::string sig = module.value()->functionSignature(e.index);
    std::string_view params, results;
    if (!runtime::parseSignature(sig, params, results) || !params.empty()) continue;
    std::fflush(stdout);
    runtime::InvokeResult r = runtime::invoke(inst.value()->function(e.index), {});
    std::string line = std::string(std::string_view(e.name)) + "() =>";
    if (!r.ok()) {
      line += std::string(" error: ") + interpTrapText(r.trap);
    } else {
      for (size_t i = 0; i < r.results.size() && i < results.size(); ++i)
        line += (i ? ", " : " ") + formatInterpValue(abi::ValType(results[i]), r.results[i]);
    }
    std::printf("%s\n", line.c_str());
  }
  std::fflush(stdout);
  return 0;
}

} // namespace faasm::spec
