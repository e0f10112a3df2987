// The zygote process of one function and the Faaslets it forks. Restore is
// fork: the Proto-Faaslet's memory is a clean private mapping of the
// snapshot memfd, so the child shares every page until it writes one.
#include "faasm/faaslet/Scheduler.h"

#include "Protocol.h"

#include "faasm/isolation/Isolation.h"
#include "faasm/isolation/RawSyscall.h"
#include "faasm/state/LocalState.h"
#include "faasm/state/StateStore.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <string>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace faasm::faaslet {
namespace {

using protocol::kLostScheduler;
using protocol::Message;
using protocol::Msg;

// The chaining callbacks of a Faaslet: each is one request and one reply on
// the Faaslet's channel to the scheduler (an announced chain: two). A lost
// scheduler ends the Faaslet. Ids are the scheduler's numbering of this
// call's own chained calls (docs/Faaslets.md, "Call ids").
//
// Installed once, in the zygote after its initialisation, not in each
// Faaslet: building them after the fork wrote the call context's page, the
// state store's lock and its page, and ran code on five more pages, each a
// page fault on the restore's path. `channelSlot` is the zygote's slot for the
// channel of the Faaslet it forks next: each Faaslet reads its own from its
// copy of the zygote's memory. The zygote itself never calls them (no guest
// code runs in it after initialisation).
void installChaining(api::CallContext& call, const int* channelSlot) {
  auto reply = [channelSlot](Msg type) {
    const int channel = *channelSlot;
    Message m;
    if (!protocol::receive(channel, m) || m.type != type) _exit(kLostScheduler);
    return m;
  };
  // A Chain or ChainThis request: `head` (the callee's name, or nothing)
  // then the input inline, or, for a large input, announced first.
  auto request = [channelSlot, reply](Msg type, uint32_t a, std::string_view head,
                                      std::span<const uint8_t> input) -> uint32_t {
    const int channel = *channelSlot;
    std::vector<uint8_t> payload(head.begin(), head.end());
    if (input.size() <= protocol::kMaxInlineChainInput) {
      payload.insert(payload.end(), input.begin(), input.end());
      if (!protocol::send(channel, type, a, 0, payload.data(), payload.size()))
        _exit(kLostScheduler);
      return reply(Msg::ChainReply).a;
    }
    // A large input is announced: the scheduler may refuse it (its budget)
    // before any of it is sent, and takes it straight from guest memory.
    uint64_t size = input.size();
    const uint8_t* sizeBytes = reinterpret_cast<const uint8_t*>(&size);
    payload.insert(payload.end(), sizeBytes, sizeBytes + sizeof size);
    if (!protocol::send(channel, type, a, 1, payload.data(), payload.size())) _exit(kLostScheduler);
    Message m;
    if (!protocol::receive(channel, m)) _exit(kLostScheduler);
    if (m.type == Msg::ChainReply) return m.a;
    if (m.type != Msg::ChainProceed ||
        !protocol::send(channel, Msg::ChainInput, 0, 0, input.data(), input.size()))
      _exit(kLostScheduler);
    return reply(Msg::ChainReply).a;
  };
  call.chain = [request](std::string_view name, std::span<const uint8_t> input) -> uint32_t {
    if (name.size() > protocol::kMaxFunctionName) return 0; // no function has such a name
    return request(Msg::Chain, uint32_t(name.size()), name, input);
  };
  call.chainThis = [request](uint32_t entry, std::span<const uint8_t> input) -> uint32_t {
    return request(Msg::ChainThis, entry, {}, input);
  };
  call.await = [channelSlot, reply](uint32_t id) -> int32_t {
    if (!protocol::send(*channelSlot, Msg::Await, id, 0)) _exit(kLostScheduler);
    return reply(Msg::AwaitReply).b;
  };
  call.getOutput = [channelSlot, reply](uint32_t id, std::span<uint8_t> buffer) -> int32_t {
    int32_t wanted = int32_t(std::min<size_t>(buffer.size(), INT32_MAX));
    if (!protocol::send(*channelSlot, Msg::GetOutput, id, wanted)) _exit(kLostScheduler);
    Message m = reply(Msg::OutputReply);
    if (m.a != 1) return -1;
    size_t n = std::min(buffer.size(), m.payload.size());
    if (n) std::memcpy(buffer.data(), m.payload.data(), n);
    return m.b;
  };
  // The Faaslet may not open sockets: its scheduler opens its connection to
  // the global state tier (if there is one) and passes it over the channel.
  state::store().setConnectionSource([channelSlot](std::string& error) -> int {
    const int channel = *channelSlot;
    if (!protocol::send(channel, Msg::GlobalConnect, 0, 0)) _exit(kLostScheduler);
    Message m;
    int fd = -1;
    if (!protocol::receive(channel, m, &fd) || m.type != Msg::GlobalConnectReply)
      _exit(kLostScheduler);
    if (m.b == 0 && fd >= 0) return fd;
    if (fd >= 0) ::close(fd);
    error.assign(m.payload.begin(), m.payload.end());
    return -1;
  });
}

// Each run starts when its Input arrives; a warm Faaslet resets right after
// sending a run's Result, so the reset is off the next dispatch's path. The
// Spawn request may carry the first run's input (spawn.b = 1), followed by
// the entry every run enters at: the Faaslet has both in memory from the
// fork on.
[[noreturn]] void runFaaslet(ProtoFaaslet& proto, int channel, Message& spawn) {
  const uint32_t runs = spawn.a;
  uint32_t entry = 0;
  if (spawn.payload.size() < sizeof entry) _exit(kLostScheduler);
  std::memcpy(&entry, spawn.payload.data() + spawn.payload.size() - sizeof entry, sizeof entry);
  spawn.payload.resize(spawn.payload.size() - sizeof entry);
  for (uint32_t i = 0; i < runs; ++i) {
    Message input;
    if (i == 0 && spawn.b == 1)
      input.payload = std::move(spawn.payload);
    else if (!protocol::receive(channel, input) || input.type != Msg::Input)
      _exit(kLostScheduler);
    CallResult r = proto.call(std::move(input.payload), entry);
    if (!r.backtrace.empty() &&
        !protocol::send(channel, Msg::Backtrace, 0, 0, r.backtrace.data(), r.backtrace.size()))
      _exit(kLostScheduler);
    if (!protocol::send(channel, Msg::Result, uint32_t(r.trap), r.returnCode, r.output.data(),
                        r.output.size()))
      _exit(kLostScheduler);
    if (i + 1 == runs) break;
    if (runtime::Error e = proto.reset(); !e.message.empty()) {
      std::fprintf(stderr, "faasm-run: %s: %s\n", proto.spec().file.c_str(), e.message.c_str());
      _exit(kLostScheduler);
    }
  }
  _exit(0);
}

// The CPUs the zygote may run on, which its Faaslets get back after fork.
struct ZygoteCpus {
  cpu_set_t allowed{};
  bool usable = false; // more than one CPU, and the set could be read
};

// Restricts the zygote to the CPU it runs on, so that the next fork's child
// is queued there; false if it could not (nothing to undo then).
bool pinToThisCpu(const ZygoteCpus& cpus) {
  if (!cpus.usable) return false;
  int cpu = sched_getcpu();
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &cpus.allowed)) return false;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return sched_setaffinity(0, sizeof one, &one) == 0;
}

} // namespace

