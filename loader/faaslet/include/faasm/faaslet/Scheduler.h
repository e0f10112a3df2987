// The host side of Faaslets: one scheduler per faasm-run (later per worker)
// process. It starts one zygote process per function, lazily (the
// Proto-Faaslet lives there), asks it to fork a Faaslet per call, and serves
// the Faaslets' chaining requests over a socketpair each. The protocol is in
// docs/Faaslets.md; the scheduler is single-threaded and event driven, so a
// Faaslet waiting for a chained call costs it nothing.
#pragma once

#include "faasm/faaslet/Faaslet.h"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace faasm::isolation {
class IsolationPlan;
}

namespace faasm::faaslet {

namespace protocol {
struct Message;
}

struct SchedulerOptions {
  // Where chained functions come from: <functionsDir>/<name>.so. Empty: only
  // the functions added with addFunction() exist.
  std::string functionsDir;
  // The user every function of this scheduler belongs to: chained calls
  // stay within it.
  std::string user = api::kDefaultUser;
  // Given to every zygote of a chained function (guest env, preopens).
  std::vector<std::string> env;
  std::vector<std::string> dirs;
  // Applied in each Faaslet right after fork (may be null: no isolation).
  std::shared_ptr<const isolation::IsolationPlan> isolation;
  // Wall-clock limit per run of a call, enforced here (SIGKILL to the
  // Faaslet; the call's runs that did not finish trap with Timeout). 0: none.
  std::chrono::milliseconds timeout{0};
};

// What became of a call.
struct CallOutcome {
  std::vector<CallResult> results; // one per run (warm calls run several)
  std::string error;               // the function could not be made (load, link, init)
  runtime::Error initError;        // details of that failure (trap, exit code)
  // When the zygote forked the Faaslet (CLOCK_MONOTONIC, ns; 0 if unknown):
  // the start of the restore, for latency accounting.
  uint64_t forkedAtNs = 0;
  bool failedToStart() const { return !error.empty(); }
};

class Scheduler {
public:
  explicit Scheduler(SchedulerOptions options);
  ~Scheduler(); // ends the zygotes and waits for them
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Makes `spec.name` callable with this spec (instead of looking it up in
  // functionsDir). Its zygote starts with the first call.
  void addFunction(FunctionSpec spec);

  // Starts a call: a Faaslet forked from the function's zygote, running
  // `repeat` times in a row (warm: reset between runs) on `input`. Returns
  // the call id, or 0 if there is no such function.
  uint32_t start(const std::string& function, std::vector<uint8_t> input, uint32_t repeat = 1);

  // Serves Faaslets until call `id` has finished; returns its outcome.
  // `onResult`, if given, sees each run's result of that call as it arrives
  // (warm calls: between runs), so output can be streamed.
  const CallOutcome& wait(uint32_t id, const std::function<void(const CallResult&)>& onResult = {});

  // The Faaslet process of a started call (not the caller's child: its
  // zygote's), or -1 if unknown or it could not be forked.
  pid_t faasletPid(uint32_t id) const;
  // Forgets a finished call (its outcome; a later Await of it answers -1),
  // so a long-lived scheduler does not keep every call. No effect on a call
  // still running.
  void release(uint32_t id);

  // The return code a chained caller sees: main's result or the exit code,
  // 134 if the call trapped, 126 if the function could not be made.
  static int32_t returnCode(const CallOutcome& outcome);

private:
  struct Zygote;
  struct Call;
  Zygote* zygoteFor(const std::string& function);
  void startZygote(Zygote& z);
  void zygoteStarted(Zygote& z);
  void initFailed(Zygote& z, const runtime::Error& e);
  void initTimeouts(std::chrono::steady_clock::time_point now);
  std::string describeInitDeath(Zygote& z);
  void dispatch(Call& call, std::vector<uint8_t> input);
  void pump();
  void handle(Call& call);
  uint32_t watched_ = 0; // the call wait() reports on
  const std::function<void(const CallResult&)>* onResult_ = nullptr;
  void finish(Call& call);
  void failDeadRuns(Call& call);
  void ended(Zygote& z, const protocol::Message& m);
  void serveZygote(Zygote& z);
  std::vector<int> ownFds() const;

  SchedulerOptions options_;
  std::map<std::string, FunctionSpec> specs_;
  std::map<std::string, std::unique_ptr<Zygote>> zygotes_;
  std::map<uint32_t, std::unique_ptr<Call>> calls_;
  uint32_t nextId_ = 1;
};

// Runs in a freshly forked zygote process: makes the Proto-Faaslet, reports
// on `control`, then forks one Faaslet per spawn request. Never returns.
[[noreturn]] void zygoteMain(const FunctionSpec& spec, int control,
                             std::shared_ptr<const isolation::IsolationPlan> isolation);

} // namespace faasm::faaslet
