#include "faasm/faaslet/Scheduler.h"

#include "Admission.h"
#include "Protocol.h"

#include "faasm/state/StateStore.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// Subtle: every path here must keep the capacity bookkeeping (Admission) in
// step with the processes, or a call tree could leak slots or bytes (and the
// host's capacity with them) or wait for ever. The invariants:
// - A call is queued (Admission knows it as queued) until it is launched,
//   refused or times out; a launched call's Faaslet is alive (Running,
//   Waiting or Resuming) until its channel has closed and, if its zygote
//   reports ends, its Ended has come: only then does faasletGone() give its
//   slot back. A call launched while its zygote initialises has no Faaslet
//   yet (it is in the zygote's `pending`): if it ends there (its zygote
//   failed, its deadline came), its slot is given back at once, as nothing
//   else ever would.
// - A call's record is erased (sweep) only when it is done, its Faaslet is
//   gone and nobody may name it any more (not owned): so a Faaslet's id in
//   byPid_, a caller's children and an awaiter's `awaiting` never dangle for
//   longer than one sweep, and find() is used wherever they may.
// - Nothing erases a record while a caller holds a reference to it: erasure
//   waits for sweep(), at the top and bottom of pump() and in release().

namespace faasm::faaslet {

using protocol::Header;
using protocol::Message;
using protocol::Msg;
using Slot = Admission::Slot;
using Clock = std::chrono::steady_clock;

namespace {

constexpr Clock::time_point kNever = Clock::time_point::max();

bool isAlive(Slot s) {
  return s == Slot::Running || s == Slot::Waiting || s == Slot::Resuming;
}

std::string seconds(std::chrono::milliseconds ms) {
  char text[32];
  if (ms.count() % 1000 == 0)
    std::snprintf(text, sizeof text, "%lld s", (long long)(ms.count() / 1000));
  else
    std::snprintf(text, sizeof text, "%.3g s", double(ms.count()) / 1000);
  return text;
}

} // namespace

struct Scheduler::Zygote {
  FunctionSpec spec;
  pid_t pid = -1;
  int control = -1; // scheduler's end
  bool started = false;
  std::string error; // set if the Proto-Faaslet could not be made
  runtime::Error initError;
  bool reportsEnds = false; // sends Ended for each Faaslet (it reaps them)
  // Initialisation runs while the scheduler serves other calls: calls of the
  // function launched before Ready wait in `pending` (holding their slots:
  // initialisation is part of their time) until Ready, or fail with its error.
  bool ready = false;
  bool retired = false; // retire(): no new call reaches it; it ends when no call needs it
  std::vector<uint32_t> pending;
  Clock::time_point initDeadline = kNever;
};

// Every call made through start() and every call chained from it, with the
// user they all belong to.
struct Scheduler::Tree {
  uint64_t id = 0;
  std::string user;
  uint32_t calls = 0; // records of its calls the scheduler keeps
};

struct Scheduler::Call {
  uint32_t id = 0; // the scheduler's own; a function names its calls by their place in `children`
  std::string function;
  std::string chainedBy; // the caller's function, for messages; empty for a root
  uint64_t tree = 0;
  uint32_t caller = 0; // the call that chained it; 0: the embedder's (a root)
  Zygote* zygote = nullptr;
  uint32_t runs = 1;
  uint32_t entry = 0;      // 0: main; else the function pointer faasmChain gave
  size_t reportedRuns = 0; // results wait()'s onResult has seen
  bool done = false;       // every run's outcome is known
  bool owned = true;       // its caller's current run (or the embedder) may still name it
  bool queued = false;
  bool remote = false; // offload() took it: neither queued nor alive here, done by remoteDone()
  Slot slot = Slot::None;
  CallOutcome outcome;
  // The calls this call's current run chained: id i (as the function knows
  // it) is children[i - 1]. Emptied when the run ends.
  std::vector<uint32_t> children;
  std::vector<uint32_t> awaiters; // calls whose Faaslets wait for this one
  uint32_t awaiting = 0;          // Waiting or Resuming: the call it waits for
  int32_t reply = 0;              // Resuming: the answer to its await
  std::vector<uint8_t> input;     // until it starts; a warm call keeps it for its runs
  // Charged to the tree: the input while queued, outputs while someone may
  // read them, the record of a chained call while it is kept.
  uint64_t inputBytes = 0, outputBytes = 0, recordBytes = 0;
  int fd = -1;    // scheduler's end of the Faaslet's channel
  pid_t pid = -1; // the Faaslet (not our child: the zygote's)
  bool eof = false;
  int ended = -1;                 // from Ended: 1 = killed by its memory limit, 0 = other
  uint32_t globalConnections = 0; // opened for its Faaslet (GlobalConnect)
  Clock::time_point deadline = kNever;
  std::string deadlineWhy; // which limit the deadline is, for messages
  std::string backtrace;   // from a Backtrace message, for the Result that follows it
};

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {
  std::signal(SIGPIPE, SIG_IGN);
  // A configuration problem() names is made workable here rather than
  // refused: the embedder checks problem() to tell its user.
  SchedulerLimits& l = options_.limits;
  l = l.resolved();
  l.runningPerTree = std::min(l.runningPerTree, l.runningPerHost);
  l.alivePerTree = std::min(l.alivePerTree, l.alivePerHost);
  // One output must fit one message, and its size faasmGetOutput's i32.
  l.bytesPerTree = std::clamp<uint64_t>(l.bytesPerTree, 1, protocol::kMaxPayload);
  l.bytesPerHost = std::max(l.bytesPerHost, l.bytesPerTree);
  l.chainTimeout = std::max(l.chainTimeout, std::chrono::milliseconds(1));
  admission_ = std::make_unique<Admission>(l);
}

Scheduler::~Scheduler() {
  // A Faaslet still computing ends now: its zygote waits for its Faaslets
  // before it exits, and a call nobody awaits (chained and forgotten) would
  // otherwise spin on after the scheduler, with nobody to enforce its
  // deadline.
  for (auto& [id, call] : calls_) {
    if (isAlive(call->slot) && !call->done && !call->eof && call->pid > 0) kill(call->pid, SIGKILL);
    if (call->fd >= 0) close(call->fd);
  }
  for (auto& [name, z] : zygotes_) {
    if (z->control >= 0) close(z->control); // the zygote exits on EOF
    // One still initialising may never look at its socket.
    if (z->pid > 0 && !z->ready) kill(z->pid, SIGKILL);
    if (z->pid > 0) waitpid(z->pid, nullptr, 0);
  }
  for (pid_t pid : exiting_)
    waitpid(pid, nullptr, 0);
}

void Scheduler::addFunction(FunctionSpec spec) {
  auto key = std::make_pair(spec.user, spec.name);
  specs_[key] = std::move(spec);
}

int32_t Scheduler::returnCode(const CallOutcome& outcome) {
  if (outcome.failedToStart()) {
    if (outcome.initError.trap == abi::TrapCode::Exit) {
      uint32_t u = uint32_t(outcome.initError.exitCode);
      return u <= 125 ? int32_t(u) : 126;
    }
    return outcome.initError.trap == abi::TrapCode::None ? 126 : 134;
  }
  if (outcome.results.empty()) return 134;
  const CallResult& r = outcome.results.back();
  if (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit) {
    uint32_t u = uint32_t(r.returnCode);
    return u <= 125 ? int32_t(u) : 126;
  }
  return 134;
}

std::vector<int> Scheduler::ownFds() const {
  std::vector<int> fds;
  for (uint32_t id : open_)
    fds.push_back(calls_.at(id)->fd);
  for (const auto& [name, z] : zygotes_)
    if (z->control >= 0) fds.push_back(z->control);
  return fds;
}

Scheduler::Zygote* Scheduler::zygoteFor(const std::string& user, const std::string& function) {
  auto key = std::make_pair(user, function);
  if (auto it = zygotes_.find(key); it != zygotes_.end()) {
    // A resolved function whose initialisation failed is tried afresh by
    // the next call (its failure may have been the host's: a timeout under
    // load), as the first call of a new upload would be.
    if (!options_.resolve || it->second->error.empty() || it->second->control >= 0)
      return it->second.get();
    retire(user, function);
  }
  FunctionSpec spec;
  // A function name is one path component (of a functions directory, of a
  // worker's table); '\0' never occurs in one (retired zygotes' keys).
  const bool validName = !function.empty() && function != "." && function != ".." &&
                         function.find('/') == std::string::npos &&
                         function.find('\0') == std::string::npos;
  if (auto it = specs_.find(key); it != specs_.end()) {
    spec = it->second;
  } else if (!validName) {
    return nullptr;
  } else if (options_.resolve && (user != options_.user || options_.functionsDir.empty())) {
    std::optional<FunctionSpec> resolved = options_.resolve(user, function);
    if (!resolved) return nullptr;
    spec = std::move(*resolved);
    spec.user = user;
    spec.name = function;
  } else {
    // The function table is this scheduler's user's.
    if (user != options_.user || options_.functionsDir.empty()) return nullptr;
    spec.user = options_.user;
    spec.name = function;
    spec.env = options_.env;
    spec.dirs = options_.dirs;
    spec.libs = options_.libs;
    if (options_.findFunction) {
      std::string error;
      spec.file = options_.findFunction(function, error);
      if (spec.file.empty()) {
        if (!error.empty()) log(function + ": " + error);
        return nullptr;
      }
    } else {
      spec.file = options_.functionsDir + "/" + function + ".so";
      struct stat st{};
      if (stat(spec.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
    }
  }
  auto z = std::make_unique<Zygote>();
  z->spec = std::move(spec);
  Zygote* raw = z.get();
  zygotes_[key] = std::move(z);
  startZygote(*raw);
  return raw;
}

void Scheduler::startZygote(Zygote& z) {
  z.started = true;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    z.error = std::string("cannot create a socketpair: ") + std::strerror(errno);
    z.initError = runtime::makeError(z.error);
    return;
  }
  std::vector<int> inherited = ownFds();
  std::fflush(nullptr);
  pid_t scheduler = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Tied to the thread that forked it (prctl's parent death is a thread's):
    // start() and the rest stay on one thread for the Scheduler's life.
    protocol::dieWithParent(scheduler);
    // The zygote keeps nothing of the scheduler's: a Faaslet must see EOF
    // when the scheduler goes, not be held open by a sibling's copy.
    for (int fd : inherited)
      close(fd);
    close(sv[0]);
    zygoteMain(z.spec, sv[1], options_.isolation);
  }
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    z.error = std::string("cannot fork a zygote: ") + std::strerror(errno);
    z.initError = runtime::makeError(z.error);
    return;
  }
  z.pid = pid;
  z.control = sv[0];
  // Ready or InitFailed comes later (pump): initialisation is a call, bound
  // by the call's timeout, and no other call waits for it.
  if (options_.timeout.count() > 0) z.initDeadline = Clock::now() + options_.timeout;
}