namespace {

// The cgroups of a zygote's Faaslets: one slot per Faaslet alive at once,
// made by the zygote's cgroup keeper when first needed and reused (entered
// by the next Faaslet, the keeper rearms it) instead of a mkdir/rmdir per
// call. The zygote holds each slot's cgroup.procs descriptors only; the
// keeper removes the groups when the zygote ends.
class CgroupSlots {
public:
  explicit CgroupSlots(isolation::CgroupKeeper& keeper) : keeper_(keeper) {}

  // A free slot for the next Faaslet (its descriptors may be empty if the
  // host permits no cgroup: the warning was printed).
  size_t acquire() {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (!busy_[i]) return i;
    slots_.push_back(keeper_.create(uint32_t(slots_.size() + 1)));
    busy_.push_back(false);
    return slots_.size() - 1;
  }
  const std::vector<int>& get(size_t slot) const { return slots_[slot]; }
  void assign(size_t slot, pid_t pid) {
    busy_[slot] = true;
    owner_[pid] = slot;
  }
  // After `pid` was reaped: whether its memory limit killed it; the slot is
  // free again.
  bool release(pid_t pid) {
    auto it = owner_.find(pid);
    if (it == owner_.end()) return false;
    size_t slot = it->second;
    owner_.erase(it);
    busy_[slot] = false;
    return !slots_[slot].empty() && keeper_.release(uint32_t(slot + 1));
  }
  // The zygote is ending: `pid` was reaped, no verdict needed.
  void forget(pid_t pid) { owner_.erase(pid); }
  bool anyAlive() const { return !owner_.empty(); }
  // In a new Faaslet: the other slots' descriptors are not its business (it
  // could move itself into another Faaslet's group).
  void closeInChild(size_t except) const {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (i != except)
        for (int fd : slots_[i])
          isolation::rawSyscall(SYS_close, fd);
  }

private:
  isolation::CgroupKeeper& keeper_;
  std::vector<std::vector<int>> slots_;
  std::vector<bool> busy_;
  std::map<pid_t, size_t> owner_;
};

// Reaps every ended Faaslet, frees its slot and tells the scheduler how it
// ended (Ended: a = 1 if its memory limit killed it, b = pid).
void reapFaaslets(CgroupSlots& slots, int control) {
  for (pid_t pid; (pid = waitpid(-1, nullptr, WNOHANG)) > 0;) {
    bool memoryLimit = slots.release(pid);
    protocol::send(control, Msg::Ended, memoryLimit ? 1 : 0, int32_t(pid));
  }
}

} // namespace

