// The host side of Faaslets: one scheduler per faasm-run (later per worker)
// process. It starts one zygote process per function, lazily (the
// Proto-Faaslet lives there), asks it to fork a Faaslet per call, and serves
// the Faaslets' chaining requests over a socketpair each. The protocol is in
// docs/Faaslets.md; the scheduler is single-threaded and event driven, so a
// Faaslet waiting for a chained call costs it nothing.
//
// Nothing a function does may exhaust it: Faaslets beyond a cap wait in a
// queue, the bytes it holds for calls (queued inputs, outputs) are counted
// against budgets, every call has a deadline, and a call can name only the
// calls it made itself (docs/Faaslets.md, "Limits" and "Call ids").
#pragma once

#include "faasm/faaslet/Faaslet.h"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace faasm::isolation {
class IsolationPlan;
}

namespace faasm::faaslet {

namespace protocol {
struct Message;
struct Header;
} // namespace protocol
class Admission;

// Caps and budgets, per call tree (a call made through Scheduler::start and
// every call chained from it, transitively) and per scheduler (the host).
// A 0 count means its default (resolved()); the byte budgets and the
// timeout must not be 0.
struct SchedulerLimits {
  // Faaslets computing at once: not blocked in faasmAwaitCall (a caller
  // that waits gives its slot to the calls it waits for and takes one back
  // when its await is answered). Beyond this, calls wait in a queue.
  // Defaults: per host 2 x the CPUs this process may run on, per tree the same.
  uint32_t runningPerHost = 0;
  uint32_t runningPerTree = 0;
  // Faaslet processes alive at once, waiting ones included: what bounds the
  // memory of a call tree (each Faaslet up to its memory limit). A queued
  // call that someone waits for and that can never start because every
  // Faaslet of its tree (or of the host) waits is refused (return code 126).
  // Defaults: per host 16 x CPUs (at least 32), per tree 8 x CPUs (at least 16).
  uint32_t alivePerHost = 0;
  uint32_t alivePerTree = 0;
  // Bytes the scheduler holds for calls: the inputs of calls not started
  // yet, outputs until their caller's run ends (roots: until release), and
  // kCallRecordBytes per chained call it knows.
  uint64_t bytesPerTree = uint64_t(64) << 20;
  uint64_t bytesPerHost = uint64_t(256) << 20;
  // A chained call ends with a timeout trap (134) this long after
  // faasmChainNamed, queued or running: so every await ends.
  std::chrono::milliseconds chainTimeout{300'000};

  // What each chained call's record costs, against the byte budgets.
  static constexpr uint64_t kCallRecordBytes = 1024;

  // These limits with every 0 count replaced by its default for this host.
  SchedulerLimits resolved() const;
  // One line naming the first limit that cannot work (a budget or timeout
  // of 0, a tree cap above its host cap), or empty.
  std::string problem() const;
};

struct SchedulerOptions {
  // Where chained functions come from: <functionsDir>/<name>.so. Empty: only
  // the functions added with addFunction() exist.
  std::string functionsDir;
  // If set, finds a chained function's artefact instead (called once per
  // function, with a name that is one path component): its path, or empty
  // if there is no such function, with `error` saying why when there is
  // more to say than that (logged). faasm-run compiles a <name>.wasm here.
  std::function<std::string(const std::string& function, std::string& error)> findFunction;
  // The user every function of this scheduler belongs to: chained calls
  // stay within it.
  std::string user = api::kDefaultUser;
  // Given to every zygote of a chained function (guest env, preopens).
  std::vector<std::string> env;
  std::vector<std::string> dirs;
  std::vector<std::string> libs; // library artefacts they may dlopen
  // Applied in each Faaslet right after fork (may be null: no isolation).
  std::shared_ptr<const isolation::IsolationPlan> isolation;
  // Wall-clock limit per run of a call, enforced here (SIGKILL to the
  // Faaslet; the call's runs that did not finish trap with Timeout). 0: none.
  std::chrono::milliseconds timeout{0};
  SchedulerLimits limits;
  // Receives one line for each chained call that the scheduler refused or
  // ended (a limit, a timeout, the Faaslet died), naming the function and
  // the problem; the caller sees only a return code. Empty: stderr.
  std::function<void(const std::string&)> log;
  // Where functions of other users, and functions not added, come from (a
  // worker's function table): the spec of `user`'s `name`, or nullopt if
  // there is none. Asked once per function until retire() forgets it.
  std::function<std::optional<FunctionSpec>(const std::string& user, const std::string& name)>
      resolve;
  // Where a chained call goes when this host has no running slot for it (a
  // worker in a cluster: another host). Asked for calls by name only
  // (faasmChainNamed; faasmChain's entry pointer names code of this
  // host's artefact) at the moment they are chained, with the call's
  // scheduler id and deadline. True: the embedder took the call, holds no
  // slot or input here, and must answer it by remoteDone() (the deadline
  // still ends it here if that never comes); false: it queues here. Empty:
  // every chained call runs here.
  std::function<bool(uint32_t id, const std::string& user, const std::string& function,
                     const std::vector<uint8_t>& input,
                     std::chrono::steady_clock::time_point deadline)>
      offload;
};

// What became of a call.
struct CallOutcome {
  std::vector<CallResult> results; // one per run (warm calls run several)
  std::string error;               // the function could not be made (load, link, init)
  runtime::Error initError;        // details of that failure (trap, exit code)
  // When the zygote forked the Faaslet (CLOCK_MONOTONIC, ns; 0 if unknown):
  // the start of the restore, for latency accounting.
  uint64_t forkedAtNs = 0;
  // The call found no ready Proto-Faaslet of its function: it waited for
  // (or failed in) the function's initialisation.
  bool coldStart = false;
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

