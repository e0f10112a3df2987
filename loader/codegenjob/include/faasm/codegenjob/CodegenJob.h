// Compiling a module by running faasm-codegen as a child process, as
// faasm-run (for its cache) and faasm-worker (for uploads) both do: the
// loader never links the compiler.
//
// The module is untrusted, and WABT and LLVM parse it: the child runs under
// an address-space limit, a CPU-time limit, a file-size limit and no core
// dumps, in a process group of its own that is SIGKILLed at a wall-clock
// backstop, and dies with its parent (PR_SET_PDEATHSIG). The CPU time is
// the limit that bounds the work a module can make the compiler do: unlike
// wall time it does not shrink when the host is loaded, so an honest module
// compiles under the same limit on a busy host as on an idle one. Its stdin and stdout
// are /dev/null; its stderr (the first 64 KiB) is where its one-line
// complaint is read from.
#pragma once

#include "faasm/abi/Sha256.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace faasm::codegenjob {

struct Limits {
  uint64_t memoryBytes = uint64_t(4) << 30;
  // CPU time (user and system, every thread of the compiler) in whole
  // seconds (RLIMIT_CPU): past it the compiler gets SIGXCPU, a second later
  // SIGKILL.
  std::chrono::seconds cpuTime{120};
  // Wall clock, for a compiler that stalls without using CPU; 0: 4 x cpuTime
  // + 60 s, generous enough that only a stalled compiler meets it.
  std::chrono::seconds wallTimeout{0};
  std::chrono::seconds wall() const {
    return wallTimeout.count() > 0 ? wallTimeout : cpuTime * 4 + std::chrono::seconds(60);
  }
};

struct Progress {
  // Called once, from the calling thread, if the compile is still running
  // `after` it started; never if `show` is empty.
  std::chrono::milliseconds after{500};
  std::function<void()> show;
};

struct Outcome {
  bool ok = false;
  // The module was refused (invalid, or past a limit): `problem` is about
  // the module. Otherwise a failure is the host's (no fork, no compiler).
  bool refused = false;
  std::string problem; // one line, without faasm-codegen's "<input>: " prefix
  double seconds = 0;  // wall clock of the compile
};

// faasm-codegen <input> -o <output> <flags...>. `ok` when it exited 0 and
// `output` exists.
Outcome compile(const std::string& codegen, const std::string& input, const std::string& output,
                const std::vector<std::string>& flags, const Limits& limits,
                const Progress& progress = {});

// SHA-256 of a file's bytes; false (errno set) if it cannot be read.
bool digestOfFile(const std::string& path, abi::Digest& digest);

} // namespace faasm::codegenjob