namespace {

// One zygote process: its Proto-Faaslet, the scheduler's control socket and
// what it needs to fork and reap Faaslets. Phases, in order: startKeeper,
// prepareReaping, initialise (confined before any guest code: the
// initialisation is a call), serve (receive a request, spawn a Faaslet,
// repeat).
class ZygoteProcess {
public:
  ZygoteProcess(int control, std::shared_ptr<const isolation::IsolationPlan> isolation)
      : control_(control), isolation_(std::move(isolation)), pid_(getpid()), scheduler_(getppid()) {
  }

  // With limits: the cgroup keeper (forked now, while the zygote still may
  // make cgroups), and the zygote's own group, entered before initialising
  // so that initialisation is bound by the call's limits. If the zygote dies
  // there of its memory limit, the keeper says so on the control socket.
  void startKeeper() {
    if (!isolation_ || !isolation_->limits().needsCgroup()) return;
    const uint64_t limitMiB = isolation_->limits().memoryBytes >> 20;
    const int control = control_;
    keeper_ = isolation::CgroupKeeper::start(*isolation_, control_, [control, limitMiB](bool hit) {
      if (!hit) return;
      std::string why =
          "initialisation reached the memory limit (" + std::to_string(limitMiB) + " MiB)";
      protocol::send(control, Msg::InitFailed, 0, 0, why.data(), why.size());
    });
    if (!keeper_) initFailed("cannot start the cgroup keeper");
    for (int fd : keeper_->create(0)) {
      if (write(fd, "0", 1) != 1)
        isolation::warnOnce("cgroup limits of initialisation",
                            std::string("cannot enter the group: ") + std::strerror(errno));
      close(fd);
    }
  }

  // Faaslets with cgroups: the zygote reaps them (through a signalfd, so the
  // serve loop wakes for an ended Faaslet as for a request), reuses their
  // slots and reports each end, so that a Faaslet killed by its memory limit
  // is reported as such. Otherwise Faaslets report over their channels and
  // the zygote reaps them without waiting, after each spawn: not left to the
  // kernel (SIGCHLD ignored), so that a Faaslet's pid stays its own until the
  // zygote has given it back its CPU set, even if it has ended by then.
  void prepareReaping() {
    reaps_ = keeper_ != nullptr;
    if (reaps_) {
      slots_ = std::make_unique<CgroupSlots>(*keeper_);
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      sigprocmask(SIG_BLOCK, &chld, nullptr);
      childEvents_ = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
      if (childEvents_ < 0) reaps_ = false;
    }
    if (!reaps_) std::signal(SIGCHLD, SIG_DFL);
  }

  // Makes the Proto-Faaslet and reports Ready, or InitFailed and exits.
  void initialise(const FunctionSpec& spec) {
    cpus_.usable = sched_getaffinity(0, sizeof cpus_.allowed, &cpus_.allowed) == 0 &&
                   CPU_COUNT(&cpus_.allowed) > 1;
    // A chained function is granted the network as the plan grants it.
    FunctionSpec granted = spec;
    granted.network = spec.network || (isolation_ && isolation_->limits().network);
    auto proto = ProtoFaaslet::create(granted, [&] { return confine(granted); });
    if (!proto) {
      const runtime::Error& e = proto.error();
      // The keeper need not report: this message says why.
      if (keeper_) keeper_->markInitialised();
      std::string payload = e.message;
      if (!e.backtrace.empty()) payload += '\0' + protocol::boundedBacktrace(e.backtrace);
      protocol::send(control_, Msg::InitFailed, uint32_t(e.trap), e.exitCode, payload.data(),
                     payload.size());
      _exit(0);
    }
    proto_ = std::move(proto.value());
    // After the initialisation (its own connection source says the global
    // tier is out of its reach), before any Faaslet.
    installChaining(proto_->callContext(), &faasletChannel_);
    std::fflush(nullptr);
    if (keeper_) keeper_->markInitialised();
    if (!protocol::send(control_, Msg::Ready, reaps_ ? 1 : 0, 0)) _exit(0);
  }