void Scheduler::zygoteStarted(Zygote& z) {
  Message m;
  if (!protocol::receive(z.control, m)) {
    initFailed(z, runtime::makeError(describeInitDeath(z)));
    return;
  }
  if (m.type == Msg::Ready) {
    z.ready = true;
    z.reportsEnds = m.a == 1;
    z.initDeadline = kNever;
    for (uint32_t id : std::exchange(z.pending, {}))
      if (Call* c = find(id); c && !c->done && c->slot == Slot::Running) spawn(*c);
    return;
  }
  runtime::Error e;
  if (m.type == Msg::InitFailed) {
    e.message.assign(m.payload.begin(), m.payload.end());
    if (size_t nul = e.message.find('\0'); nul != std::string::npos) {
      e.backtrace = protocol::boundedBacktrace(e.message.substr(nul + 1));
      e.message.resize(nul);
    }
    e.trap = abi::TrapCode(m.a);
    e.exitCode = m.b;
    if (e.message.empty()) e.message = "initialisation failed";
  } else {
    e = runtime::makeError("the zygote sent an unexpected message");
  }
  initFailed(z, e);
}

std::string Scheduler::describeInitDeath(Zygote& z) {
  int status = 0;
  pid_t r = z.pid > 0 ? waitpid(z.pid, &status, 0) : -1;
  z.pid = -1;
  if (r <= 0) return "the zygote died while initialising";
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
    return "initialisation was killed by seccomp (forbidden system call)";
  if (WIFSIGNALED(status))
    return std::string("initialisation crashed (killed by signal ") +
           std::to_string(WTERMSIG(status)) + ", " + sigabbrev_np(WTERMSIG(status)) + ")";
  return "the zygote died while initialising (status " + std::to_string(WEXITSTATUS(status)) + ")";
}

