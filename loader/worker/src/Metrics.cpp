#include "Metrics.h"

#include <cstdio>

namespace faasm::worker {
namespace {

std::string number(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}

void counter(std::string& out, const char* name, const char* help, uint64_t v,
             const char* type = "counter") {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(v) + "\n";
}

} // namespace

void Histogram::observe(double value) {
  std::lock_guard lock(mutex_);
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  std::lock_guard lock(mutex_);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

std::string Metrics::render(size_t queueDepth) const {
  std::string out;
  out +=
      "# HELP faasm_calls_total Calls that ended, by outcome.\n# TYPE faasm_calls_total counter\n";
  out += "faasm_calls_total{outcome=\"done\"} " + std::to_string(callsDone.load()) + "\n";
  out += "faasm_calls_total{outcome=\"failed\"} " + std::to_string(callsFailed.load()) + "\n";
  out += "faasm_calls_total{outcome=\"timeout\"} " + std::to_string(callsTimedOut.load()) + "\n";
  counter(out, "faasm_calls_refused_total",
          "Calls refused at submission (queue or user share full).", callsRefused);
  counter(out, "faasm_cold_starts_total", "Calls that found no ready Proto-Faaslet.", coldStarts);
  counter(out, "faasm_warm_starts_total", "Calls forked from a ready Proto-Faaslet.", warmStarts);
  counter(out, "faasm_uploads_total", "Function uploads accepted.", uploads);
  counter(out, "faasm_compiles_total", "Uploads compiled (no artefact for their content yet).",
          compiles);
  counter(out, "faasm_compile_failures_total", "Uploads the compiler refused or failed on.",
          compileFailures);
  counter(out, "faasm_compile_cache_hits_total",
          "Uploads whose artefact existed already (no compile).", compileCacheHits);
  counter(out, "faasm_executor_restarts_total", "Times the executor died and was started again.",
          executorRestarts);
  counter(out, "faasm_chained_elsewhere_total",
          "Chained calls of Faaslets here sent to run on other hosts (no slot here).",
          chainedElsewhere);
  counter(out, "faasm_http_requests_total", "HTTP requests handled.", requests);
  out += "# HELP faasm_http_responses_total HTTP responses by status class.\n"
         "# TYPE faasm_http_responses_total counter\n";
  for (int c = 1; c <= 5; ++c)
    out += "faasm_http_responses_total{code=\"" + std::to_string(c) + "xx\"} " +
           std::to_string(responsesByClass[size_t(c)].load()) + "\n";
  counter(out, "faasm_queue_depth", "Calls accepted and waiting for an executor slot.", queueDepth,
          "gauge");
  counter(out, "faasm_calls_running", "Calls the executor holds (running or starting).", running,
          "gauge");
  counter(out, "faasm_proto_faaslets", "Proto-Faaslets (zygotes) alive in the executor.", zygotes,
          "gauge");
  counter(out, "faasm_executor_faaslets_running",
          "Running slots the executor's scheduler counts (Faaslets computing or starting).",
          faasletsRunning, "gauge");
  counter(out, "faasm_executor_faaslets_alive",
          "Faaslets the executor's scheduler counts as alive (waiting ones included).",
          faasletsAlive, "gauge");
  counter(out, "faasm_executor_calls_queued",
          "Calls the executor's scheduler holds until a slot is free.", schedulerQueued, "gauge");
  callSeconds.render(out, "faasm_call_duration_seconds",
                     "From acceptance to result, per call (queue and run).");
  queueSeconds.render(out, "faasm_call_queue_seconds", "From acceptance to the Faaslet's fork.");
  runSeconds.render(out, "faasm_call_run_seconds", "From the Faaslet's fork to its result.");
  compileSeconds.render(out, "faasm_compile_duration_seconds", "Compiles of uploads.");
  return out;
}

} // namespace faasm::worker
