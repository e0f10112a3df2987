// faasm-worker: Faasm's HTTP API over one host's Faaslets.
//
//   upload port (Faasm: 8002)  PUT /f/<user>/<function>   wasm body; compiled once per content
//                              GET /f/<user>/             the user's functions (JSON)
//   invoke port (Faasm: 8080)  POST /                     {"user", "function", "input_data",
//   "async"}
//                              POST /                     {"user", "id", "status": true}
//                              GET|PUT /state/<user>/<key>
//   both                       GET /healthz, GET /metrics (Prometheus)
//
// Two processes: this one (HTTP, compiles, the call queue and results) and
// its executor child (the Faaslet scheduler, single-threaded; Executor.h),
// which it starts again if it dies, failing the calls it held. The seams
// where the global tier plugs in are in Stores.h. docs/Worker.md has the
// design, the limits and what a client sees.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace faasm::worker {

struct WorkerOptions {
  std::string listen = "127.0.0.1";
  uint16_t invokePort = 8080; // 0: any free port (portsFile says which)
  uint16_t uploadPort = 8002;
  std::string portsFile; // written once listening: "invoke=N\nupload=N\n"
  std::string dataDir;   // artefacts and function tables
  std::string stateDir;  // the state tier's directory; empty: its default (/dev/shm)
  std::string codegen;   // faasm-codegen; empty: the one next to this binary
  std::string bounds = "guard";
  unsigned httpThreads = 0; // 0: one per CPU

  // What a client may send.
  uint64_t maxWasmBytes = uint64_t(32) << 20;
  uint64_t maxRequestBytes = uint64_t(16) << 20;
  unsigned maxJsonDepth = 8;
  unsigned maxConnections = 1024;
  std::chrono::seconds idleTimeout{30};

  // Compiling uploads.
  std::chrono::seconds compileTimeout{120};   // CPU time of one compile
  std::chrono::seconds compileWallTimeout{0}; // its wall-clock backstop; 0: 4 x CPU + 60 s
  uint64_t compileMemoryBytes = uint64_t(4) << 30;
  unsigned compileJobs = 1;

  // Calls.
  std::chrono::milliseconds callTimeout{60'000};  // running, per call
  std::chrono::milliseconds queueTimeout{30'000}; // waiting for a slot
  size_t maxQueued = 64;
  size_t userShare = 0; // calls queued or running per user; 0: no share
  std::chrono::seconds resultTtl{600};
  uint64_t memoryLimitBytes = 0; // per Faaslet; 0: none
  double cpus = 0;
  // The scheduler's caps (docs/Faaslets.md, "Limits"); 0: its defaults.
  uint32_t hostRunning = 0, hostAlive = 0;
  uint32_t faasletUid = 65534, faasletGid = 65534;

  // Across hosts (docs/Worker.md, "Across hosts"): Redis "host:port", empty:
  // this host alone, everything local.
  std::string redis;
  std::chrono::milliseconds lease{10'000}; // membership and a taken call's claim
  unsigned maxAttempts = 3;                // a call's attempts before it is dead-lettered
  std::string hostName;                    // empty: hostname-pid-random
};

// Serves until SIGINT or SIGTERM; returns the exit status. `self` is this
// binary (the executor is started from it).
int runWorker(const WorkerOptions& options, const std::string& self);

// The executor's main (faasm-worker --executor-fd N, started by runWorker).
int runExecutor(int fd);

} // namespace faasm::worker
