// Running one artefact as a WASI command: what faasm-run does, as a library
// so the tool stays CLI parsing only and the worker can reuse it.
#pragma once

#include "faasm/api/Faasm.h"
#include "faasm/faaslet/Scheduler.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace faasm::runner {

// Exit statuses of a run.
inline constexpr int kExitLoadError = 126; // load, link or usage problem, or exit code > 125
inline constexpr int kExitTrap = 134;      // the guest trapped

struct RunOptions {
  // The module: an artefact (.so), or a .wasm or .wat module, compiled
  // through the cache (ArtefactCache.h) with `bounds` first.
  std::string file;
  abi::BoundsMode bounds = abi::BoundsMode::Guard;
  bool noCache = false;                 // compile to a temporary file, removed after the run
  std::string user = api::kDefaultUser; // the user the function belongs to (state, chaining)
  std::vector<std::string> args;        // argv[1..] for the guest; for --invoke, the wasm arguments
  std::vector<std::string> env;         // "KEY=VALUE"
  std::string invoke;                   // export to call; empty: "_start"

  // Faaslets (docs/Faaslets.md). Without --invoke a call runs in a Faaslet
  // forked from the function's Proto-Faaslet (a zygote process).
  std::string input;             // the call's input (faasmGetInput)
  std::string inputFile;         // read the input from this file ("-": stdin); wins over input
  std::string outputFile;        // write the call's output here; empty: stdout
  std::string functionsDir;      // chained functions: <dir>/<name>.so
  std::vector<std::string> dirs; // preopens "HOST[:GUEST]"
  std::vector<std::string> libs; // library artefacts the function may dlopen
  uint32_t warm = 1;             // runs in one warm Faaslet, reset between them
  std::string snapshotOut;       // initialise, write the snapshot here, run nothing
  std::string snapshotIn;        // restore from this snapshot instead of initialising
  // Isolation of each Faaslet (loader/isolation); 0: no limit.
  uint64_t memoryLimitBytes = 0;
  double cpus = 0;
  std::chrono::milliseconds timeout{0};
  // Caps and budgets of the call tree and of this host's scheduler
  // (docs/Faaslets.md, "Limits"); 0 counts are defaults.
  faaslet::SchedulerLimits limits;
  // Least privilege, always on (docs/Isolation.md): granted the network, the
  // function gets a namespace joined to the host's by a veth pair shaped to
  // netRate, with routes to the netAllow networks only (docs/Networking.md);
  // without, it has only loopback. As root, Faaslets run as this uid/gid
  // (never 0).
  bool network = false;
  std::string netRate = "100mbit";
  std::vector<std::string> netAllow;
  uint32_t faasletUid = 65534;
  uint32_t faasletGid = 65534;
  // The global state tier: Redis at "host:port" (--state-redis, else
  // $FAASM_REDIS); empty: the local tier alone (docs/State.md).
  std::string stateRedis;
};

// Compiles the module if it is wasm (errors: "faasm-run: <file>: <problem>",
// faasm-codegen's problem for an invalid module), then loads, instantiates
// with WASI and calls the export. Returns the process exit
// status: the guest's exit code (0..125), kExitTrap after printing
// "trap: <message>" to stderr, or kExitLoadError after printing
// "faasm-run: <file>: <problem>". An --invoke of a function with results
// prints them to stdout, one per line.
//
// Without --invoke the call runs as a Faaslet: the function's output (what it
// passed to faasmSetOutput) goes to outputFile or stdout after the call, once
// per warm run; the status is that of the last run. A run the scheduler ended
// for a limit prints "faasm-run: <file>: <problem>" and counts as a trap
// (kExitTrap); so does a chained call it refused or ended, on its own line
// "faasm-run: <function> (chained by <caller>): <problem>", while its caller
// goes on with the return code. With snapshotOut the
// function is only initialised and its snapshot written (status 0).
int runCommand(const RunOptions& options);

// The version faasm-run reports: the project's, and the artefact ABI it runs.
const char* runtimeVersion();

} // namespace faasm::runner
