// faaslet-bench: the measurements behind scripts/bench-faaslets, in one
// process. Prints "key value" lines (times in microseconds, memory in KiB)
// that the script turns into the report; writes raw samples to
// --samples-dir for the plot.
//
// Path measured: faasm-run's own. This process is the scheduler
// (loader/faaslet's Scheduler, as in faasm-run); every call goes through
// Scheduler::start: the function's zygote (the Proto-Faaslet, made by
// ProtoFaaslet::create) forks a Faaslet, which has its input (it came with
// the spawn request) and enters the guest. The guest (bench-main.c) reads
// the monotonic clock first thing in main and returns it as its output, so
// "entry" is measured inside the guest, and every time here runs from the
// scheduler's side (before
// Scheduler::start, or before the next input of a warm call is sent) to
// there. Isolation rows use the same path with an IsolationPlan, as faasm-run
// does for --timeout and --memory-limit.
#include "faasm/faaslet/Faaslet.h"
#include "faasm/faaslet/Scheduler.h"
#include "faasm/isolation/Isolation.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace faasm;

uint64_t nowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "faaslet-bench: %s\n", message.c_str());
  std::exit(1);
}

double pct(std::vector<uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
  return double(v[i]) / 1000.0;
}

void emit(const std::string& key, double value) {
  std::printf("%s %.1f\n", key.c_str(), value);
  std::fflush(stdout);
}

void writeSamples(const std::string& dir, const std::string& name, const std::vector<uint64_t>& v) {
  if (dir.empty()) return;
  std::ofstream out(dir + "/" + name + ".txt");
  for (uint64_t s : v)
    out << double(s) / 1000.0 << "\n";
}

// The guest's output: its clock at entry (ns) and the byte it toggled (the
// same value in every call if nothing leaks from one call to the next).
struct Entry {
  uint64_t ns = 0;
  uint64_t byte = 0;
};

Entry entryOf(const faaslet::CallResult& r) {
  if ((r.trap != abi::TrapCode::None && r.trap != abi::TrapCode::Exit) || r.returnCode != 0 ||
      r.output.size() != 2 * sizeof(uint64_t))
    die("a Faaslet failed (trap " + std::to_string(int(r.trap)) + ", output " +
        std::to_string(r.output.size()) + " bytes)");
  Entry e;
  std::memcpy(&e.ns, r.output.data(), 8);
  std::memcpy(&e.byte, r.output.data() + 8, 8);
  return e;
}

Entry entryOf(const faaslet::CallOutcome& o) {
  if (o.failedToStart() || o.results.empty()) die("a call did not start: " + o.error);
  return entryOf(o.results.back());
}

faaslet::FunctionSpec specOf(const std::string& name, const std::string& file) {
  faaslet::FunctionSpec spec;
  spec.name = name;
  spec.file = file;
  return spec;
}

// A scheduler as faasm-run makes it, with the functions "small" and "big"
// and their zygotes started (a first call each).
std::unique_ptr<faaslet::Scheduler> makeScheduler(const std::string& fn, const std::string& bigFn,
                                                  const isolation::IsolationLimits* limits) {
  faaslet::SchedulerOptions options;
  // idleFaaslets keeps 64 Faaslets alive at once, each between two runs:
  // more than the scheduler's default caps for this host allow.
  options.limits.runningPerHost = options.limits.runningPerTree = 128;
  options.limits.alivePerHost = options.limits.alivePerTree = 128;
  if (limits) {
    options.isolation = std::make_shared<const isolation::IsolationPlan>(*limits);
    options.timeout = limits->timeout;
  }
  auto s = std::make_unique<faaslet::Scheduler>(std::move(options));
  s->addFunction(specOf("small", fn));
  if (!bigFn.empty()) s->addFunction(specOf("big", bigFn));
  for (const char* name : {"small", "big"}) {
    if (bigFn.empty() && std::string(name) == "big") continue;
    uint32_t id = s->start(name, {});
    entryOf(s->wait(id));
    s->release(id);
  }
  return s;
}

// One call per sample, through Scheduler::start. restore: the zygote's fork
// (its clock just before, CallOutcome::forkedAtNs) to the guest's clock read
// in main. dispatch: Scheduler::start (spawn request to the zygote, which
// forks; the input comes with that request) to the same.
struct Restores {
  std::vector<uint64_t> restore, dispatch;
  void append(const Restores& o) {
    restore.insert(restore.end(), o.restore.begin(), o.restore.end());
    dispatch.insert(dispatch.end(), o.dispatch.begin(), o.dispatch.end());
  }
};

