// Running one artefact as a WASI command: what faasm-run does, as a library
// so the tool stays CLI parsing only and the worker can reuse it.
#pragma once

#include <string>
#include <vector>

namespace faasm::loader {

// Exit statuses of a run.
inline constexpr int kExitLoadError = 126; // load, link or usage problem, or exit code > 125
inline constexpr int kExitTrap = 134;      // the guest trapped

struct RunOptions {
  std::string file;              // the artefact (.so)
  std::vector<std::string> args; // argv[1..] for the guest; for --invoke, the wasm arguments
  std::vector<std::string> env;  // "KEY=VALUE"
  std::string invoke;            // export to call; empty: "_start"
};

// Loads, instantiates with WASI and calls the export. Returns the process exit
// status: the guest's exit code (0..125), kExitTrap after printing
// "trap: <message>" to stderr, or kExitLoadError after printing
// "faasm-run: <file>: <problem>". An --invoke of a function with results
// prints them to stdout, one per line.
int runCommand(const RunOptions& options);

} // namespace faasm::loader