void Scheduler::initFailed(Zygote& z, const runtime::Error& e) {
  if (z.control >= 0) close(z.control);
  z.control = -1;
  if (z.pid > 0) {
    kill(z.pid, SIGKILL); // one that timed out is still running
    waitpid(z.pid, nullptr, 0);
    z.pid = -1;
  }
  z.initError = e;
  z.error = e.message.empty() ? "initialisation failed" : e.message;
  z.initDeadline = kNever;
  for (uint32_t id : std::exchange(z.pending, {}))
    if (Call* c = find(id); c && !c->done) cannotMake(*c, z.error, z.initError);
}

void Scheduler::initTimeouts(Clock::time_point now) {
  for (auto& [name, z] : zygotes_) {
    if (z->ready || z->control < 0 || now < z->initDeadline) continue;
    initFailed(*z,
               runtime::makeError("initialisation timed out after " + seconds(options_.timeout)));
  }
}

Scheduler::Call* Scheduler::find(uint32_t id) const {
  auto it = calls_.find(id);
  return it == calls_.end() ? nullptr : it->second.get();
}

void Scheduler::log(const std::string& line) const {
  if (options_.log)
    options_.log(line);
  else
    std::fprintf(stderr, "faasm: %s\n", line.c_str());
}

void Scheduler::report(const Call& call, const std::string& problem) const {
  // A root's outcome says it; its embedder reports it.
  if (call.caller == 0) return;
  log(call.function + " (chained by " + call.chainedBy + "): " + problem);
}

void Scheduler::setDeadline(Call& call, Clock::time_point deadline) {
  if (call.deadline != kNever) deadlines_.erase({call.deadline, call.id});
  call.deadline = deadline;
  if (deadline != kNever) deadlines_.insert({deadline, call.id});
}

uint32_t Scheduler::start(const std::string& function, std::vector<uint8_t> input,
                          uint32_t repeat) {
  uint32_t id = startTree(options_.user, function, std::move(input), repeat);
  settle();
  return id;
}

uint32_t Scheduler::start(const std::string& user, const std::string& function,
                          std::vector<uint8_t> input, Clock::time_point deadline) {
  uint32_t id = startTree(user, function, std::move(input), 1);
  if (Call* c = find(id); c && !c->done) {
    setDeadline(*c, deadline);
    c->deadlineWhy = "its deadline";
  }
  settle();
  return id;
}

uint32_t Scheduler::startTree(const std::string& user, const std::string& function,
                              std::vector<uint8_t> input, uint32_t repeat) {
  Zygote* z = zygoteFor(user, function);
  if (!z) return 0;
  const bool cold = !z->ready;
  uint64_t tree = nextTree_++;
  auto t = std::make_unique<Tree>();
  t->id = tree;
  t->user = user;
  trees_[tree] = std::move(t);
  admission_->addTree(tree);
  uint32_t id = newCall(function, z, tree, 0, std::move(input), repeat ? repeat : 1);
  calls_.at(id)->outcome.coldStart = cold;
  return id;
}

void Scheduler::retire(const std::string& user, const std::string& function) {
  auto key = std::make_pair(user, function);
  specs_.erase(key);
  auto it = zygotes_.find(key);
  if (it == zygotes_.end()) return;
  std::unique_ptr<Zygote> z = std::move(it->second);
  zygotes_.erase(it);
  z->retired = true;
  // Kept (under a key no function name can have) while calls need it.
  zygotes_[{user, function + '\0' + std::to_string(++retired_)}] = std::move(z);
}