  [[noreturn]] void serve() {
    for (;;) {
      Message m;
      int channel = -1;
      if (!nextRequest(m, channel)) {
        // The scheduler is done: wait for our Faaslets, then the keeper
        // removes the slots.
        if (slots_) {
          while (slots_->anyAlive()) {
            pid_t pid = waitpid(-1, nullptr, 0);
            if (pid < 0) break;
            slots_->forget(pid);
          }
        } else {
          while (waitpid(-1, nullptr, 0) > 0) {
          }
        }
        if (keeper_) {
          pid_t keeper = keeper_->pid();
          keeper_.reset();
          waitpid(keeper, nullptr, 0);
        }
        _exit(0);
      }
      if (m.type != Msg::Spawn || channel < 0) {
        if (channel >= 0) close(channel);
        continue;
      }
      spawn(m, channel);
    }
  }

private:
  [[noreturn]] void initFailed(const std::string& why) {
    protocol::send(control_, Msg::InitFailed, 0, 0, why.data(), why.size());
    _exit(0);
  }

  // Least privilege before the first instruction of guest code: its
  // preopens and the state tier's directory are all it may reach. Every
  // Faaslet inherits it.
  runtime::Error confine(const FunctionSpec& spec) {
    if (!isolation_) return {};
    // The user's state directory, made and handed to the Faaslet uid while
    // this process still may: the confined Faaslets reach it through the
    // descriptor opened here.
    if (runtime::Error e = prepareStateOf(spec, isolation_->limits()); !e.message.empty()) return e;
    isolation::ProcessConfinement what = confinementOf(spec);
    // The plan is this process's own copy since fork.
    if (!const_cast<isolation::IsolationPlan&>(*isolation_).confineZygote(what))
      return runtime::makeError("cannot confine the zygote (see the warning above)");
    // A change of uid cleared the parent-death signal.
    protocol::dieWithParent(scheduler_);
    // The zygote's filter lets it set only its own CPU set: the scheduler
    // gives its Faaslets theirs back (spawn).
    schedulerRestoresCpus_ = isolation_->zygoteConfined();
    return {};
  }

