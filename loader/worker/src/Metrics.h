// What the worker counts, in Prometheus' text format. No label carries a
// user or function name: a client must not be able to grow /metrics.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace faasm::worker {

class Histogram {
public:
  explicit Histogram(std::vector<double> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}
  void observe(double value);
  void render(std::string& out, const std::string& name, const std::string& help) const;

private:
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct Metrics {
  // Calls by how they ended.
  std::atomic<uint64_t> callsDone{0}, callsFailed{0}, callsTimedOut{0};
  std::atomic<uint64_t> callsRefused{0}; // 429/503 at submit
  std::atomic<uint64_t> coldStarts{0}, warmStarts{0};
  std::atomic<uint64_t> compiles{0}, compileFailures{0}, compileCacheHits{0};
  std::atomic<uint64_t> uploads{0};
  std::atomic<uint64_t> executorRestarts{0};
  std::atomic<uint64_t> chainedElsewhere{0}; // chained calls sent to other hosts
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, 6> responsesByClass{}; // 1xx..5xx at [1..5]
  std::atomic<uint64_t> running{0};                        // calls an executor holds
  std::atomic<uint64_t> zygotes{0};
  // The executor's scheduler, as it last said (0 while there is none).
  std::atomic<uint64_t> faasletsRunning{0}, faasletsAlive{0}, schedulerQueued{0};
  Histogram callSeconds{
      {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
  Histogram queueSeconds{{0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30}};
  Histogram runSeconds{
      {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}};
  Histogram compileSeconds{{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}};

  std::string render(size_t queueDepth) const;
};

} // namespace faasm::worker