Restores restoreSamples(faaslet::Scheduler& s, const std::string& fn, int iters) {
  Restores r;
  r.restore.reserve(size_t(iters));
  r.dispatch.reserve(size_t(iters));
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = nowNs();
    uint32_t id = s.start(fn, {});
    const faaslet::CallOutcome& o = s.wait(id);
    Entry e = entryOf(o);
    if (o.forkedAtNs == 0 || o.forkedAtNs < t0 || e.ns < o.forkedAtNs)
      die("no fork time for a call");
    r.restore.push_back(e.ns - o.forkedAtNs);
    r.dispatch.push_back(e.ns - t0);
    s.release(id);
  }
  return r;
}

// A warm call of `runs` runs in one Faaslet: from the scheduler's receipt of
// run i's result (just before it sends run i+1's input) to run i+1's entry.
// The Faaslet resets after sending each result. Checks that every run sees
// the snapshot's data, not the previous run's write.
std::vector<uint64_t> warmSamples(faaslet::Scheduler& s, const std::string& fn, int runs) {
  std::vector<uint64_t> samples;
  samples.reserve(size_t(runs));
  uint64_t last = 0;
  uint64_t firstByte = UINT64_MAX;
  auto onResult = [&](const faaslet::CallResult& r) {
    Entry e = entryOf(r);
    if (firstByte == UINT64_MAX) firstByte = e.byte;
    if (e.byte != firstByte) die("a warm run saw the previous run's write");
    if (last) samples.push_back(e.ns - last);
    last = nowNs();
  };
  uint32_t id = s.start(fn, {}, uint32_t(runs + 1));
  const faaslet::CallOutcome& o = s.wait(id, onResult);
  if (o.results.size() != size_t(runs + 1)) die("a warm call ended early");
  s.release(id);
  return samples;
}

// Calls (restore, run, exit) per second, `inFlight` at once.
double startsPerSecond(faaslet::Scheduler& s, int total, int inFlight) {
  uint64_t t0 = nowNs();
  std::deque<uint32_t> running;
  int started = 0;
  while (started < total || !running.empty()) {
    while (int(running.size()) < inFlight && started < total) {
      running.push_back(s.start("small", {}));
      ++started;
    }
    entryOf(s.wait(running.front()));
    s.release(running.front());
    running.pop_front();
  }
  return double(total) / (double(nowNs() - t0) / 1e9);
}

struct Mem {
  double rssKb = 0, pssKb = 0, ussKb = 0; // USS: private clean + private dirty
};

Mem smapsRollup(pid_t pid) {
  Mem m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  double value;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    if (f >> key >> value) {
      if (key == "Rss:")
        m.rssKb = value;
      else if (key == "Pss:")
        m.pssKb = value;
      else if (key == "Private_Clean:" || key == "Private_Dirty:")
        m.ussKb += value;
    }
  }
  return m;
}

// Where one process's PSS is: mappings by PSS, largest first, to `path`.
void pssBreakdown(pid_t pid, const std::string& path) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::vector<std::pair<double, std::string>> rows;
  std::string line, name;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string first;
    f >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {
      std::string perms, offset, dev, inode, file;
      f >> perms >> offset >> dev >> inode;
      std::getline(f, file);
      name = perms + " " +
             (file.find_first_not_of(' ') == std::string::npos
                  ? "[anon]"
                  : file.substr(file.find_first_not_of(' ')));
    } else if (first == "Pss:") {
      double kb = 0;
      f >> kb;
      if (kb > 0) rows.emplace_back(kb, name);
    }
  }
  std::sort(rows.rbegin(), rows.rend());
  std::ofstream out(path);
  for (auto& [kb, n] : rows)
    out << kb << " KB\t" << n << "\n";
}

// True once `pid` is blocked receiving (recvmsg): a Faaslet whose input was
// queued before it was forked only blocks there after its run, waiting for
// the next run's input.
bool blockedInRecvmsg(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  return (in >> nr) && nr == 47; // x86-64 recvmsg
}

pid_t parentOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = all.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream f(all.substr(close + 2));
  char state;
  pid_t ppid = -1;
  f >> state >> ppid;
  return ppid;
}

std::string gSamplesDir;

