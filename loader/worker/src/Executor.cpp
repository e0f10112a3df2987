#include "Executor.h"

#include "faasm/abi/Abi.h"
#include "faasm/faaslet/Scheduler.h"
#include "faasm/isolation/Isolation.h"
#include "faasm/log/Log.h"
#include "faasm/redis/RedisStore.h"
#include "faasm/state/LocalState.h"
#include "faasm/state/StateStore.h"
#include "faasm/worker/Stores.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace faasm::worker {

namespace wire {

std::string frame(Type type, const std::string& payload) {
  Writer w;
  w.u32(uint32_t(type)).u32(0).u64(payload.size());
  w.bytes += payload;
  return std::move(w.bytes);
}

namespace {
bool writeAll(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}
bool readAll(int fd, char* p, size_t n) {
  while (n) {
    ssize_t k = ::read(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= size_t(k);
  }
  return true;
}
} // namespace

bool send(int fd, Type type, const std::string& payload) {
  std::string f = frame(type, payload);
  return writeAll(fd, f.data(), f.size());
}

bool receive(int fd, Type& type, std::string& payload) {
  char header[16];
  if (!readAll(fd, header, sizeof header)) return false;
  Reader r{std::string_view(header, sizeof header)};
  type = Type(r.u32());
  r.u32();
  uint64_t length = r.u64();
  if (length > kMaxFrame) return false;
  payload.resize(length);
  return readAll(fd, payload.data(), length);
}

} // namespace wire

std::string ExecutorConfig::encode() const {
  wire::Writer w;
  w.str(storeDir).str(stateDir).u64(memoryBytes);
  w.raw(&cpus, sizeof cpus);
  w.u64(timeoutMs).u32(uid).u32(gid).u32(network ? 1 : 0);
  w.u32(runningPerHost).u32(alivePerHost).u32(runningPerTree).u32(alivePerTree);
  w.u64(bytesPerTree).u64(bytesPerHost).u64(chainTimeoutMs).u32(offload ? 1 : 0);
  w.str(stateRedis);
  return std::move(w.bytes);
}

bool ExecutorConfig::decode(const std::string& payload, ExecutorConfig& c) {
  wire::Reader r{payload};
  c.storeDir = r.str();
  c.stateDir = r.str();
  c.memoryBytes = r.u64();
  c.cpus = r.num<double>();
  c.timeoutMs = r.u64();
  c.uid = r.u32();
  c.gid = r.u32();
  c.network = r.u32() != 0;
  c.runningPerHost = r.u32();
  c.alivePerHost = r.u32();
  c.runningPerTree = r.u32();
  c.alivePerTree = r.u32();
  c.bytesPerTree = r.u64();
  c.bytesPerHost = r.u64();
  c.chainTimeoutMs = r.u64();
  c.offload = r.u32() != 0;
  c.stateRedis = r.str();
  return !r.bad;
}

int spawnExecutor(const std::string& self, pid_t& pid, std::string& error) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    error = std::string("cannot create a socketpair: ") + std::strerror(errno);
    return -1;
  }
  // Everything the child needs is made before the fork: between fork and
  // exec it runs only system calls (other threads may hold locks).
  const char* argv[] = {"faasm-worker", "--executor-fd", "3", nullptr};
  const pid_t parent = getpid();
  pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    if (sv[1] != 3) {
      dup2(sv[1], 3); // without close-on-exec
    } else {
      int flags = fcntl(3, F_GETFD);
      fcntl(3, F_SETFD, flags & ~FD_CLOEXEC);
    }
    syscall(SYS_close_range, 4U, ~0U, 0U);
    execv(self.c_str(), const_cast<char* const*>(argv));
    _exit(127);
  }
  close(sv[1]);
  if (pid < 0) {
    error = std::string("cannot fork the executor: ") + std::strerror(errno);
    close(sv[0]);
    return -1;
  }
  return sv[0];
}

