// faasm-spec: runs WebAssembly spec-suite scripts (.wast) against modules
// compiled by faasm-codegen, or, with --run-all-exports, runs a module the
// way `wasm-interp --run-all-exports --dummy-import-func` does for
// differential fuzzing. See tests/spec/SpecRunner.h and RunAllExports.h.
#include "RunAllExports.h"
#include "SpecRunner.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>

int main(int argc, char** argv) {
  CLI::App app{"Run WebAssembly spec scripts against faasm-compiled modules"};
  std::vector<std::string> files;
  std::string bounds = "guard";
  faasm::spec::RunOptions options;
  bool runAllExports = false;
  app.add_option("files", files, "Spec scripts (.wast), or one .wasm with --run-all-exports")
      ->required();
  app.add_option("--bounds", bounds, "Bounds-check mode of the compiled modules")
      ->check(CLI::IsMember({"guard", "explicit"}));
  app.add_option("--opt-level", options.optLevel, "Compiler optimisation level")
      ->check(CLI::Range(0, 3));
  app.add_option("--timeout", options.commandTimeoutSeconds,
                 "Seconds one command may run before it counts as hung")
      ->check(CLI::Range(1, 86400));
  app.add_flag("--verbose", options.verbose, "Print every command as it runs");
  app.add_flag("--run-all-exports", runAllExports,
               "Instantiate the module with dummy imports and call every export that takes no "
               "arguments, printing like wasm-interp --run-all-exports --dummy-import-func");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faasm-spec: %s (see --help)\n", e.what());
    return 1;
  }
  options.bounds =
      bounds == "explicit" ? faasm::abi::BoundsMode::Explicit : faasm::abi::BoundsMode::Guard;

  if (runAllExports) {
    if (files.size() != 1) {
      std::fprintf(stderr, "faasm-spec: --run-all-exports takes exactly one .wasm file\n");
      return 1;
    }
    return faasm::spec::runAllExports(files[0], options);
  }

  if (std::string missing = faasm::spec::checkTools(); !missing.empty()) {
    std::fprintf(stderr, "faasm-spec: %s\n", missing.c_str());
    return 1;
  }
  faasm::spec::FileResult total;
  for (const std::string& file : files) {
    faasm::spec::FileResult r = faasm::spec::runWastFile(file, options);
    total.passed += r.passed;
    total.failed += r.failed;
    total.skipped += r.skipped;
  }
  std::printf("%llu passed, %llu failed", (unsigned long long)total.passed,
              (unsigned long long)total.failed);
  if (total.skipped) std::printf(", %llu skipped", (unsigned long long)total.skipped);
  std::printf("\n");
  return total.failed ? 1 : 0;
}
