// faasm-worker: Faasm's HTTP API over this host's Faaslets. CLI parsing
// only; the work is faasm::worker::runWorker (docs/Worker.md).
#include "faasm/log/Log.h"
#include "faasm/worker/Worker.h"

#include <CLI/CLI.hpp>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
  // The executor: this binary again, started by the worker itself.
  if (argc == 3 && std::strcmp(argv[1], "--executor-fd") == 0)
    return faasm::worker::runExecutor(std::atoi(argv[2]));
  faasm::log::setProgramName("faasm-worker");

  faasm::worker::WorkerOptions o;
  double callTimeout = 60, queueTimeout = 30;
  uint64_t memoryMiB = 0, maxWasmMiB = 32, maxRequestMiB = 16, compileMemoryMiB = 4096;
  unsigned compileTimeout = 120, compileWallTimeout = 0, resultTtl = 600;
  CLI::App app{"Serves Faasm's HTTP API: upload (compiled once per content), invoke (sync and\n"
               "async), call status, state; /healthz and /metrics on both ports.\n"
               "Exit status: 0 after SIGINT or SIGTERM, 1 if it could not start."};
  app.set_version_flag("--version", "faasm-worker 0.1.0");
  app.add_option("--listen", o.listen, "address to listen on (IPv4); the API has no authentication")
      ->capture_default_str();
  app.add_option("--invoke-port", o.invokePort, "invoke, status and state (0: any free port)")
      ->capture_default_str();
  app.add_option("--upload-port", o.uploadPort, "uploads (0: any free port)")
      ->capture_default_str();
  app.add_option("--ports-file", o.portsFile, "write invoke=N and upload=N here once listening");
  app.add_option("--data-dir", o.dataDir, "artefacts and function tables")->required();
  app.add_option("--state-dir", o.stateDir,
                 "the state tier's directory (default $FAASM_STATE_DIR or /dev/shm)");
  app.add_option("--codegen", o.codegen, "faasm-codegen (default: next to this binary)");
  app.add_option("--bounds", o.bounds, "bounds checks of compiled uploads")
      ->check(CLI::IsMember({"guard", "explicit"}))
      ->capture_default_str();
  app.add_option("--http-threads", o.httpThreads, "invoke port's threads (0: one per CPU)")
      ->capture_default_str();
  app.add_option("--max-wasm", maxWasmMiB, "largest upload, MiB")->capture_default_str();
  app.add_option("--max-request", maxRequestMiB, "largest invoke or state body, MiB")
      ->capture_default_str();
  app.add_option("--max-json-depth", o.maxJsonDepth, "deepest JSON nesting of a request")
      ->capture_default_str();
  app.add_option("--max-connections", o.maxConnections, "connections at once on the invoke port")
      ->capture_default_str();
  app.add_option("--compile-timeout", compileTimeout,
                 "seconds of CPU time one compile may use (however loaded the host)")
      ->capture_default_str();
  app.add_option("--compile-wall-timeout", compileWallTimeout,
                 "wall-clock seconds one compile may take (0: 4 x --compile-timeout + 60)")
      ->capture_default_str();
  app.add_option("--compile-memory", compileMemoryMiB, "address space of one compile, MiB")
      ->capture_default_str();
  app.add_option("--compile-jobs", o.compileJobs, "compiles at once")->capture_default_str();
  app.add_option("--timeout", callTimeout, "seconds a call may run (then 504)")
      ->capture_default_str();
  app.add_option("--queue-timeout", queueTimeout, "seconds a call may wait for a slot")
      ->capture_default_str();
  app.add_option("--max-queued", o.maxQueued, "calls waiting for a slot (beyond: 503)")
      ->capture_default_str();
  app.add_option("--user-share", o.userShare,
                 "calls queued or running per user (beyond: 429; 0: none)")
      ->capture_default_str();
  app.add_option("--result-ttl", resultTtl, "seconds a call's result is kept")
      ->capture_default_str();
  app.add_option("--memory-limit", memoryMiB, "memory of each Faaslet, MiB (0: none)")
      ->capture_default_str();
  app.add_option("--cpu", o.cpus, "CPU quota of each Faaslet in cores (0: none)");
  app.add_option("--host-running", o.hostRunning, "Faaslets computing at once (0: 2 x CPUs)")
      ->capture_default_str();
  app.add_option("--host-alive", o.hostAlive, "Faaslets alive at once (0: 16 x CPUs, at least 32)")
      ->capture_default_str();
  app.add_option("--faaslet-uid", o.faasletUid, "uid of Faaslets when run as root")
      ->capture_default_str();
  app.add_option("--faaslet-gid", o.faasletGid, "gid of Faaslets when run as root")
      ->capture_default_str();
  if (const char* env = std::getenv("FAASM_REDIS")) o.redis = env;
  double leaseSeconds = 10;
  app.add_option("--redis", o.redis,
                 "Redis host:port shared by the cluster's workers (default $FAASM_REDIS; "
                 "neither: this host alone)");
  app.add_option("--lease", leaseSeconds,
                 "seconds a dead worker's membership and calls stay its (--redis)")
      ->capture_default_str();
  app.add_option("--max-attempts", o.maxAttempts,
                 "attempts of a crashing call before it is dead-lettered (--redis)")
      ->capture_default_str();
  app.add_option("--host-name", o.hostName,
                 "this worker's name in the cluster (default hostname-pid-random)");
  CLI11_PARSE(app, argc, argv);
  if (leaseSeconds < 0.1 || o.maxAttempts < 1) {
    std::fprintf(stderr, "faasm-worker: --lease must be at least 0.1 and --max-attempts 1\n");
    return 1;
  }
  o.lease = std::chrono::milliseconds(int64_t(leaseSeconds * 1000));
  if (callTimeout <= 0 || queueTimeout <= 0) {
    std::fprintf(stderr, "faasm-worker: --timeout and --queue-timeout must be above 0\n");
    return 1;
  }
  o.callTimeout = std::chrono::milliseconds(int64_t(callTimeout * 1000));
  o.queueTimeout = std::chrono::milliseconds(int64_t(queueTimeout * 1000));
  o.memoryLimitBytes = memoryMiB << 20;
  o.maxWasmBytes = maxWasmMiB << 20;
  o.maxRequestBytes = maxRequestMiB << 20;
  o.compileMemoryBytes = compileMemoryMiB << 20;
  o.compileTimeout = std::chrono::seconds(compileTimeout);
  o.compileWallTimeout = std::chrono::seconds(compileWallTimeout);
  o.resultTtl = std::chrono::seconds(resultTtl);
  char self[PATH_MAX] = {0};
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::fprintf(stderr, "faasm-worker: cannot find its own binary\n");
    return 1;
  }
  return faasm::worker::runWorker(o, std::string(self, size_t(n)));
}
