// Compiling uploads: once per content. An artefact's key is the SHA-256 of
// the uploaded bytes' SHA-256 and the compiler's identity (the SHA-256 of
// the faasm-codegen binary, its version and the flags), so a re-upload of
// the same bytes finds its artefact and costs no compile, and a new compiler
// or other flags never reuse an old one.
//
// Uploaded wasm is untrusted: faasm-codegen runs as a child process (the
// worker never links LLVM) under a CPU-time limit (the compile limit: it
// holds on a loaded host as on an idle one), a generous wall-clock backstop
// (then SIGKILL to its process group), an address-space limit and a
// file-size limit, so a module built to stall or exhaust the compiler costs
// one compile slot for a bounded time (codegenjob::Limits).
#pragma once

#include "faasm/worker/Stores.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <vector>

namespace faasm::worker {

struct CompilerConfig {
  std::string codegen;            // faasm-codegen
  std::vector<std::string> flags; // e.g. --bounds=guard
  uint64_t memoryBytes = uint64_t(4) << 30;
  std::chrono::seconds cpuTime{120};    // the compile limit
  std::chrono::seconds wallTimeout{0};  // 0: codegenjob::Limits' default
  unsigned jobs = 1;                    // compiles at once
  std::chrono::seconds waitForSlot{30}; // then "busy" (503)
};

class Compiler {
public:
  // Reads the compiler's identity; `error` says why it cannot be used.
  Compiler(CompilerConfig config, ArtefactStore& store, std::string& error);

  struct Outcome {
    std::string key;       // the artefact's, when it exists
    bool compiled = false; // false: found in the store
    int httpStatus = 200;  // 400: the module was refused; 503: no compile slot; 500: the host
    std::string error;     // one line
    double seconds = 0;    // of the compile, when one ran
  };
  Outcome artefactFor(const std::vector<uint8_t>& wasm);
  const std::string& identity() const { return identity_; }

private:
  Outcome compile(const std::vector<uint8_t>& wasm, const std::string& key);
  CompilerConfig config_;
  ArtefactStore& store_;
  std::string identity_;
  std::counting_semaphore<64> slots_;
  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<std::mutex>> inFlight_; // one compile per key
};

} // namespace faasm::worker
