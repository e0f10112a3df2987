// The zygote process of one function and the Faaslets it forks. Restore is
// fork: the Proto-Faaslet's memory is a clean private mapping of the
// snapshot memfd, so the child shares every page until it writes one.
#include "faasm/loader/Scheduler.h"

#include "Protocol.h"

#ifdef FAASM_HAVE_ISOLATION
#include "faasm/loader/Isolation.h"
#endif

#include <csignal>
#include <map>
#include <memory>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

namespace faasm::loader {
namespace {

using protocol::Message;
using protocol::Msg;
using protocol::kLostScheduler;

// The chaining callbacks of a Faaslet: each is one request and one reply on
// the Faaslet's channel to the scheduler. A lost scheduler ends the Faaslet.
void installChaining(CallContext& call, int channel) {
  call.chain = [channel](std::string_view name, std::span<const uint8_t> input) -> uint32_t {
    std::vector<uint8_t> payload(name.begin(), name.end());
    payload.insert(payload.end(), input.begin(), input.end());
    Message reply;
    if (!protocol::send(channel, Msg::Chain, uint32_t(name.size()), 0, payload.data(),
                        payload.size()) ||
        !protocol::receive(channel, reply) || reply.type != Msg::ChainReply)
      _exit(kLostScheduler);
    return reply.a;
  };
  call.await = [channel](uint32_t id) -> int32_t {
    Message reply;
    if (!protocol::send(channel, Msg::Await, id, 0) || !protocol::receive(channel, reply) ||
        reply.type != Msg::AwaitReply)
      _exit(kLostScheduler);
    return reply.b;
  };
  call.getOutput = [channel](uint32_t id) -> std::optional<std::vector<uint8_t>> {
    Message reply;
    if (!protocol::send(channel, Msg::GetOutput, id, 0) || !protocol::receive(channel, reply) ||
        reply.type != Msg::OutputReply)
      _exit(kLostScheduler);
    if (reply.a != 1) return std::nullopt;
    return std::move(reply.payload);
  };
}

// Each run starts when its Input arrives; a warm Faaslet resets right after
// sending a run's Result, so the reset is off the next dispatch's path.
[[noreturn]] void runFaaslet(ProtoFaaslet& proto, int channel, uint32_t runs) {
  installChaining(proto.callContext(), channel);
  for (uint32_t i = 0; i < runs; ++i) {
    Message input;
    if (!protocol::receive(channel, input) || input.type != Msg::Input) _exit(kLostScheduler);
    CallResult r = proto.call(std::move(input.payload));
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

} // namespace

[[noreturn]] void zygoteMain(const FunctionSpec& spec, int control,
                             std::shared_ptr<const IsolationPlan> isolation) {
  std::signal(SIGPIPE, SIG_IGN);
#ifdef FAASM_HAVE_ISOLATION
  // One cgroup per Faaslet, removed once the zygote has reaped it.
  bool perFaasletCgroup = isolation && isolation->limits().needsCgroup();
  std::map<pid_t, std::unique_ptr<Cgroup>> cgroups;
  uint64_t spawned = 0;
#else
  bool perFaasletCgroup = false;
#endif
  // Faaslets report over their channels; unless their cgroups must be
  // removed after them, the kernel reaps them.
  if (!perFaasletCgroup) std::signal(SIGCHLD, SIG_IGN);
  auto proto = ProtoFaaslet::create(spec);
  if (!proto) {
    const runtime::Error& e = proto.error();
    protocol::send(control, Msg::InitFailed, uint32_t(e.trap), e.exitCode, e.message.data(),
                   e.message.size());
    _exit(0);
  }
  std::fflush(nullptr);
#ifdef FAASM_HAVE_ISOLATION
  // Without per-Faaslet cgroups (whose mkdir the zygote filter forbids) the
  // zygote installs the allow-list once for itself, and each Faaslet then
  // only adds the short deny program: a cheaper restore. The plan is this
  // process's own copy since fork, so changing it here touches nobody else.
  if (isolation && !perFaasletCgroup)
    const_cast<IsolationPlan&>(*isolation).applyInZygote();
#endif
  if (!protocol::send(control, Msg::Ready, 0, 0)) _exit(0);

  for (;;) {
    Message m;
    int channel = -1;
    if (!protocol::receive(control, m, &channel)) {
#ifdef FAASM_HAVE_ISOLATION
      // The scheduler is done: wait for our Faaslets, then remove their groups.
      while (waitpid(-1, nullptr, 0) > 0) {}
      cgroups.clear();
#endif
      _exit(0);
    }
    if (m.type != Msg::Spawn || channel < 0) {
      if (channel >= 0) close(channel);
      continue;
    }
#ifdef FAASM_HAVE_ISOLATION
    std::unique_ptr<Cgroup> cgroup;
    if (perFaasletCgroup) {
      for (pid_t done; (done = waitpid(-1, nullptr, WNOHANG)) > 0;) cgroups.erase(done);
      cgroup = isolation->createCgroup("faaslet-" + std::to_string(getpid()) + "-" +
                                       std::to_string(++spawned));
    }
#endif
    // Restore starts here: Spawned reports this clock reading, so the time
    // from fork to the guest's entry can be accounted.
    timespec forkAt{};
    clock_gettime(CLOCK_MONOTONIC, &forkAt);
    pid_t pid = fork();
    if (pid == 0) {
      // Nothing here but what isolation needs: this is the restore's path.
      // (A Faaslet never forks, so the zygote's SIGCHLD disposition is moot.)
      close(control);
#ifdef FAASM_HAVE_ISOLATION
      // Isolation (loader/isolation): cgroup, network namespace, seccomp,
      // before any guest code of the call runs.
      if (isolation) isolation->applyInChild(cgroup.get());
#else
      (void)isolation;
#endif
      runFaaslet(*proto.value(), channel, m.a);
    }
#ifdef FAASM_HAVE_ISOLATION
    if (pid > 0 && cgroup) cgroups[pid] = std::move(cgroup);
#endif
    // The scheduler enforces the wall-clock timeout: it needs the pid.
    // Let the new Faaslet run first if it was queued on this CPU: what the
    // zygote does next (Spawned wakes the scheduler) can wait, the restore
    // cannot.
    if (pid > 0) sched_yield();
    uint64_t forkNs = uint64_t(forkAt.tv_sec) * 1000000000u + uint64_t(forkAt.tv_nsec);
    protocol::send(control, Msg::Spawned, 0, pid > 0 ? int32_t(pid) : -1, &forkNs, sizeof forkNs);
    if (pid < 0) protocol::send(channel, Msg::Result, uint32_t(abi::TrapCode::HostError), 0);
    close(channel);
  }
}

} // namespace faasm::loader
