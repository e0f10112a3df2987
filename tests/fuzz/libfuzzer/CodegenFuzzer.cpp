// libFuzzer target: bytes -> faasm::codegen::compileToSharedObject, the
// reader, the limits, the translator, LLVM and lld. The contract it checks:
// no crash, leak or hang on any input, and every input ends in either an
// artefact or a one-line error that is not an internal one (an internal
// error is a compiler bug, so it aborts and becomes a finding).
//
// The first input byte picks the options (bounds mode, optimisation 0 or 2);
// the rest is the module.
#include "faasm/codegen/Compiler.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

std::string outputPath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/faasm-fuzz-codegen." +
           std::to_string(::getpid()) + ".so";
  }();
  return path;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Artefacts are sealed with a key of the fuzzer's own, so a run neither
  // needs nor creates the user's key (and reaches the seal every time).
  static const bool keyed =
      ::setenv("FAASM_ARTEFACT_KEY",
               "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", 1) == 0;
  (void)keyed;
  if (size < 1) return 0;
  faasm::codegen::CompileOptions options;
  options.bounds = data[0] & 1 ? faasm::abi::BoundsMode::Explicit : faasm::abi::BoundsMode::Guard;
  options.optLevel = data[0] & 2 ? 2 : 0;
  options.threads = 1;
  options.sourceName = "fuzz.wasm";
  const std::string path = outputPath();
  ::unlink(path.c_str());
  faasm::codegen::CompileResult result =
      faasm::codegen::compileToSharedObject({data + 1, size - 1}, options, path);
  struct stat st{};
  bool written = ::stat(path.c_str(), &st) == 0;
  if (result.ok) {
    if (!written) {
      std::fprintf(stderr, "fuzz-codegen: compiled, but no artefact at %s\n", path.c_str());
      std::abort();
    }
  } else {
    bool oneLine = !result.message.empty() && result.message.find('\n') == std::string::npos;
    if (!oneLine || written || result.kind == faasm::codegen::ErrorKind::Internal) {
      std::fprintf(stderr, "fuzz-codegen: bad failure (kind %d, artefact %d): %s\n",
                   int(result.kind), int(written), result.message.c_str());
      std::abort();
    }
  }
  ::unlink(path.c_str());
  return 0;
}
