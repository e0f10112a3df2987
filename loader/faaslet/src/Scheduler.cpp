#include "faasm/faaslet/Scheduler.h"

#include "Protocol.h"

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

namespace faasm::faaslet {

using protocol::Message;
using protocol::Msg;

struct Scheduler::Zygote {
  FunctionSpec spec;
  pid_t pid = -1;
  int control = -1; // scheduler's end
  bool started = false;
  std::string error; // set if the Proto-Faaslet could not be made
  runtime::Error initError;
  bool reportsEnds = false; // sends Ended for each Faaslet (it reaps them)
  // Initialisation runs while the scheduler serves other calls: calls of the
  // function wait in `pending` until Ready (or fail with its error).
  bool ready = false;
  std::vector<uint32_t> pending;
  std::chrono::steady_clock::time_point initDeadline = std::chrono::steady_clock::time_point::max();
};

struct Scheduler::Call {
  uint32_t id = 0;
  std::string function;
  int fd = -1; // scheduler's end of the Faaslet's channel
  uint32_t runs = 1;
  bool done = false;
  CallOutcome outcome;
  std::vector<int> awaiters;       // channels of Faaslets blocked in faasmAwaitCall on this call
  pid_t pid = -1;                  // the Faaslet (not our child: the zygote's)
  std::vector<uint8_t> input;      // kept for the runs after the first (warm)
  std::vector<uint8_t> startInput; // while waiting for its zygote's initialisation
  Zygote* zygote = nullptr;
  bool channelClosed = false; // EOF before every run reported: waiting for Ended
  int ended = -1;             // from Ended: 1 = killed by its memory limit, 0 = other
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

Scheduler::Scheduler(SchedulerOptions options) : options_(std::move(options)) {
  std::signal(SIGPIPE, SIG_IGN);
}

Scheduler::~Scheduler() {
  for (auto& [id, call] : calls_)
    if (call->fd >= 0) close(call->fd);
  for (auto& [name, z] : zygotes_) {
    if (z->control >= 0) close(z->control); // the zygote exits on EOF
    // One still initialising may never look at its socket.
    if (z->pid > 0 && !z->ready) kill(z->pid, SIGKILL);
    if (z->pid > 0) waitpid(z->pid, nullptr, 0);
  }
}

void Scheduler::addFunction(FunctionSpec spec) {
  std::string name = spec.name;
  specs_[name] = std::move(spec);
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
  for (const auto& [id, call] : calls_)
    if (call->fd >= 0) fds.push_back(call->fd);
  for (const auto& [name, z] : zygotes_)
    if (z->control >= 0) fds.push_back(z->control);
  return fds;
}

Scheduler::Zygote* Scheduler::zygoteFor(const std::string& function) {
  if (auto it = zygotes_.find(function); it != zygotes_.end()) return it->second.get();
  FunctionSpec spec;
  if (auto it = specs_.find(function); it != specs_.end()) {
    spec = it->second;
  } else {
    // A function name is one path component of the function table.
    if (options_.functionsDir.empty() || function.empty() || function == "." || function == ".." ||
        function.find('/') != std::string::npos || function.find('\0') != std::string::npos)
      return nullptr;
    spec.user = options_.user;
    spec.name = function;
    spec.file = options_.functionsDir + "/" + function + ".so";
    spec.env = options_.env;
    spec.dirs = options_.dirs;
    struct stat st{};
    if (stat(spec.file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return nullptr;
  }
  auto z = std::make_unique<Zygote>();
  z->spec = std::move(spec);
  Zygote* raw = z.get();
  zygotes_[function] = std::move(z);
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
  if (options_.timeout.count() > 0)
    z.initDeadline = std::chrono::steady_clock::now() + options_.timeout;
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
    z.initDeadline = std::chrono::steady_clock::time_point::max();
    std::vector<uint32_t> pending = std::move(z.pending);
    z.pending.clear();
    for (uint32_t id : pending)
      if (auto it = calls_.find(id); it != calls_.end() && !it->second->done)
        dispatch(*it->second, std::move(it->second->startInput));
    return;
  }
  runtime::Error e;
  if (m.type == Msg::InitFailed) {
    e.message.assign(m.payload.begin(), m.payload.end());
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
  z.initDeadline = std::chrono::steady_clock::time_point::max();
  std::vector<uint32_t> pending = std::move(z.pending);
  z.pending.clear();
  for (uint32_t id : pending) {
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second->done) continue;
    it->second->outcome.error = z.error;
    it->second->outcome.initError = z.initError;
    finish(*it->second);
  }
}

void Scheduler::initTimeouts(std::chrono::steady_clock::time_point now) {
  for (auto& [name, z] : zygotes_) {
    if (z->ready || z->control < 0 || now < z->initDeadline) continue;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", double(options_.timeout.count()) / 1000.0);
    initFailed(*z,
               runtime::makeError(std::string("initialisation timed out after ") + seconds + " s"));
  }
}

uint32_t Scheduler::start(const std::string& function, std::vector<uint8_t> input,
                          uint32_t repeat) {
  Zygote* z = zygoteFor(function);
  if (!z) return 0;
  auto call = std::make_unique<Call>();
  call->id = nextId_++;
  call->zygote = z;
  call->function = function;
  call->runs = repeat ? repeat : 1;
  Call& c = *call;
  calls_[c.id] = std::move(call);

  if (!z->error.empty()) {
    c.outcome.error = z->error;
    c.outcome.initError = z->initError;
    c.done = true;
    return c.id;
  }
  if (!z->ready) {
    c.startInput = std::move(input);
    z->pending.push_back(c.id);
    return c.id;
  }
  dispatch(c, std::move(input));
  return c.id;
}

void Scheduler::dispatch(Call& c, std::vector<uint8_t> input) {
  Zygote* z = c.zygote;
  const std::string& function = c.function;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    c.outcome.error = std::string("cannot create a socketpair: ") + std::strerror(errno);
    c.outcome.initError = runtime::makeError(c.outcome.error);
    finish(c);
    return;
  }
  // A small input goes with the Spawn request: the Faaslet has it in memory
  // from the fork on and receives nothing before its call. A larger one goes
  // on the channel before the Spawned round trip, so the Faaslet finds it
  // there as soon as it is forked. A warm call keeps it for the next runs.
  bool carried = input.size() <= protocol::kMaxSpawnInput;
  bool ok = protocol::send(z->control, Msg::Spawn, c.runs, carried ? 1 : 0,
                           carried ? input.data() : nullptr, carried ? input.size() : 0, sv[1]);
  close(sv[1]);
  c.fd = sv[0];
  ok = ok && (carried || protocol::send(c.fd, Msg::Input, 0, 0, input.data(), input.size()));
  if (c.runs > 1) c.input = std::move(input);
  Message spawned;
  while (ok && (ok = protocol::receive(z->control, spawned)) && spawned.type == Msg::Ended)
    ended(*z, spawned);
  ok = ok && spawned.type == Msg::Spawned;
  if (ok) {
    c.pid = spawned.b;
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
    if (options_.timeout.count() > 0)
      c.deadline = std::chrono::steady_clock::now() + options_.timeout * c.runs;
  }
  if (!ok) {
    c.outcome.error = "the zygote of " + function + " is gone";
    c.outcome.initError = runtime::makeError(c.outcome.error);
    finish(c);
  }
}

void Scheduler::finish(Call& call) {
  call.done = true;
  if (call.fd >= 0) {
    close(call.fd);
    call.fd = -1;
  }
  int32_t rc = returnCode(call.outcome);
  for (int fd : call.awaiters)
    protocol::send(fd, Msg::AwaitReply, 0, rc);
  call.awaiters.clear();
}

void Scheduler::handle(Call& call) {
  Message m;
  if (!protocol::receive(call.fd, m)) {
    // The Faaslet died before reporting every run (a signal, a kill by the
    // isolation layer): the missing runs count as traps. If its zygote
    // reports how it ended (memory limit or not), wait for that first.
    close(call.fd);
    call.fd = -1;
    call.channelClosed = true;
    if (call.ended >= 0 || !call.zygote || !call.zygote->reportsEnds || call.pid <= 0 ||
        call.zygote->control < 0)
      failDeadRuns(call);
    return;
  }
  switch (m.type) {
  case Msg::Chain: {
    if (m.a > m.payload.size()) {
      protocol::send(call.fd, Msg::ChainReply, 0, 0);
      break;
    }
    std::string name(m.payload.begin(), m.payload.begin() + m.a);
    std::vector<uint8_t> input(m.payload.begin() + m.a, m.payload.end());
    uint32_t id = start(name, std::move(input));
    protocol::send(call.fd, Msg::ChainReply, id, 0);
    break;
  }
  case Msg::Await: {
    auto it = calls_.find(m.a);
    if (it == calls_.end() || it->first == call.id) {
      protocol::send(call.fd, Msg::AwaitReply, 0, -1);
    } else if (it->second->done) {
      protocol::send(call.fd, Msg::AwaitReply, 0, returnCode(it->second->outcome));
    } else {
      it->second->awaiters.push_back(call.fd);
    }
    break;
  }
  case Msg::GetOutput: {
    auto it = calls_.find(m.a);
    if (it == calls_.end() || !it->second->done || it->second->outcome.results.empty()) {
      protocol::send(call.fd, Msg::OutputReply, 0, 0);
    } else {
      const std::vector<uint8_t>& out = it->second->outcome.results.back().output;
      protocol::send(call.fd, Msg::OutputReply, 1, 0, out.data(), out.size());
    }
    break;
  }
  case Msg::Result: {
    CallResult r;
    r.trap = abi::TrapCode(m.a);
    r.returnCode = m.b;
    r.output = std::move(m.payload);
    call.outcome.results.push_back(std::move(r));
    if (call.id == watched_ && onResult_ && *onResult_) (*onResult_)(call.outcome.results.back());
    if (call.outcome.results.size() >= call.runs) {
      finish(call);
    } else {
      // The next run of a warm call. If the Faaslet is gone, its EOF (next
      // poll) fails the remaining runs.
      protocol::send(call.fd, Msg::Input, 0, 0, call.input.data(), call.input.size());
    }
    break;
  }
  default: break; // ignore what a Faaslet has no business sending
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
  finish(call);
}

void Scheduler::ended(Zygote& z, const Message& m) {
  for (auto& [id, call] : calls_) {
    if (call->zygote != &z || call->pid != m.b || call->done) continue;
    call->ended = m.a == 1 ? 1 : 0;
    if (call->channelClosed) failDeadRuns(*call);
    return;
  }
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
      if (call->zygote == &z && call->channelClosed && !call->done) failDeadRuns(*call);
    return;
  }
  if (m.type == Msg::Ended) ended(z, m);
}

void Scheduler::pump() {
  std::vector<pollfd> fds;
  std::vector<uint32_t> ids;
  bool waiting = false; // for a call that needs its zygote's word
  for (const auto& [id, call] : calls_) {
    if (call->done) continue;
    waiting = true;
    if (call->fd < 0) continue;
    fds.push_back(pollfd{call->fd, POLLIN, 0});
    ids.push_back(id);
  }
  if (!waiting) return;
  // Zygotes that report their Faaslets' ends are served too (after the calls).
  std::vector<Zygote*> zygotes;
  for (auto& [name, z] : zygotes_) {
    if (!z->reportsEnds || z->control < 0) continue;
    fds.push_back(pollfd{z->control, POLLIN, 0});
    zygotes.push_back(z.get());
  }
  // Zygotes still initialising: their Ready or failure, and their deadline.
  std::vector<Zygote*> starting;
  auto next = std::chrono::steady_clock::time_point::max();
  for (auto& [name, z] : zygotes_) {
    if (z->ready || z->control < 0) continue;
    fds.push_back(pollfd{z->control, POLLIN, 0});
    starting.push_back(z.get());
    next = std::min(next, z->initDeadline);
  }
  if (fds.empty()) return;
  auto now = std::chrono::steady_clock::now();
  for (uint32_t id : ids)
    next = std::min(next, calls_[id]->deadline);
  int waitMs = -1;
  if (next != std::chrono::steady_clock::time_point::max())
    waitMs = int(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));
  int n = poll(fds.data(), fds.size(), waitMs);
  if (n < 0) return; // EINTR: the caller loops
  size_t firstStarting = fds.size() - starting.size();
  for (size_t i = 0; i < starting.size(); ++i)
    if (fds[firstStarting + i].revents && starting[i]->control == fds[firstStarting + i].fd)
      zygoteStarted(*starting[i]);
  initTimeouts(std::chrono::steady_clock::now());
  if (n == 0) {
    now = std::chrono::steady_clock::now();
    for (uint32_t id : ids) {
      Call& call = *calls_[id];
      if (call.done || now < call.deadline) continue;
      if (call.pid > 0) kill(call.pid, SIGKILL);
      while (call.outcome.results.size() < call.runs) {
        CallResult r;
        r.trap = abi::TrapCode::Timeout;
        call.outcome.results.push_back(std::move(r));
      }
      finish(call);
    }
    return;
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!fds[i].revents) continue;
    auto it = calls_.find(ids[i]);
    if (it != calls_.end() && !it->second->done && it->second->fd == fds[i].fd) handle(*it->second);
  }
  for (size_t i = 0; i < zygotes.size(); ++i)
    if (fds[ids.size() + i].revents && zygotes[i]->control == fds[ids.size() + i].fd)
      serveZygote(*zygotes[i]);
}

const CallOutcome& Scheduler::wait(uint32_t id,
                                   const std::function<void(const CallResult&)>& onResult) {
  auto it = calls_.find(id);
  static const CallOutcome unknown{{}, "unknown call", runtime::makeError("unknown call")};
  if (it == calls_.end()) return unknown;
  Call& call = *it->second;
  watched_ = id;
  onResult_ = &onResult;
  size_t reported = call.outcome.results.size();
  while (!call.done)
    pump();
  watched_ = 0;
  onResult_ = nullptr;
  // Runs that ended without a Result (died, timed out) are reported now.
  if (onResult)
    for (size_t i = reported; i < call.outcome.results.size(); ++i)
      if (call.outcome.results[i].died || call.outcome.results[i].trap == abi::TrapCode::Timeout)
        onResult(call.outcome.results[i]);
  return call.outcome;
}

pid_t Scheduler::faasletPid(uint32_t id) const {
  auto it = calls_.find(id);
  return it == calls_.end() ? -1 : it->second->pid;
}

void Scheduler::release(uint32_t id) {
  auto it = calls_.find(id);
  if (it == calls_.end() || !it->second->done) return;
  calls_.erase(it);
}

} // namespace faasm::faaslet