void Scheduler::endRetired() {
  std::erase_if(exiting_, [](pid_t pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
  bool any = false;
  for (const auto& [key, z] : zygotes_)
    any = any || z->retired;
  if (!any) return;
  std::set<const Zygote*> needed;
  for (const auto& [id, call] : calls_)
    needed.insert(call->zygote);
  for (auto it = zygotes_.begin(); it != zygotes_.end();) {
    Zygote& z = *it->second;
    if (!z.retired || needed.count(&z)) {
      ++it;
      continue;
    }
    // It exits on EOF; one still initialising may never look.
    if (z.control >= 0) close(z.control);
    if (z.pid > 0 && !z.ready) kill(z.pid, SIGKILL);
    if (z.pid > 0 && waitpid(z.pid, nullptr, WNOHANG) == 0) exiting_.push_back(z.pid);
    it = zygotes_.erase(it);
  }
}

std::vector<uint32_t> Scheduler::takeFinished() {
  return std::exchange(finishedRoots_, {});
}

const CallOutcome* Scheduler::outcome(uint32_t id) const {
  Call* call = find(id);
  return call && call->done ? &call->outcome : nullptr;
}

void Scheduler::poll(std::chrono::milliseconds maxWait, int wakeFd) {
  pump(std::max(maxWait, std::chrono::milliseconds(0)), wakeFd);
}

uint32_t Scheduler::newCall(const std::string& function, Zygote* z, uint64_t tree, uint32_t caller,
                            std::vector<uint8_t> input, uint32_t runs) {
  auto call = std::make_unique<Call>();
  Call& c = *call;
  do
    c.id = nextId_++;
  while (c.id == 0 || calls_.count(c.id));
  c.function = function;
  c.zygote = z;
  c.tree = tree;
  c.caller = caller;
  c.runs = runs;
  if (caller) c.chainedBy = calls_.at(caller)->function;
  c.input = std::move(input);
  ++trees_.at(tree)->calls;
  calls_[c.id] = std::move(call);
  if (!z->error.empty()) {
    c.outcome.error = z->error;
    c.outcome.initError = z->initError;
    c.input.clear();
    c.done = true;
    if (!caller) finishedRoots_.push_back(c.id);
    graveyard_.push_back(c.id);
    return c.id;
  }
  c.queued = true;
  admission_->enqueue(tree, c.id);
  if (caller) {
    setDeadline(c, Clock::now() + options_.limits.chainTimeout);
    c.deadlineWhy = "the chained-call timeout of " + seconds(options_.limits.chainTimeout);
  }
  return c.id;
}

void Scheduler::settle() {
  for (;;) {
    if (std::optional<Admission::Next> n = admission_->next()) {
      Call& c = *calls_.at(n->call);
      if (n->resume) {
        c.slot = Slot::Running;
        c.awaiting = 0;
        // A Faaslet gone meanwhile is seen as EOF on its channel.
        protocol::send(c.fd, Msg::AwaitReply, 0, c.reply);
      } else {
        launch(c);
      }
      continue;
    }
    std::optional<Admission::Next> d = admission_->deadlocked();
    if (!d) return;
    Call& c = *calls_.at(d->call);
    c.queued = false;
    const SchedulerLimits& l = options_.limits;
    if (admission_->tree(c.tree).alive >= l.alivePerTree)
      refuse(c, "refused: its call tree has " + std::to_string(l.alivePerTree) +
                    " Faaslets alive (its limit), all waiting for calls that cannot start");
    else
      refuse(c, "refused: this host has " + std::to_string(l.alivePerHost) +
                    " Faaslets alive (its limit), all waiting for calls that cannot start");
  }
}

void Scheduler::launch(Call& c) {
  c.queued = false;
  c.slot = Slot::Running;
  Zygote* z = c.zygote;
  // The input leaves the scheduler's keeping: it goes to the Faaslet now.
  if (c.inputBytes) admission_->refund(c.tree, std::exchange(c.inputBytes, 0));
  std::string error;
  if (!z->error.empty() || z->control < 0)
    error = z->error.empty() ? "the zygote of " + c.function + " is gone" : z->error;
  if (!error.empty()) {
    cannotMake(c, error, z->error.empty() ? runtime::makeError(error) : z->initError);
    return;
  }
  if (!z->ready) {
    z->pending.push_back(c.id);
    return;
  }
  spawn(c);
}

void Scheduler::cannotMake(Call& c, const std::string& error, const runtime::Error& initError) {
  c.outcome.error = error;
  c.outcome.initError = initError;
  c.slot = Slot::Gone;
  admission_->gone(c.tree, c.id, Slot::Running);
  report(c, "could not be made: " + error);
  finish(c);
}

void Scheduler::spawn(Call& c) {
  Zygote* z = c.zygote;
  int sv[2] = {-1, -1};
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    std::string error = std::string("cannot create a socketpair: ") + std::strerror(errno);
    cannotMake(c, error, runtime::makeError(error));
    return;
  }
  // A small input goes with the Spawn request: the Faaslet has it in memory
  // from the fork on and receives nothing before its call. A larger one goes
  // on the channel before the Spawned round trip, so the Faaslet finds it
  // there as soon as it is forked. A warm call keeps it for the next runs.
  const std::vector<uint8_t>& input = c.input;
  bool carried = input.size() <= protocol::kMaxSpawnInput;
  std::vector<uint8_t> request;
  if (carried) request = input;
  const uint8_t* entry = reinterpret_cast<const uint8_t*>(&c.entry);
  request.insert(request.end(), entry, entry + sizeof c.entry);
  bool ok = protocol::send(z->control, Msg::Spawn, c.runs, carried ? 1 : 0, request.data(),
                           request.size(), sv[1]);
  close(sv[1]);
  c.fd = sv[0];
  open_.insert(c.id);
  ok = ok && (carried || protocol::send(c.fd, Msg::Input, 0, 0, input.data(), input.size()));
  if (c.runs == 1) std::vector<uint8_t>().swap(c.input);
  Message spawned;
  while (ok && (ok = protocol::receive(z->control, spawned)) && spawned.type == Msg::Ended)
    ended(*z, spawned);
  ok = ok && spawned.type == Msg::Spawned;
  if (ok) {
    c.pid = spawned.b;
    if (c.pid > 0) byPid_[{z, c.pid}] = c.id;
    // Born pinned to its confined zygote's CPU, which may not give it its
    // CPU set back (docs/Faaslets.md): the scheduler's own set is the one
    // the zygote started with.
    if (spawned.a == 1 && c.pid > 0) {
      cpu_set_t cpus;
      if (sched_getaffinity(0, sizeof cpus, &cpus) == 0)
        sched_setaffinity(c.pid, sizeof cpus, &cpus);
    }
    if (spawned.payload.size() == sizeof c.outcome.forkedAtNs)
      std::memcpy(&c.outcome.forkedAtNs, spawned.payload.data(), sizeof c.outcome.forkedAtNs);
    if (options_.timeout.count() > 0) {
      Clock::time_point t = Clock::now() + options_.timeout * c.runs;
      if (t < c.deadline) {
        setDeadline(c, t);
        c.deadlineWhy = "its timeout of " + seconds(options_.timeout) + " per run";
      }
    }
    return;
  }
  c.outcome.error = "the zygote of " + c.function + " is gone";
  c.outcome.initError = runtime::makeError(c.outcome.error);
  report(c, "could not be made: " + c.outcome.error);
  finish(c);
  channelClosed(c);
}

void Scheduler::finish(Call& call) {
  call.done = true;
  if (call.caller == 0) finishedRoots_.push_back(call.id);
  if (!isAlive(call.slot)) setDeadline(call, kNever);
  int32_t rc = returnCode(call.outcome);
  for (uint32_t id : call.awaiters) {
    Call* w = find(id);
    if (!w || w->slot != Slot::Waiting || w->awaiting != call.id) continue;
    w->slot = Slot::Resuming;
    w->reply = rc;
    admission_->wantResume(w->tree, w->id);
  }
  call.awaiters.clear();
  releaseChildren(call);
  if (call.inputBytes) admission_->refund(call.tree, std::exchange(call.inputBytes, 0));
  std::vector<uint8_t>().swap(call.input);
  if (!call.owned) dropOutputs(call);
  graveyard_.push_back(call.id);
}

void Scheduler::refuse(Call& call, const std::string& why) {
  call.outcome.error = why;
  call.outcome.initError = runtime::makeError(why);
  report(call, why);
  finish(call);
}

void Scheduler::failRuns(Call& call, abi::TrapCode trap, const std::string& error) {
  while (call.outcome.results.size() < call.runs) {
    CallResult r;
    r.trap = trap;
    r.error = error;
    call.outcome.results.push_back(std::move(r));
  }
}

void Scheduler::failDeadRuns(Call& call) {
  while (call.outcome.results.size() < call.runs) {
    CallResult r;
    r.trap = abi::TrapCode::HostError;
    r.died = true;
    r.memoryLimit = call.ended == 1;
    call.outcome.results.push_back(std::move(r));
  }
  report(call, call.ended == 1 ? "its memory limit was reached" : "its Faaslet died");
  finish(call);
}

void Scheduler::dropOutputs(Call& call) {
  if (call.outputBytes) admission_->refund(call.tree, std::exchange(call.outputBytes, 0));
  for (CallResult& r : call.outcome.results)
    std::vector<uint8_t>().swap(r.output);
}

void Scheduler::releaseChildren(Call& caller) {
  for (uint32_t id : caller.children) {
    Call* c = find(id);
    if (!c) continue;
    // Nobody can name it any more: its output goes, and the record with it
    // once it is done and its Faaslet gone. One still queued or running
    // goes on (a call chained and never awaited is allowed), within its
    // tree's limits and deadline.
    c->owned = false;
    dropOutputs(*c);
    graveyard_.push_back(id);
  }
  std::vector<uint32_t>().swap(caller.children);
}

void Scheduler::sweep() {
  while (!graveyard_.empty()) {
    uint32_t id = graveyard_.back();
    graveyard_.pop_back();
    Call* c = find(id);
    if (!c || !c->done || c->owned || c->queued || isAlive(c->slot) || c->fd >= 0) continue;
    dropOutputs(*c);
    if (c->recordBytes) admission_->refund(c->tree, std::exchange(c->recordBytes, 0));
    setDeadline(*c, kNever);
    uint64_t tree = c->tree;
    calls_.erase(id);
    auto t = trees_.find(tree);
    if (t != trees_.end() && --t->second->calls == 0) {
      admission_->removeTree(tree);
      trees_.erase(t);
    }
  }
}

void Scheduler::dropFaaslet(Call& call, const std::string& why) {
  if (!call.done) {
    failRuns(call, abi::TrapCode::HostError, why);
    report(call, why);
    finish(call);
  }
  if (call.pid > 0 && !call.eof) kill(call.pid, SIGKILL);
  channelClosed(call);
}

void Scheduler::channelClosed(Call& call) {
  if (call.fd >= 0) {
    close(call.fd);
    call.fd = -1;
    open_.erase(call.id);
  }
  call.eof = true;
  // The Faaslet's process may still be exiting: if its zygote reports how
  // it ended (memory limit or not), it is gone when that word comes.
  if (call.ended >= 0 || call.pid <= 0 || !call.zygote->reportsEnds || call.zygote->control < 0)
    faasletGone(call);
}

void Scheduler::faasletGone(Call& call) {
  if (!isAlive(call.slot)) return;
  if (call.pid > 0) {
    auto it = byPid_.find({call.zygote, call.pid});
    if (it != byPid_.end() && it->second == call.id) byPid_.erase(it);
  }
  Slot was = call.slot;
  call.slot = Slot::Gone;
  admission_->gone(call.tree, call.id, was);
  if (call.awaiting) {
    if (Call* w = find(call.awaiting)) std::erase(w->awaiters, call.id);
    call.awaiting = 0;
  }
  if (!call.done)
    failDeadRuns(call); // the Faaslet died before reporting every run
  else
    setDeadline(call, kNever);
  graveyard_.push_back(call.id);
}

Scheduler::Call* Scheduler::child(const Call& caller, uint32_t localId) const {
  if (localId == 0 || localId > caller.children.size()) return nullptr;
  return find(caller.children[localId - 1]);
}

void Scheduler::handle(Call& call) {
  Header h{};
  if (!protocol::receiveHeader(call.fd, h)) {
    channelClosed(call);
    return;
  }
  // Only a computing Faaslet sends requests, one at a time; anything else
  // means its host code was subverted, and it is ended.
  if (call.slot != Slot::Running || call.done) {
    dropFaaslet(call, "its Faaslet broke the protocol");
    return;
  }
  switch (Msg(h.type)) {
  case Msg::Chain:
  case Msg::ChainThis: chain(call, h); break;
  case Msg::Await:
    if (h.length) return dropFaaslet(call, "its Faaslet broke the protocol");
    await(call, h.a);
    break;
  case Msg::GetOutput:
    if (h.length) return dropFaaslet(call, "its Faaslet broke the protocol");
    getOutput(call, h.a, h.b);
    break;
  case Msg::Result: result(call, h); break;
  case Msg::Backtrace:
    if (h.length > protocol::kMaxBacktraceBytes || !call.backtrace.empty())
      return dropFaaslet(call, "its Faaslet broke the protocol");
    call.backtrace.resize(h.length);
    if (!protocol::receiveBytes(call.fd, call.backtrace.data(), h.length))
      return channelClosed(call);
    break;
  case Msg::GlobalConnect:
    if (h.length) return dropFaaslet(call, "its Faaslet broke the protocol");
    globalConnect(call);
    break;
  default: dropFaaslet(call, "its Faaslet broke the protocol"); break;
  }
}

// A Faaslet asks again after its connection broke (the tier restarted);
// a bounded number of times, so that a subverted one cannot make the
// scheduler open sockets without end.
void Scheduler::globalConnect(Call& call) {
  std::string error;
  int fd = -1;
  if (++call.globalConnections > kMaxGlobalConnections)
    error = "more than " + std::to_string(kMaxGlobalConnections) +
            " connections to the global state tier asked for by one Faaslet";
  else
    fd = state::store().openConnection(error);
  protocol::send(call.fd, Msg::GlobalConnectReply, 0, fd >= 0 ? 0 : -1, error.data(),
                 fd >= 0 ? 0 : error.size(), fd);
  if (fd >= 0) ::close(fd);
}

// Chain: the callee by name (the first h.a bytes of the payload); ChainThis:
// the caller's own function (its zygote: the same artefact), entering at
// h.a. Either way the input follows inline, or is announced (h.b = 1).
void Scheduler::chain(Call& caller, const Header& h) {
  const bool announced = h.b == 1;
  const bool self = Msg(h.type) == Msg::ChainThis;
  const uint32_t nameLength = self ? 0 : h.a;
  if (nameLength > protocol::kMaxFunctionName || (h.b != 0 && h.b != 1) ||
      (announced ? h.length != uint64_t(nameLength) + 8
                 : h.length < nameLength || h.length - nameLength > protocol::kMaxInlineChainInput))
    return dropFaaslet(caller, "its Faaslet broke the protocol");
  std::vector<uint8_t> payload(h.length);
  if (!protocol::receiveBytes(caller.fd, payload.data(), payload.size()))
    return channelClosed(caller);
  std::string name =
      self ? caller.function : std::string(payload.begin(), payload.begin() + nameLength);
  uint64_t inputSize = h.length - nameLength;
  if (announced) std::memcpy(&inputSize, payload.data() + nameLength, sizeof inputSize);

  Zygote* z = self ? caller.zygote : zygoteFor(trees_.at(caller.tree)->user, name);
  if (!z) {
    protocol::send(caller.fd, Msg::ChainReply, 0, 0);
    return;
  }
  // Charged before a byte of the input is taken in: an announced input the
  // budget cannot hold is never sent.
  uint64_t charge = SchedulerLimits::kCallRecordBytes + inputSize;
  if (std::string error = admission_->charge(
          caller.tree, charge, "chained call with " + formatBytes(inputSize) + " of input");
      !error.empty()) {
    log(name + " (chained by " + caller.function + "): refused: " + error);
    protocol::send(caller.fd, Msg::ChainReply, 0, 0);
    return;
  }
  std::vector<uint8_t> input;
  if (announced) {
    Header in{};
    bool ok = protocol::send(caller.fd, Msg::ChainProceed, 0, 0) &&
              protocol::receiveHeader(caller.fd, in);
    if (ok && (Msg(in.type) != Msg::ChainInput || in.length != inputSize)) {
      admission_->refund(caller.tree, charge);
      return dropFaaslet(caller, "its Faaslet broke the protocol");
    }
    if (ok) {
      input.resize(inputSize);
      ok = protocol::receiveBytes(caller.fd, input.data(), inputSize);
    }
    if (!ok) {
      admission_->refund(caller.tree, charge);
      return channelClosed(caller);
    }
  } else {
    input.assign(payload.begin() + nameLength, payload.end());
  }
  uint32_t id = newCall(name, z, caller.tree, caller.id, std::move(input), 1);
  Call& c = *calls_.at(id);
  c.entry = self ? h.a : 0;
  c.recordBytes = SchedulerLimits::kCallRecordBytes;
  if (c.done) {
    // It can never run (its function could not be made): the input goes.
    admission_->refund(caller.tree, inputSize);
    report(c, "could not be made: " + c.outcome.error);
  } else {
    c.inputBytes = inputSize;
  }
  if (!c.done && !self && options_.offload) {
    // Local first: only a call that could not start now (every running slot
    // of the host taken or promised to calls queued before it, or the
    // host's Faaslets at their cap) goes elsewhere, and then it holds
    // nothing here but its record.
    Admission::Counts host = admission_->host();
    const SchedulerLimits& l = options_.limits;
    if ((host.running + host.resuming + host.queued > l.runningPerHost ||
         host.alive >= l.alivePerHost) &&
        options_.offload(id, trees_.at(caller.tree)->user, name, c.input, c.deadline)) {
      admission_->dequeue(c.tree, id);
      c.queued = false;
      c.remote = true;
      admission_->refund(caller.tree, std::exchange(c.inputBytes, 0));
      std::vector<uint8_t>().swap(c.input);
      ++offloaded_;
    }
  }
  caller.children.push_back(id);
  protocol::send(caller.fd, Msg::ChainReply, uint32_t(caller.children.size()), 0);
}

void Scheduler::await(Call& caller, uint32_t localId) {
  Call* c = child(caller, localId);
  if (!c) {
    // Not a call this run made (its own, its caller's, another tree's, a
    // guess): no call to wait for, so no wait that could close a cycle.
    protocol::send(caller.fd, Msg::AwaitReply, 0, -1);
  } else if (c->done) {
    protocol::send(caller.fd, Msg::AwaitReply, 0, returnCode(c->outcome));
  } else {
    caller.slot = Slot::Waiting;
    caller.awaiting = c->id;
    admission_->wait(caller.tree);
    c->awaiters.push_back(caller.id);
    if (c->queued) admission_->awaited(c->tree, c->id);
  }
}

void Scheduler::getOutput(Call& caller, uint32_t localId, int32_t maxBytes) {
  Call* c = child(caller, localId);
  if (!c || !c->done || c->outcome.results.empty()) {
    protocol::send(caller.fd, Msg::OutputReply, 0, -1);
    return;
  }
  // Only what the caller has room for: asking again and again for a large
  // output with a small buffer costs the scheduler no more than the buffer.
  const std::vector<uint8_t>& out = c->outcome.results.back().output;
  uint64_t n = std::min<uint64_t>(maxBytes > 0 ? uint64_t(maxBytes) : 0, out.size());
  protocol::send(caller.fd, Msg::OutputReply, 1, int32_t(out.size()), out.data(), n);
}

void Scheduler::result(Call& call, const Header& h) {
  // Judged by its length before any of it is taken in: one too large for the
  // budget (or the protocol) fails the call, naming the limit.
  if (std::string error =
          admission_->charge(call.tree, h.length, "output of " + formatBytes(h.length));
      !error.empty())
    return dropFaaslet(call, error);
  CallResult r;
  r.trap = abi::TrapCode(h.a);
  r.returnCode = h.b;
  r.backtrace = std::move(call.backtrace);
  call.backtrace.clear();
  r.output.resize(h.length);
  if (!protocol::receiveBytes(call.fd, r.output.data(), h.length)) {
    admission_->refund(call.tree, h.length);
    return channelClosed(call);
  }
  call.outputBytes += h.length;
  call.outcome.results.push_back(std::move(r));
  const bool last = call.outcome.results.size() >= call.runs;
  if (call.id == watched_ && onResult_ && *onResult_) {
    (*onResult_)(call.outcome.results.back());
    call.reportedRuns = call.outcome.results.size();
    if (!last) {
      // Streamed: the embedder has it.
      admission_->refund(call.tree, h.length);
      call.outputBytes -= h.length;
      std::vector<uint8_t>().swap(call.outcome.results.back().output);
    }
  }
  if (!call.owned) dropOutputs(call);
  if (last) return finish(call);
  // The next run of a warm call, which names only the calls it makes
  // itself. If the Faaslet is gone, its EOF (next poll) fails the rest.
  releaseChildren(call);
  protocol::send(call.fd, Msg::Input, 0, 0, call.input.data(), call.input.size());
}

void Scheduler::ended(Zygote& z, const Message& m) {
  auto it = byPid_.find({&z, pid_t(m.b)});
  if (it == byPid_.end()) return;
  uint32_t id = it->second;
  // Reaped: the pid is no longer this Faaslet's.
  byPid_.erase(it);
  Call* call = find(id);
  if (!call) return;
  call->ended = m.a == 1 ? 1 : 0;
  if (call->eof) faasletGone(*call);
}

void Scheduler::serveZygote(Zygote& z) {
  Message m;
  if (!protocol::receive(z.control, m)) {
    // The zygote is gone: calls waiting for its word fail as they are.
    close(z.control);
    z.control = -1;
    z.error = "the zygote of " + z.spec.name + " is gone";
    z.initError = runtime::makeError(z.error);
    for (auto& [id, call] : calls_)
      if (call->zygote == &z && call->eof && isAlive(call->slot)) faasletGone(*call);
    return;
  }
  if (m.type == Msg::Ended) ended(z, m);
}

void Scheduler::expire(Clock::time_point now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    uint32_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    Call* c = find(id);
    if (!c) continue;
    c->deadline = kNever;
    if (c->queued) {
      admission_->dequeue(c->tree, c->id);
      c->queued = false;
      failRuns(*c, abi::TrapCode::Timeout, {});
      report(*c, "timed out before it could start (" + c->deadlineWhy + ")");
      finish(*c);
    } else if (c->remote && !c->done) {
      // Its host may still run it; whatever it answers later is ignored.
      failRuns(*c, abi::TrapCode::Timeout, {});
      report(*c, "timed out on another host (" + c->deadlineWhy + ")");
      finish(*c);
    } else if (isAlive(c->slot)) {
      // Its EOF, next poll, gives its slot back.
      if (c->pid > 0 && !c->eof) kill(c->pid, SIGKILL);
      if (!c->done) {
        failRuns(*c, abi::TrapCode::Timeout, {});
        report(*c, "timed out (" + c->deadlineWhy + ")");
        finish(*c);
      }
      // Launched but still waiting for its zygote's Ready: it has no
      // Faaslet, so no EOF or Ended will ever give its slot back.
      if (std::erase(c->zygote->pending, c->id)) faasletGone(*c);
    }
  }
}