namespace {

uint64_t nowNs() {
  return uint64_t(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

std::string seconds(uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", double(ms) / 1000.0);
  return text;
}

CallStatus statusOf(const faaslet::CallOutcome& o, const ExecutorConfig& c) {
  CallStatus s;
  s.returnCode = faaslet::Scheduler::returnCode(o);
  s.state = CallState::Failed;
  if (o.failedToStart()) {
    // Initialisation is part of the call: its exit code or trap is the call's.
    const runtime::Error& e = o.initError;
    if (e.trap == abi::TrapCode::Timeout)
      s.state = CallState::TimedOut, s.error = "initialisation timed out";
    else if (e.trap == abi::TrapCode::Exit && s.returnCode != 126)
      s.state = CallState::Done;
    else if (e.trap != abi::TrapCode::None && e.trap != abi::TrapCode::Exit)
      s.error = std::string("initialisation trapped: ") + abi::trapMessage(e.trap);
    else
      s.error = o.error;
    return s;
  }
  if (o.results.empty()) {
    s.error = "the call has no result";
    return s;
  }
  const faaslet::CallResult& r = o.results.back();
  s.output = r.output;
  if (r.trap == abi::TrapCode::Timeout) {
    s.state = CallState::TimedOut;
    s.error = "timed out (the worker's timeout of " + seconds(c.timeoutMs) + " per call)";
  } else if (r.memoryLimit) {
    s.error = "memory limit reached (" + std::to_string(c.memoryBytes >> 20) + " MiB)";
  } else if (r.died) {
    s.error = "trap: faaslet died";
  } else if (!r.error.empty()) {
    s.error = r.error;
  } else if (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit) {
    if (s.returnCode == 126)
      s.error = "exit code " + std::to_string(uint32_t(r.returnCode)) + " outside 0..125";
    else
      s.state = CallState::Done;
  } else {
    s.error = std::string("trap: ") + abi::trapMessage(r.trap);
  }
  return s;
}

// What a chained caller here learns of a call that ran on another host:
// the same return code (faaslet::Scheduler::returnCode) and output it would
// have had here.
faaslet::CallOutcome outcomeOf(const CallStatus& s, const std::string& output) {
  faaslet::CallOutcome o;
  if (s.state == CallState::Failed && s.returnCode == 126) {
    o.error = s.error.empty() ? "the call could not be made" : s.error;
    o.initError = runtime::makeError(o.error);
    return o;
  }
  faaslet::CallResult r;
  r.output.assign(output.begin(), output.end());
  r.returnCode = s.returnCode;
  r.error = s.error;
  if (s.state == CallState::Done)
    r.trap = abi::TrapCode::None;
  else if (s.state == CallState::TimedOut)
    r.trap = abi::TrapCode::Timeout;
  else
    r.trap = abi::TrapCode::HostError;
  o.results.push_back(std::move(r));
  return o;
}

} // namespace

int executorMain(int fd) {
  log::setProgramName("faasm-worker (executor)");
  wire::Type type{};
  std::string payload;
  ExecutorConfig config;
  if (!wire::receive(fd, type, payload) || type != wire::Type::Config ||
      !ExecutorConfig::decode(payload, config)) {
    FAASM_LOG(Error, "no configuration from the worker");
    return 1;
  }
  if (!config.stateDir.empty()) state::LocalStateStore::instance().setDirectory(config.stateDir);
  if (!config.stateRedis.empty()) {
    // Before any zygote: Faaslets inherit the store and reach Redis through
    // this process (GlobalConnect), as under faasm-run --state-redis.
    std::string error;
    std::optional<redis::Endpoint> at = redis::parseEndpoint(config.stateRedis, error);
    if (!at) {
      FAASM_LOG(Error, "the global state tier: %s", error.c_str());
      return 1;
    }
    state::setStore(redis::makeRedisStore(redis::optionsFromEnvironment(*at)));
  }
  std::unique_ptr<ArtefactStore> artefacts = localArtefactStore(config.storeDir);
  std::unique_ptr<FunctionTable> table = localFunctionTable(config.storeDir);

  faaslet::SchedulerOptions options;
  options.timeout = std::chrono::milliseconds(config.timeoutMs);
  faaslet::SchedulerLimits& l = options.limits;
  l.runningPerHost = config.runningPerHost;
  l.alivePerHost = config.alivePerHost;
  l.runningPerTree = config.runningPerTree;
  l.alivePerTree = config.alivePerTree;
  if (config.bytesPerTree) l.bytesPerTree = config.bytesPerTree;
  if (config.bytesPerHost) l.bytesPerHost = config.bytesPerHost;
  if (config.chainTimeoutMs) l.chainTimeout = std::chrono::milliseconds(config.chainTimeoutMs);
  options.log = [](const std::string& line) { FAASM_LOG(Info, "%s", line.c_str()); };
  options.resolve = [&](const std::string& user,
                        const std::string& name) -> std::optional<faaslet::FunctionSpec> {
    std::optional<FunctionTable::Entry> e = table->get(user, name);
    if (!e) return std::nullopt;
    std::string file = artefacts->find(e->artefact);
    if (file.empty()) return std::nullopt;
    faaslet::FunctionSpec spec;
    spec.file = file;
    return spec;
  };
  // Chained calls sent to other hosts, by the id the frontend knows them by.
  std::map<CallId, uint32_t> offloaded;
  if (config.offload)
    options.offload = [&](uint32_t sid, const std::string& user, const std::string& function,
                          const std::vector<uint8_t>& input, Clock::time_point deadline) {
      CallId id = CallId::random();
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      wire::Writer w;
      w.raw(id.bytes);
      w.str(user).str(function);
      w.str(input);
      w.u64(uint64_t(std::max<int64_t>(left.count(), 1)));
      // A frontend that is gone ends this process at the next receive.
      if (!wire::send(fd, wire::Type::Chain, w.bytes)) return false;
      offloaded[id] = sid;
      return true;
    };
  {
    isolation::IsolationLimits limits;
    limits.memoryBytes = config.memoryBytes;
    limits.cpus = config.cpus;
    limits.timeout = std::chrono::milliseconds(config.timeoutMs);
    limits.network = config.network;
    limits.uid = config.uid;
    limits.gid = config.gid;
    if (limits.needsCgroup()) isolation::removeStaleCgroups();
    options.isolation = std::make_shared<const isolation::IsolationPlan>(limits);
  }
  faaslet::Scheduler scheduler(std::move(options));

  struct Running {
    CallId id;
    uint64_t acceptedNs = 0;
  };
  std::map<uint32_t, Running> calls;
  auto reply = [&](const CallId& id, const CallStatus& s, bool cold, uint64_t queueNs,
                   uint64_t runNs) {
    wire::Writer w;
    w.raw(id.bytes);
    w.u32(uint32_t(s.state)).i32(s.returnCode).u32(cold ? 1 : 0).u64(queueNs).u64(runNs);
    w.u64(scheduler.zygoteCount()).str(std::string(s.output.begin(), s.output.end())).str(s.error);
    return wire::send(fd, wire::Type::Done, w.bytes);
  };

  // What the frontend last heard of the scheduler's load: its gauges show
  // whether capacity came back once the calls it sent have ended.
  faaslet::Scheduler::Load told;
  for (;;) {
    scheduler.poll(std::chrono::milliseconds(1000), fd);
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, 0) > 0) {
      if (!wire::receive(fd, type, payload)) return 0; // the frontend is gone
      wire::Reader r{payload};
      if (type == wire::Type::Run) {
        CallId id;
        r.fill(id.bytes);
        std::string user = r.str(), function = r.str(), input = r.str();
        uint64_t remainingMs = r.u64();
        if (r.bad) return 1;
        Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(remainingMs);
        uint32_t sid = scheduler.start(user, function,
                                       std::vector<uint8_t>(input.begin(), input.end()), deadline);
        if (sid == 0) {
          CallStatus s;
          s.state = CallState::Failed;
          s.returnCode = 126;
          s.error = "no function " + function + " of user " + user;
          if (!reply(id, s, false, 0, 0)) return 0;
        } else {
          calls[sid] = Running{id, nowNs()};
        }
      } else if (type == wire::Type::ChainDone) {
        CallId id;
        r.fill(id.bytes);
        CallStatus s;
        s.state = CallState(r.u32());
        s.returnCode = r.i32();
        std::string output = r.str();
        s.error = r.str();
        if (r.bad) return 1;
        auto it = offloaded.find(id);
        if (it != offloaded.end()) {
          scheduler.remoteDone(it->second, outcomeOf(s, output));
          offloaded.erase(it);
        }
      } else if (type == wire::Type::Retire) {
        std::string user = r.str(), function = r.str();
        if (!r.bad) scheduler.retire(user, function);
      }
      p.revents = 0;
    }
    for (uint32_t sid : scheduler.takeFinished()) {
      auto it = calls.find(sid);
      const faaslet::CallOutcome* o = scheduler.outcome(sid);
      if (it != calls.end() && o) {
        uint64_t now = nowNs(), forked = o->forkedAtNs;
        uint64_t queueNs = forked > it->second.acceptedNs ? forked - it->second.acceptedNs : 0;
        uint64_t runNs = forked && now > forked ? now - forked : 0;
        if (!reply(it->second.id, statusOf(*o, config), o->coldStart, queueNs, runNs)) return 0;
      }
      if (it != calls.end()) calls.erase(it);
      scheduler.release(sid);
    }
    faaslet::Scheduler::Load load = scheduler.load();
    if (load.running != told.running || load.alive != told.alive || load.queued != told.queued) {
      told = load;
      if (!wire::send(fd, wire::Type::Load,
                      wire::Writer().u32(load.running).u32(load.alive).u32(load.queued).bytes))
        return 0;
    }
  }
}

} // namespace faasm::worker
