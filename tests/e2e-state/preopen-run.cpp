// Runs an artefact as a WASI command with preopened directories, the way the
// loader's Faaslets will once faasm-run's --dir reaches WasiContext:
//   preopen-run HOST:GUEST ARTEFACT [ARGS...]
// Exit status as faasm-run: the guest's, 134 after "trap: <message>", 126 on
// a load error. A test tool: the WASI file tests need preopens whatever the
// state of faasm-run.
#include "faasm/host/Faasm.h"
#include "faasm/host/Wasi.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Module.h"

#include <cstdio>

using namespace faasm;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: preopen-run HOST:GUEST ARTEFACT [ARGS...]\n");
    return 126;
  }
  auto module = runtime::Module::load(argv[2]);
  if (!module) {
    std::fprintf(stderr, "preopen-run: %s: %s\n", argv[2], module.error().message.c_str());
    return 126;
  }
  runtime::HostModuleRegistry registry;
  host::registerWasi(registry);
  host::registerFaasm(registry);
  auto wasi = std::make_shared<host::WasiContext>();
  if (std::string e = wasi->addPreopenSpec(argv[1]); !e.empty()) {
    std::fprintf(stderr, "preopen-run: %s\n", e.c_str());
    return 126;
  }
  for (int i = 2; i < argc; ++i) wasi->args.push_back(argv[i]);
  runtime::InstantiateOptions options;
  options.hostState.push_back(host::wasiHostState(wasi));
  options.hostState.push_back(host::faasmHostState());
  auto instance = runtime::Instance::instantiate(module.value(), registry.resolver(), options);
  if (!instance) {
    std::fprintf(stderr, "preopen-run: %s: %s\n", argv[2], instance.error().message.c_str());
    return 126;
  }
  // The toolchain exports __wasm_call_ctors (so that a Proto-Faaslet runs the
  // constructors once, before its snapshot); wasm-ld then leaves them out of
  // _start, and the embedder calls them first.
  if (instance.value()->exportedFunction("__wasm_call_ctors")) {
    auto ctors = instance.value()->invokeExport("__wasm_call_ctors", {});
    if (!ctors || !ctors.value().ok()) {
      std::fprintf(stderr, "preopen-run: %s: constructors failed\n", argv[2]);
      return 126;
    }
  }
  auto result = instance.value()->invokeExport("_start", {});
  if (!result) return 126;
  const runtime::InvokeResult& r = result.value();
  // ... and the destructors (stdio flush) after a _start that returned.
  if (r.ok() && instance.value()->exportedFunction("__wasm_call_dtors"))
    (void)instance.value()->invokeExport("__wasm_call_dtors", {});
  std::fflush(stdout);
  if (r.trap == abi::TrapCode::Exit) return r.exitCode;
  if (!r.ok()) {
    std::fprintf(stderr, "trap: %s\n", abi::trapMessage(r.trap));
    return 134;
  }
  return 0;
}