bool Scheduler::pump(std::chrono::milliseconds maxWait, int wakeFd) {
  settle();
  sweep();
  endRetired();
  std::vector<pollfd> fds;
  std::vector<uint32_t> ids;
  for (uint32_t id : open_) {
    fds.push_back(pollfd{calls_.at(id)->fd, POLLIN, 0});
    ids.push_back(id);
  }
  // Zygotes that report their Faaslets' ends are served too (after the calls).
  std::vector<Zygote*> zygotes;
  for (auto& [name, z] : zygotes_) {
    if (!z->ready || !z->reportsEnds || z->control < 0) continue;
    fds.push_back(pollfd{z->control, POLLIN, 0});
    zygotes.push_back(z.get());
  }
  // Zygotes still initialising: their Ready or failure, and their deadline.
  std::vector<Zygote*> starting;
  Clock::time_point next = deadlines_.empty() ? kNever : deadlines_.begin()->first;
  for (auto& [name, z] : zygotes_) {
    if (z->ready || z->control < 0) continue;
    fds.push_back(pollfd{z->control, POLLIN, 0});
    starting.push_back(z.get());
    next = std::min(next, z->initDeadline);
  }
  if (fds.empty() && next == kNever && wakeFd < 0 && maxWait.count() < 0) return false;
  int waitMs = -1;
  if (next != kNever)
    waitMs = int(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count() + 1, 0,
        INT32_MAX));
  if (maxWait.count() >= 0)
    waitMs = waitMs < 0 ? int(std::min<int64_t>(maxWait.count(), INT32_MAX))
                        : int(std::min<int64_t>(waitMs, maxWait.count()));
  if (wakeFd >= 0) fds.push_back(pollfd{wakeFd, POLLIN, 0});
  int n = ::poll(fds.data(), fds.size(), waitMs);
  if (n > 0) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!fds[i].revents) continue;
      Call* call = find(ids[i]);
      if (call && call->fd == fds[i].fd) handle(*call);
    }
    for (size_t i = 0; i < zygotes.size(); ++i)
      if (fds[ids.size() + i].revents && zygotes[i]->control == fds[ids.size() + i].fd)
        serveZygote(*zygotes[i]);
    size_t firstStarting = ids.size() + zygotes.size();
    for (size_t i = 0; i < starting.size(); ++i)
      if (fds[firstStarting + i].revents && starting[i]->control == fds[firstStarting + i].fd)
        zygoteStarted(*starting[i]);
  }
  initTimeouts(Clock::now());
  expire(Clock::now());
  settle();
  sweep();
  return true;
}