  // Starts a call, the root of a new call tree: a Faaslet forked from the
  // function's zygote, running `repeat` times in a row (warm: reset between
  // runs) on `input`, at once or when the host's caps allow (wait() serves
  // the queue). Returns the call id, or 0 if there is no such function. The
  // id is the embedder's: no function ever sees it.
  uint32_t start(const std::string& function, std::vector<uint8_t> input, uint32_t repeat = 1);
  // The same for `user`'s function (options.resolve finds it unless it was
  // added), ending with a Timeout trap at `deadline` if it has not finished
  // by then, queued or running.
  uint32_t start(const std::string& user, const std::string& function, std::vector<uint8_t> input,
                 std::chrono::steady_clock::time_point deadline);

  // For an embedder with its own event loop: one round of serving Faaslets,
  // waiting at most `maxWait` and returning early when `wakeFd` (if >= 0)
  // is readable (the embedder drains it). Roots that finished meanwhile are
  // then in takeFinished().
  void poll(std::chrono::milliseconds maxWait, int wakeFd = -1);
  // The ids of calls made through start() that finished since the last
  // take, each once; outcome(id) has them until release(id).
  std::vector<uint32_t> takeFinished();
  // A finished call's outcome, or null if it is unknown or not finished.
  const CallOutcome* outcome(uint32_t id) const;

  // The outcome of a call offload() took: its awaiter resumes. Ignored for
  // a call that is not one offloaded or has ended (its deadline came). An
  // output past the tree's byte budget fails the call instead.
  void remoteDone(uint32_t id, CallOutcome outcome);

  // Forgets `user`'s `function`: the next call resolves it afresh (a new
  // upload), while calls already made finish on the old Proto-Faaslet,
  // whose zygote ends when none is left.
  void retire(const std::string& user, const std::string& function);
  // Proto-Faaslets (zygotes) alive, retired ones included.
  size_t zygoteCount() const { return zygotes_.size(); }

  // Serves Faaslets until call `id` has finished; returns its outcome.
  // `onResult`, if given, sees each run's result of that call as it arrives
  // (warm calls: between runs), so output can be streamed; the outputs of
  // the runs before the last are then dropped (they count against the
  // budget until they are).
  const CallOutcome& wait(uint32_t id, const std::function<void(const CallResult&)>& onResult = {});

  // The Faaslet process of a started call (not the caller's child: its
  // zygote's), or -1 if unknown, still queued or it could not be forked.
  pid_t faasletPid(uint32_t id) const;
  // Forgets a finished call (its outcome and the bytes it holds), so a
  // long-lived scheduler does not keep every call. No effect on a call
  // still running.
  void release(uint32_t id);

  // What the scheduler holds now (tests, monitoring): Faaslets running and
  // alive, calls queued, bytes charged, over all trees.
  struct Load {
    uint32_t running = 0, alive = 0, queued = 0;
    uint64_t bytes = 0;
  };
  Load load() const;
  // Chained calls offload() took (since the scheduler started).
  uint64_t offloaded() const { return offloaded_; }

