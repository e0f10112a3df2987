// The spec-suite runner behind faasm-spec: converts a .wast script with
// WABT's wast2json and executes its commands against modules compiled by
// faasm-codegen's library and run by the faasm runtime.
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <string>

namespace faasm::spec {

struct RunOptions {
  abi::BoundsMode bounds = abi::BoundsMode::Guard;
  unsigned optLevel = 2; // what faasm-codegen uses by default
  bool verbose = false;
  // A command that makes no progress for this long is a failure (its child
  // process is killed and the script continues after it).
  unsigned commandTimeoutSeconds = 30;
};

struct FileResult {
  uint64_t passed = 0;
  uint64_t failed = 0;
  uint64_t skipped = 0;
};

// Checks the WABT tools the runner needs are on PATH; on failure returns a
// one-line message naming the missing tool.
std::string checkTools();

// Runs every command of one .wast file. Prints `FILE:LINE: ...` for each
// failure and `FILE: N passed, N failed` at the end. Never crashes on bad
// input: the commands run in a child process, and a crash or a hang of one
// command is counted as that command's failure.
FileResult runWastFile(const std::string& path, const RunOptions& options);

} // namespace faasm::spec