const CallOutcome& Scheduler::wait(uint32_t id,
                                   const std::function<void(const CallResult&)>& onResult) {
  static const CallOutcome unknown{{}, "unknown call", runtime::makeError("unknown call")};
  Call* call = find(id);
  if (!call) return unknown;
  watched_ = id;
  onResult_ = &onResult;
  while (!call->done) {
    if (!pump() && !call->done) {
      // Nothing left that could finish it: a bug, not a hang.
      failRuns(*call, abi::TrapCode::HostError, "the scheduler has nothing left to wait for");
      finish(*call);
    }
    call = find(id);
  }
  watched_ = 0;
  onResult_ = nullptr;
  // Runs that ended without a Result (died, timed out, a limit), or before
  // this wait, are reported now.
  if (onResult)
    for (size_t i = call->reportedRuns; i < call->outcome.results.size(); ++i)
      onResult(call->outcome.results[i]);
  call->reportedRuns = call->outcome.results.size();
  return call->outcome;
}

pid_t Scheduler::faasletPid(uint32_t id) const {
  Call* call = find(id);
  return call ? call->pid : -1;
}

void Scheduler::release(uint32_t id) {
  Call* call = find(id);
  if (!call || !call->done) return;
  call->owned = false;
  dropOutputs(*call);
  graveyard_.push_back(id);
  sweep();
}

void Scheduler::remoteDone(uint32_t id, CallOutcome outcome) {
  Call* c = find(id);
  if (!c || !c->remote || c->done) return;
  uint64_t bytes = 0;
  for (const CallResult& r : outcome.results)
    bytes += r.output.size();
  if (std::string error = admission_->charge(c->tree, bytes, "output of " + formatBytes(bytes));
      !error.empty()) {
    outcome = CallOutcome{};
    c->outcome.results.clear();
    failRuns(*c, abi::TrapCode::HostError, error);
    report(*c, error);
  } else {
    c->outputBytes += bytes;
    c->outcome = std::move(outcome);
    if (c->outcome.results.empty() && !c->outcome.failedToStart())
      failRuns(*c, abi::TrapCode::HostError, "the call has no result");
  }
  if (!c->owned) dropOutputs(*c);
  finish(*c);
  settle();
}

Scheduler::Load Scheduler::load() const {
  Admission::Counts h = admission_->host();
  return Load{h.running, h.alive, h.queued, h.bytes};
}

} // namespace faasm::faaslet