  // The return code a chained caller sees: main's result or the exit code,
  // 134 if the call trapped, 126 if the function could not be made.
  static int32_t returnCode(const CallOutcome& outcome);

private:
  struct Zygote;
  struct Call;
  struct Tree;
  using Clock = std::chrono::steady_clock;

  Zygote* zygoteFor(const std::string& user, const std::string& function);
  void startZygote(Zygote& z);
  void zygoteStarted(Zygote& z);
  void initFailed(Zygote& z, const runtime::Error& e);
  void initTimeouts(std::chrono::steady_clock::time_point now);
  std::string describeInitDeath(Zygote& z);
  void serveZygote(Zygote& z);
  void ended(Zygote& z, const protocol::Message& m);
  std::vector<int> ownFds() const;

  // Calls: queued, launched, served, finished, forgotten.
  uint32_t newCall(const std::string& function, Zygote* z, uint64_t tree, uint32_t caller,
                   std::vector<uint8_t> input, uint32_t runs);
  void settle(); // starts and resumes what the caps allow; refuses what can never start
  void launch(Call& call);
  void spawn(Call& call); // the Faaslet of a launched call, once its zygote is ready
  void cannotMake(Call& call, const std::string& error, const runtime::Error& initError);
  // One round of the event loop, waiting at most maxWait (negative: until
  // something happens) and no longer once wakeFd is readable; false if there
  // was nothing to wait for.
  bool pump(std::chrono::milliseconds maxWait = std::chrono::milliseconds(-1), int wakeFd = -1);
  uint32_t startTree(const std::string& user, const std::string& function,
                     std::vector<uint8_t> input, uint32_t repeat);
  void endRetired(); // ends retired zygotes no call needs any more, reaps those that ended
  void handle(Call& call);
  void chain(Call& caller, const protocol::Header& h);
  void await(Call& caller, uint32_t localId);
  void getOutput(Call& caller, uint32_t localId, int32_t maxBytes);
  void globalConnect(Call& call);
  static constexpr uint32_t kMaxGlobalConnections = 64;
  void result(Call& call, const protocol::Header& h);
  void finish(Call& call);
  void refuse(Call& call, const std::string& why);
  void failRuns(Call& call, abi::TrapCode trap, const std::string& error);
  void failDeadRuns(Call& call);
  void dropFaaslet(Call& call, const std::string& why);
  void channelClosed(Call& call);
  void faasletGone(Call& call);
  void dropOutputs(Call& call);
  void releaseChildren(Call& caller);
  void sweep();
  void expire(Clock::time_point now);
  void setDeadline(Call& call, Clock::time_point deadline);
  Call* find(uint32_t id) const;
  Call* child(const Call& caller, uint32_t localId) const;
  void report(const Call& call, const std::string& problem) const;
  void log(const std::string& line) const;

  SchedulerOptions options_;
  std::unique_ptr<Admission> admission_;
  // Functions and their zygotes, by user and name.
  std::map<std::pair<std::string, std::string>, FunctionSpec> specs_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Zygote>> zygotes_;
  std::map<uint32_t, std::unique_ptr<Call>> calls_;
  std::map<uint64_t, std::unique_ptr<Tree>> trees_;
  std::set<uint32_t> open_; // calls whose Faaslet's channel is open (polled)
  // Alive Faaslets by zygote and pid, for Ended.
  std::map<std::pair<const Zygote*, pid_t>, uint32_t> byPid_;
  std::set<std::pair<Clock::time_point, uint32_t>> deadlines_;
  std::vector<uint32_t> graveyard_; // records sweep() may erase
  uint32_t watched_ = 0;            // the call wait() reports on
  const std::function<void(const CallResult&)>* onResult_ = nullptr;
  uint32_t nextId_ = 1;
  uint64_t nextTree_ = 1;
  std::vector<uint32_t> finishedRoots_; // for takeFinished()
  uint64_t retired_ = 0;                // retired zygotes so far (their keys)
  uint64_t offloaded_ = 0;
  std::vector<pid_t> exiting_; // retired zygotes told to end, not yet reaped
};

// Runs in a freshly forked zygote process: makes the Proto-Faaslet, reports
// on `control`, then forks one Faaslet per spawn request. Never returns.
[[noreturn]] void zygoteMain(const FunctionSpec& spec, int control,
                             std::shared_ptr<const isolation::IsolationPlan> isolation);

} // namespace faasm::faaslet