// `count` idle warm Faaslets of `fn`, each having run one call and reset,
// waiting for the input of its second run: their mean RSS, PSS and USS; the
// zygote's PSS in *outZygotePss.
Mem idleFaaslets(faaslet::Scheduler& s, const std::string& fn, int count, const std::string& tag,
                 double* outZygotePss) {
  std::vector<uint32_t> ids;
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    ids.push_back(s.start(fn, {}, 2));
    pids.push_back(s.faasletPid(ids.back()));
    if (pids.back() <= 0) die("no pid for an idle Faaslet");
  }
  for (pid_t pid : pids) {
    for (int tries = 0; !blockedInRecvmsg(pid); ++tries) {
      if (tries > 5000) die("a Faaslet did not become idle");
      usleep(1000);
    }
  }
  if (!gSamplesDir.empty())
    pssBreakdown(pids.front(), gSamplesDir + "/pss-breakdown-" + tag + ".txt");
  Mem sum;
  for (pid_t pid : pids) {
    Mem m = smapsRollup(pid);
    sum.rssKb += m.rssKb;
    sum.pssKb += m.pssKb;
    sum.ussKb += m.ussKb;
  }
  if (outZygotePss) *outZygotePss = smapsRollup(parentOf(pids.front())).pssKb;
  for (uint32_t id : ids) {
    s.wait(id); // the second run, then the Faaslet exits
    s.release(id);
  }
  return {sum.rssKb / count, sum.pssKb / count, sum.ussKb / count};
}

// From scratch, in this (fresh, exec'd) process: ProtoFaaslet::create (load,
// instantiate, constructors, snapshot) and the call, to the guest's entry.
// Prints the time in ns.
int scratchOnce(const std::string& path) {
  uint64_t t0 = nowNs();
  auto proto = faaslet::ProtoFaaslet::create(specOf("scratch", path));
  if (!proto) die(path + ": " + proto.error().message);
  Entry e = entryOf(proto.value()->call({}));
  std::printf("%llu\n", (unsigned long long)(e.ns - t0));
  return 0;
}

std::vector<uint64_t> scratchSamples(const char* self, const std::string& path, int iters) {
  std::vector<uint64_t> inProcess;
  std::vector<uint64_t> wall;
  for (int i = 0; i < iters; ++i) {
    std::string cmd = std::string("'") + self + "' --scratch-once '" + path + "'";
    uint64_t t0 = nowNs();
    FILE* f = popen(cmd.c_str(), "r");
    unsigned long long ns = 0;
    if (!f || std::fscanf(f, "%llu", &ns) != 1) die("scratch run failed");
    pclose(f);
    wall.push_back(nowNs() - t0);
    inProcess.push_back(ns);
  }
  emit("scratch_wall_p50_us", pct(wall, 50));
  return inProcess;
}

// ProtoFaaslet::reset after a call, in a child process (so that this
// process, which forks the zygotes, stays as faasm-run's scheduler is).
void resetRow(const std::string& fn, int iters) {
  pid_t pid = fork();
  if (pid == 0) {
    auto proto = faaslet::ProtoFaaslet::create(specOf("reset", fn));
    if (!proto) _exit(1);
    std::vector<uint64_t> samples;
    for (int i = 0; i < iters; ++i) {
      entryOf(proto.value()->call({}));
      uint64_t t0 = nowNs();
      if (!proto.value()->reset().message.empty()) _exit(1);
      samples.push_back(nowNs() - t0);
    }
    emit("warm_reset_p50_us", pct(samples, 50));
    _exit(0);
  }
  waitpid(pid, nullptr, 0);
}

