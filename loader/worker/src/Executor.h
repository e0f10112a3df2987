// The executor: the worker's child process that runs calls. It is started
// (fork + exec of the worker's own binary, before it knows any request) so
// that the scheduler, which forks zygotes, lives in a process with one
// thread, as faaslet::Scheduler requires; the frontend's HTTP threads never
// share an address space with a fork. If it dies, the frontend fails the
// calls it held (none waits for ever) and starts another.
#pragma once

#include "Wire.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace faasm::worker {

struct ExecutorConfig {
  std::string storeDir; // artefacts and function tables (Stores.h, local)
  std::string stateDir; // the state tier's directory; empty: its default
  uint64_t memoryBytes = 0;
  double cpus = 0;
  uint64_t timeoutMs = 0; // per call, running
  uint32_t uid = 65534, gid = 65534;
  bool network = false;
  uint32_t runningPerHost = 0, alivePerHost = 0, runningPerTree = 0, alivePerTree = 0;
  uint64_t bytesPerTree = 0, bytesPerHost = 0;
  uint64_t chainTimeoutMs = 0;
  // Chained calls this host has no slot for go to the frontend (Chain) to
  // run on other hosts: set when the worker is one of a cluster.
  bool offload = false;
  // The global state tier ("host:port"), the cluster's Redis; empty: none,
  // a Faaslet's state stays on this host.
  std::string stateRedis;
  std::string encode() const;
  static bool decode(const std::string& payload, ExecutorConfig& out);
};

// Starts `self` (this binary) as an executor on one end of a socketpair;
// returns the other end, or -1 with `error` set. Call it from the thread that
// stays for the worker's life: the child dies with that thread.
int spawnExecutor(const std::string& self, pid_t& pid, std::string& error);

// The executor process's main: serves the frontend on `fd` until it closes.
int executorMain(int fd);

} // namespace faasm::worker
