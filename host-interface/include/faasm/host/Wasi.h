// WASI preview1 ("wasi_snapshot_preview1") host functions, as far as
// wasi-libc's stdio and startup need them now. Files and preopens come later
// (WasiFiles.cpp); fd_prestat_get answers EBADF: no preopens yet.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faasm::host {

inline constexpr const char* kWasiModule = "wasi_snapshot_preview1";

// Per-instance WASI state the embedder supplies.
struct WasiContext {
  std::vector<std::string> args; // argv, args[0] is the program name
  std::vector<std::string> env;  // "KEY=VALUE"
  // Host descriptors behind guest fds 0, 1, 2 (-1: closed).
  int stdioFds[3] = {0, 1, 2};
};

// Adds every WASI function this library implements to `registry`.
void registerWasi(runtime::HostModuleRegistry& registry);

// The InstantiateOptions::hostState entry that gives an instance `context`.
// An instance without one sees an empty context (no args, no env, stdio).
std::pair<const void*, std::shared_ptr<void>> wasiHostState(std::shared_ptr<WasiContext> context);

// The context of the instance that owns `vmctx`.
WasiContext& wasiContextOf(abi::VMContext* vmctx);

} // namespace faasm::host