// runc: start-to-entry of the container's process, and its memory when idle.
void runcPeer(const std::string& bundle, const std::string& idleBundle, int iters) {
  std::vector<uint64_t> entry, wall;
  for (int i = 0; i < iters; ++i) {
    std::string id = "faasm-bench-" + std::to_string(getpid()) + "-" + std::to_string(i);
    std::string cmd = "runc run --bundle '" + bundle + "' " + id + " 2>/dev/null";
    uint64_t t0 = nowNs();
    FILE* f = popen(cmd.c_str(), "r");
    unsigned long long ns = 0;
    int r = 0;
    if (!f || std::fscanf(f, "%llu %d", &ns, &r) != 2) {
      if (f) pclose(f);
      emit("runc_failed", 1);
      return;
    }
    pclose(f);
    wall.push_back(nowNs() - t0);
    entry.push_back(ns - t0);
  }
  emit("runc_start_p50_us", pct(entry, 50));
  emit("runc_start_p99_us", pct(entry, 99));
  emit("runc_run_wall_p50_us", pct(wall, 50));
  // Idle container: detached, its process's smaps_rollup and its cgroup.
  std::string id = "faasm-bench-idle-" + std::to_string(getpid());
  if (std::system(
          ("runc run -d --bundle '" + idleBundle + "' " + id + " >/dev/null 2>&1 </dev/null")
              .c_str()) != 0) {
    emit("runc_failed", 1);
    return;
  }
  usleep(200000);
  FILE* f =
      popen(("runc state " + id + " | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'").c_str(), "r");
  int pid = 0;
  if (f && std::fscanf(f, "%d", &pid) == 1 && pid > 0) {
    Mem m = smapsRollup(pid);
    emit("runc_rss_kb", m.rssKb);
    emit("runc_pss_kb", m.pssKb);
    emit("runc_uss_kb", m.ussKb);
  }
  if (f) pclose(f);
  int ignored =
      std::system(("runc kill " + id + " KILL >/dev/null 2>&1; sleep 0.2; runc delete -f " + id +
                   " >/dev/null 2>&1")
                      .c_str());
  (void)ignored;
}

} // namespace