  // Waits for the scheduler's next message (reaping ended Faaslets while
  // waiting, if the zygote reaps). False when the scheduler has gone.
  bool nextRequest(Message& m, int& channel) {
    while (reaps_) {
      pollfd fds[2] = {{control_, POLLIN, 0}, {childEvents_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) {
        signalfd_siginfo info;
        while (read(childEvents_, &info, sizeof info) == ssize_t(sizeof info)) {
        }
        reapFaaslets(*slots_, control_);
      }
      if (fds[0].revents) break;
    }
    return protocol::receive(control_, m, &channel);
  }

  // Forks one Faaslet for a Spawn request and reports Spawned. The restore
  // path: everything between the clock reading and the child's guest entry.
  void spawn(Message& m, int channel) {
    // Faaslets that have ended since the last request (their status is not
    // needed: each reported over its channel). Reaped only now, when the
    // scheduler has handled their Spawned, so that a pid it acts on is still
    // the Faaslet's. Those that end while the zygote waits stay zombies
    // until then, or until the zygote exits.
    if (!reaps_)
      while (waitpid(-1, nullptr, WNOHANG) > 0) {
      }
    size_t slot = 0;
    if (slots_) slot = slots_->acquire();
    // Restore starts here: Spawned reports this clock reading, so the time
    // from fork to the guest's entry can be accounted.
    timespec forkAt{};
    clock_gettime(CLOCK_MONOTONIC, &forkAt);
    // The Faaslet is born on this CPU, which the zygote leaves at once
    // (sched_yield, then it waits for the next request): left to itself the
    // kernel may queue it on a CPU busy with other work for a whole time
    // slice. The zygote gives it the CPU set back when it runs again (by
    // then the Faaslet has usually reached the guest), not the Faaslet: a
    // system call and its code pages fewer on the restore's path. A
    // confined zygote may set only its own CPU set (its filter is its
    // Faaslets', which must not touch other processes'): the scheduler then
    // does it when Spawned arrives (Spawned.a = 1), also off the Faaslet's
    // path.
    bool pinned = pinToThisCpu(cpus_);
    faasletChannel_ = channel;
    // _Fork, not fork: the zygote has one thread, so no lock can be held by
    // another thread at this point, and fork's extra work (atfork handlers,
    // taking and re-initialising malloc's, stdio's and the dynamic loader's
    // locks on both sides) only adds page faults to the restore: each lock
    // it writes after the fork is a copy-on-write fault in the child and in
    // the zygote. Nothing in this project registers an atfork handler.
    pid_t pid = _Fork();
    if (pid == 0) becomeFaaslet(m, channel, slot);
    if (pid > 0 && slots_) slots_->assign(slot, pid);
    // Let the new Faaslet run first if it was queued on this CPU: what the
    // zygote does next (Spawned wakes the scheduler) can wait, the restore
    // cannot.
    if (pid > 0) sched_yield();
    if (pinned) {
      // The pid is still the Faaslet's: only the zygote reaps it, and not
      // before this (ESRCH, or a zombie, if it has ended: nothing to do).
      if (pid > 0 && !schedulerRestoresCpus_)
        sched_setaffinity(pid, sizeof cpus_.allowed, &cpus_.allowed);
      sched_setaffinity(0, sizeof cpus_.allowed, &cpus_.allowed);
    }
    // The scheduler enforces the wall-clock timeout: it needs the pid.
    uint64_t forkNs = uint64_t(forkAt.tv_sec) * 1000000000u + uint64_t(forkAt.tv_nsec);
    protocol::send(control_, Msg::Spawned, pinned && schedulerRestoresCpus_ ? 1 : 0,
                   pid > 0 ? int32_t(pid) : -1, &forkNs, sizeof forkNs);
    if (pid < 0) protocol::send(channel, Msg::Result, uint32_t(abi::TrapCode::HostError), 0);
    close(channel);
    // The input that came with the request is the Faaslet's alone: none of
    // it stays in the zygote's heap, which later Faaslets get a copy of.
    if (!m.payload.empty()) explicit_bzero(m.payload.data(), m.payload.size());
  }

  // In the child of spawn's fork: nothing here but what isolation needs.
  // (A Faaslet never forks: SIGCHLD's disposition and mask are moot.) Its
  // system calls are raw, as in dieWithParent and applyInFaaslet: no libc
  // wrapper's code page is faulted in on the restore's path
  // (isolation/RawSyscall.h).
  [[noreturn]] void becomeFaaslet(Message& spawnRequest, int channel, size_t slot) {
    protocol::dieWithParent(pid_);
    // The zygote's own descriptors: the scheduler's control socket, the
    // keeper's, other Faaslets' cgroups.
    isolation::rawSyscall(SYS_close, control_);
    if (childEvents_ >= 0) isolation::rawSyscall(SYS_close, childEvents_);
    if (keeper_) isolation::rawSyscall(SYS_close, keeper_->socket());
    if (slots_) slots_->closeInChild(slot);
    // Per Faaslet (loader/isolation): its cgroup slot, no fork. The rest
    // (uid, capabilities, namespaces, Landlock, seccomp) it inherited.
    if (isolation_) {
      if (slots_)
        isolation_->applyInFaaslet(slots_->get(slot).data(), slots_->get(slot).size());
      else
        isolation_->applyInFaaslet(nullptr, 0);
    }
    runFaaslet(*proto_, channel, spawnRequest);
  }

  const int control_;
  const std::shared_ptr<const isolation::IsolationPlan> isolation_;
  const pid_t pid_;
  const pid_t scheduler_;
  bool reaps_ = false;
  std::unique_ptr<isolation::CgroupKeeper> keeper_;
  std::unique_ptr<CgroupSlots> slots_;
  int childEvents_ = -1;
  // The channel of the Faaslet being forked (installChaining).
  int faasletChannel_ = -1;
  std::unique_ptr<ProtoFaaslet> proto_;
  ZygoteCpus cpus_;
  bool schedulerRestoresCpus_ = false;
};

} // namespace

[[noreturn]] void zygoteMain(const FunctionSpec& spec, int control,
                             std::shared_ptr<const isolation::IsolationPlan> isolation) {
  std::signal(SIGPIPE, SIG_IGN);
  // Nothing faasm-run inherited or the scheduler holds reaches guest code:
  // stdio and the control socket only, before anything else is opened.
  if (isolation) isolation::closeInheritedDescriptors({control});
  ZygoteProcess zygote(control, std::move(isolation));
  zygote.startKeeper();
  zygote.prepareReaping();
  zygote.initialise(spec);
  zygote.serve();
}

} // namespace faasm::faaslet
