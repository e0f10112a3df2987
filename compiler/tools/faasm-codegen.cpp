// faasm-codegen: compiles a WebAssembly module to a native artefact that
// faasm-run loads. Option parsing and one library call.
#include "faasm/codegen/Compiler.h"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

namespace {

int fail(const std::string& file, const std::string& problem) {
  std::fprintf(stderr, "faasm-codegen: %s: %s\n", file.c_str(), problem.c_str());
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Compile a WebAssembly module (wasm32, WebAssembly 2.0) to a native artefact "
               "for faasm-run.\nExit status: 0 compiled, 1 the input or options were rejected.",
               "faasm-codegen"};
  std::string input, output, bounds = "guard", cpu = "baseline";
  unsigned optLevel = 2;
  app.add_option("input", input, "the module: binary (.wasm) or text (.wat)")->required();
  app.add_option("-o,--output", output, "the artefact to write (default: input with .so)");
  app.add_option("--bounds", bounds,
                 "memory bounds checks: guard (reserved address space and guard pages) or "
                 "explicit (a compare per access)")
      ->check(CLI::IsMember({"guard", "explicit"}));
  app.add_option("--cpu", cpu, "baseline (x86-64-v2, runs anywhere) or native (this CPU)")
      ->check(CLI::IsMember({"baseline", "native"}));
  app.add_option("-O,--opt-level", optLevel, "optimisation level 0-3")->check(CLI::Range(0, 3));
  unsigned threads = 0;
  app.add_option("-j,--threads", threads, "compile on this many threads (default: one per core)");
  std::string irOutput;
  app.add_option("--emit-llvm", irOutput, "also write the unoptimised LLVM IR to this file");
  std::string optimisedIrOutput;
  app.add_option("--emit-ir-after-opt", optimisedIrOutput,
                 "also write the LLVM IR after optimisation, as code generation receives it "
                 "(bounds checks lowered to compares; trap calls still faasm.trap(vmctx, code, "
                 "wasm offset), before they become the runtime's), to this file");
  std::string codeMapOutput;
  app.add_option("--emit-code-map", codeMapOutput,
                 "also write a listing of the code map (the wasm instructions native code is "
                 "attributed to, which traps report) to this file");
  std::string loopReport;
  app.add_option("--report-loops", loopReport,
                 "write to this file (- for stderr), for each loop, whether it was versioned on "
                 "bounds, which checks it keeps and why, and whether LLVM vectorised it");
  app.set_version_flag("--version", faasm::codegen::compilerVersion());
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faasm-codegen: %s (see --help)\n", e.what());
    return 1;
  }

  if (output.empty()) {
    size_t dot = input.rfind('.');
    size_t slash = input.rfind('/');
    output = (dot != std::string::npos && (slash == std::string::npos || dot > slash)
                  ? input.substr(0, dot)
                  : input) +
             ".so";
  }

  std::ifstream file(input, std::ios::binary);
  if (!file) return fail(input, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  if (file.bad()) return fail(input, "cannot read");
  // Text modules are assembled first: a .wat name, or (any name but .wasm)
  // a file that starts with "(" where a binary's "\0asm" magic would be.
  size_t firstByte = 0;
  while (firstByte < bytes.size() && std::isspace(bytes[firstByte]))
    ++firstByte;
  bool isText = input.ends_with(".wat") ||
                (!input.ends_with(".wasm") && firstByte < bytes.size() && bytes[firstByte] == '(');
  if (isText) {
    faasm::codegen::WatResult wat = faasm::codegen::watToWasm(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), input);
    if (!wat.ok) return fail(input, wat.message);
    bytes = std::move(wat.wasm);
  }

  faasm::codegen::CompileOptions options;
  options.bounds =
      bounds == "explicit" ? faasm::abi::BoundsMode::Explicit : faasm::abi::BoundsMode::Guard;
  options.cpuNative = cpu == "native";
  options.optLevel = optLevel;
  options.sourceName = input;
  options.irOutputPath = irOutput;
  options.optimisedIrOutputPath = optimisedIrOutput;
  options.codeMapOutputPath = codeMapOutput;
  options.threads = threads;
  options.loopReportPath = loopReport;
  faasm::codegen::CompileResult result =
      faasm::codegen::compileToSharedObject(bytes, options, output);
  if (!result.ok) return fail(input, result.message);
  return 0;
}