int main(int argc, char** argv) {
  std::string fn, bigFn, samplesDir, floorBin, runcBundle, runcIdleBundle;
  int iters = 1000, scratchIters = 30, runcIters = 20;
  bool restoreOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--scratch-once")
      return scratchOnce(next());
    else if (a == "--fn")
      fn = next();
    else if (a == "--fn-big")
      bigFn = next();
    else if (a == "--restore-only")
      restoreOnly = true;
    else if (a == "--iters")
      iters = std::atoi(next().c_str());
    else if (a == "--scratch-iters")
      scratchIters = std::atoi(next().c_str());
    else if (a == "--runc-iters")
      runcIters = std::atoi(next().c_str());
    else if (a == "--samples-dir")
      samplesDir = next();
    else if (a == "--floor")
      floorBin = next();
    else if (a == "--runc-bundle")
      runcBundle = next();
    else if (a == "--runc-idle-bundle")
      runcIdleBundle = next();
    else
      die("unknown option " + a);
  }
  if (fn.empty() || bigFn.empty())
    die("usage: faaslet-bench --fn main-1mb.so --fn-big main-256mb.so [--floor fork-floor] "
        "[--runc-bundle DIR --runc-idle-bundle DIR]");
  gSamplesDir = samplesDir;
  std::signal(SIGPIPE, SIG_IGN);

  if (!restoreOnly) {
    auto scratch = scratchSamples(argv[0], fn, scratchIters);
    emit("scratch_p50_us", pct(scratch, 50));
  }

  // Interleave the floor, small and big so that noise from other jobs on
  // the machine hits them alike: four rounds of floor, then small and big
  // calls alternating. fork-floor reports each round's p50/p99;
  // the floor figures are the medians of the rounds'.
  {
    // As faasm-run makes it: least privilege for every Faaslet, no limits.
    const isolation::IsolationLimits defaults;
    uint64_t t0 = nowNs();
    auto s = makeScheduler(fn, bigFn, &defaults);
    emit("zygotes_ready_ms", double(nowNs() - t0) / 1e6);
    // The same without any isolation (faasm-run before least privilege was
    // always on), interleaved with the rest for a paired comparison.
    auto bare = makeScheduler(fn, "", nullptr);
    Restores restore, restoreBig, restoreBare;
    std::vector<uint64_t> floorP50, floorP99, pinnedP50, pinnedP99;
    auto runFloor = [&](const char* mode, std::vector<uint64_t>& p50s,
                        std::vector<uint64_t>& p99s) {
      FILE* f =
          popen(("'" + floorBin + "' " + std::to_string(iters / 4) + " " + mode).c_str(), "r");
      double p50 = 0, p99 = 0;
      if (!f || std::fscanf(f, "%lf %lf", &p50, &p99) != 2) die("fork-floor failed");
      pclose(f);
      p50s.push_back(uint64_t(p50 * 1000));
      p99s.push_back(uint64_t(p99 * 1000));
    };
    for (int round = 0; round < 4; ++round) {
      if (!floorBin.empty()) {
        runFloor("", floorP50, floorP99);
        // The same fork, the child started on the parent's CPU as the
        // zygote starts a Faaslet: how much of the floor is that alone.
        runFloor("pin", pinnedP50, pinnedP99);
      }
      // Call by call, so that a burst of load hits both sizes alike.
      for (int i = 0; i < iters / 4; ++i) {
        restore.append(restoreSamples(*s, "small", 1));
        restoreBig.append(restoreSamples(*s, "big", 1));
        restoreBare.append(restoreSamples(*bare, "small", 1));
      }
    }
    if (!floorP50.empty()) {
      emit("floor_p50_us", pct(floorP50, 50));
      emit("floor_p99_us", pct(floorP99, 50));
      emit("floor_pinned_p50_us", pct(pinnedP50, 50));
      emit("floor_pinned_p99_us", pct(pinnedP99, 50));
    }
    emit("restore_p50_us", pct(restore.restore, 50));
    emit("restore_p99_us", pct(restore.restore, 99));
    emit("restore_unconfined_p50_us", pct(restoreBare.restore, 50));
    emit("restore_unconfined_p99_us", pct(restoreBare.restore, 99));
    emit("restore_256mb_p50_us", pct(restoreBig.restore, 50));
    emit("restore_256mb_p99_us", pct(restoreBig.restore, 99));
    emit("dispatch_p50_us", pct(restore.dispatch, 50));
    emit("dispatch_p99_us", pct(restore.dispatch, 99));
    emit("dispatch_256mb_p50_us", pct(restoreBig.dispatch, 50));
    emit("dispatch_256mb_p99_us", pct(restoreBig.dispatch, 99));
    writeSamples(samplesDir, "restore", restore.restore);
    writeSamples(samplesDir, "restore_256mb", restoreBig.restore);
    writeSamples(samplesDir, "restore_unconfined", restoreBare.restore);
    writeSamples(samplesDir, "dispatch", restore.dispatch);
    // --restore-only: the floor and the restore rows, for quick A/B runs.
    if (restoreOnly) return 0;

    auto warm = warmSamples(*s, "small", iters);
    emit("warm_p50_us", pct(warm, 50));
    emit("warm_p99_us", pct(warm, 99));
    writeSamples(samplesDir, "warm", warm);
    auto warmBig = warmSamples(*s, "big", iters / 4);
    emit("warm_256mb_p50_us", pct(warmBig, 50));

    emit("starts_per_s", startsPerSecond(*s, iters, 4));

    double zygotePss = 0, zygoteBigPss = 0;
    Mem idle = idleFaaslets(*s, "small", 64, "1mb", &zygotePss);
    emit("rss_kb", idle.rssKb);
    emit("pss_kb", idle.pssKb);
    emit("uss_kb", idle.ussKb);
    emit("zygote_pss_kb", zygotePss);
    Mem idleBig = idleFaaslets(*s, "big", 4, "256mb", &zygoteBigPss);
    emit("rss_256mb_kb", idleBig.rssKb);
    emit("pss_256mb_kb", idleBig.pssKb);
    emit("uss_256mb_kb", idleBig.ussKb);
    emit("zygote_256mb_pss_kb", zygoteBigPss);
  }

  // Isolation, as faasm-run applies it: --timeout alone (the same
  // confinement as the default, the timeout enforced by the scheduler);
  // --memory-limit (a cgroup slot entered by each Faaslet on top). The
  // network namespace is the zygote's, made once: no row of its own.
  auto isolatedRow = [&](const std::string& row, const isolation::IsolationLimits& limits) {
    auto s = makeScheduler(fn, "", &limits);
    auto v = restoreSamples(*s, "small", iters / 2);
    emit(row + "_p50_us", pct(v.restore, 50));
    emit(row + "_p99_us", pct(v.restore, 99));
    emit(row + "_dispatch_p50_us", pct(v.dispatch, 50));
    writeSamples(samplesDir, row, v.restore);
  };
  {
    isolation::IsolationLimits limits;
    limits.timeout = std::chrono::milliseconds(10000);
    isolatedRow("restore_zygote_seccomp", limits);
  }
  {
    isolation::IsolationLimits limits;
    limits.memoryBytes = 64ull << 20;
    limits.cpus = 1;
    limits.timeout = std::chrono::milliseconds(10000);
    isolatedRow("restore_isolated", limits);
  }
  resetRow(fn, iters);
  if (!runcBundle.empty()) runcPeer(runcBundle, runcIdleBundle, runcIters);
  return 0;
}
