// faaslet-bench: the measurements behind scripts/bench-faaslets, in one
// process. Prints "key value" lines (times in microseconds, memory in KiB)
// that the script turns into the report; writes raw restore samples to
// --samples-dir for the plot.
//
// Path measured: the runtime library directly (load, instantiate, init, then
// the linear memory snapshotted into a memfd and mapped MAP_PRIVATE over the
// memory at the same address, as ../../../../shared DESIGN.md describes),
// with the isolation library for the "+ isolation" rows. When the Faaslet
// process model (loader/faaslet) lands, its ProtoFaaslet replaces makeProto().
#include "faasm/loader/Isolation.h"
#ifdef FAASM_BENCH_HAVE_FAASLET
#include "faasm/loader/Faaslet.h"
#endif
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Module.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(p / 100.0 * double(v.size())));
  return double(v[i]) / 1000.0;
}

void emit(const std::string& key, double value) { std::printf("%s %.1f\n", key.c_str(), value); std::fflush(stdout); }

void writeSamples(const std::string& dir, const std::string& name, const std::vector<uint64_t>& v) {
  if (dir.empty())
    return;
  std::ofstream out(dir + "/" + name + ".txt");
  for (uint64_t s : v)
    out << double(s) / 1000.0 << "\n";
}

// A Proto-Faaslet made with the runtime directly.
struct Proto {
  std::shared_ptr<runtime::Module> module;
  runtime::HostModuleRegistry registry;
  std::shared_ptr<runtime::Instance> instance;
  const abi::FuncRef* run = nullptr;
  uint8_t* base = nullptr;
  uint64_t size = 0;
  int memfd = -1;
};

std::unique_ptr<Proto> makeProto(const std::string& path, uint64_t* outInitNs = nullptr) {
  auto p = std::make_unique<Proto>();
  uint64_t t0 = nowNs();
  auto module = runtime::Module::load(path);
  if (!module)
    die(path + ": " + module.error().message);
  p->module = module.value();
  auto instance = runtime::Instance::instantiate(p->module, p->registry.resolver());
  if (!instance)
    die(path + ": " + instance.error().message);
  p->instance = instance.value();
  auto init = p->instance->invokeExport("init", {});
  if (!init || !init.value().ok())
    die(path + ": init failed");
  p->run = p->instance->exportedFunction("run");
  if (!p->run)
    die(path + ": no export \"run\"");
  if (outInitNs)
    *outInitNs = nowNs() - t0;
  // Snapshot: copy memory into a memfd (all-zero pages stay holes), map it
  // back privately at the same address. Forks then share it copy-on-write
  // and copy no page tables for it.
  runtime::Memory* mem = p->instance->memory();
  p->base = mem->base();
  p->size = mem->sizeBytes();
  p->memfd = memfd_create("faasm-snapshot", MFD_CLOEXEC);
  if (p->memfd < 0 || ftruncate(p->memfd, off_t(p->size)) != 0)
    die("memfd");
  static const uint8_t zero[4096] = {};
  for (uint64_t off = 0; off < p->size; off += 4096)
    if (std::memcmp(p->base + off, zero, 4096) != 0 && pwrite(p->memfd, p->base + off, 4096, off_t(off)) != 4096)
      die("snapshot write");
  if (mmap(p->base, p->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, p->memfd, 0) != p->base)
    die("snapshot map");
  return p;
}

void callRun(const Proto& p, int x) {
  abi::Value arg = runtime::GlobalObject::i32(x);
  runtime::InvokeResult r = runtime::invoke(p.run, std::span<const abi::Value>(&arg, 1));
  if (!r.ok())
    _exit(99);
}

volatile uint64_t* gStamp; // a shared page: [0] entry time, [1] reset time

// fork -> entry of the guest function, `iters` times.
std::vector<uint64_t> restoreSamples(const Proto& p, int iters, const loader::IsolationPlan* plan) {
  std::vector<uint64_t> samples;
  samples.reserve(size_t(iters));
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = nowNs();
    pid_t pid = fork();
    if (pid == 0) {
      if (plan)
        plan->applyInChild(nullptr);
      gStamp[0] = nowNs();
      callRun(p, i);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      die("a restored Faaslet failed");
    samples.push_back(gStamp[0] - t0);
  }
  return samples;
}

// A warm Faaslet: one child serving calls over a pipe; reset (MADV_DONTNEED
// of the snapshot mapping) after each call, off the dispatch path.
void warm(const Proto& p, int iters, std::vector<uint64_t>& dispatch, std::vector<uint64_t>& reset) {
  int req[2], rep[2];
  if (pipe(req) || pipe(rep))
    die("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    close(req[1]);
    close(rep[0]);
    char c;
    for (int i = 0; read(req[0], &c, 1) == 1; ++i) {
      gStamp[0] = nowNs();
      callRun(p, i);
      uint64_t r0 = nowNs();
      madvise(p.base, p.size, MADV_DONTNEED);
      gStamp[1] = nowNs() - r0;
      if (write(rep[1], &c, 1) != 1)
        break;
    }
    _exit(0);
  }
  close(req[0]);
  close(rep[1]);
  for (int i = 0; i < iters; ++i) {
    char c = 'x';
    uint64_t t0 = nowNs();
    if (write(req[1], &c, 1) != 1 || read(rep[0], &c, 1) != 1)
      die("warm faaslet died");
    dispatch.push_back(gStamp[0] - t0);
    reset.push_back(uint64_t(gStamp[1]));
  }
  close(req[1]);
  close(rep[0]);
  waitpid(pid, nullptr, 0);
}

// Restores (run, exit) per second, keeping `inFlight` Faaslets at once.
double startsPerSecond(const Proto& p, int total, int inFlight) {
  uint64_t t0 = nowNs();
  int started = 0, running = 0;
  while (started < total || running > 0) {
    while (running < inFlight && started < total) {
      pid_t pid = fork();
      if (pid == 0) {
        callRun(p, started);
        _exit(0);
      }
      ++started;
      ++running;
    }
    if (wait(nullptr) > 0)
      --running;
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
      name = perms + " " + (file.find_first_not_of(' ') == std::string::npos ? "[anon]" : file.substr(file.find_first_not_of(' ')));
    } else if (first == "Pss:") {
      double kb = 0;
      f >> kb;
      if (kb > 0)
        rows.emplace_back(kb, name);
    }
  }
  std::sort(rows.rbegin(), rows.rend());
  std::ofstream out(path);
  for (auto& [kb, n] : rows)
    out << kb << " KB\t" << n << "\n";
}

std::string gSamplesDir;

// `count` idle Faaslets (each ran one call), their mean RSS and PSS.
Mem idleFaaslets(const Proto& p, int count) {
  int ready[2];
  if (pipe(ready))
    die("pipe");
  std::vector<pid_t> pids;
  for (int i = 0; i < count; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      close(ready[0]);
      callRun(p, i);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1)
        _exit(1);
      for (;;)
        pause();
    }
    pids.push_back(pid);
  }
  close(ready[1]);
  char c;
  for (int i = 0; i < count; ++i)
    if (read(ready[0], &c, 1) != 1)
      die("an idle Faaslet died");
  close(ready[0]);
  if (!gSamplesDir.empty())
    pssBreakdown(pids.front(), gSamplesDir + "/pss-breakdown-" + std::to_string(p.size >> 20) + "mb.txt");
  Mem sum;
  for (pid_t pid : pids) {
    Mem m = smapsRollup(pid);
    sum.rssKb += m.rssKb;
    sum.pssKb += m.pssKb;
    sum.ussKb += m.ussKb;
  }
  for (pid_t pid : pids) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return {sum.rssKb / count, sum.pssKb / count, sum.ussKb / count};
}

// Cost of a per-Faaslet cgroup: create, fork into it (child enters), remove.
std::vector<uint64_t> cgroupSamples(const Proto& p, int iters, loader::IsolationLimits limits) {
  loader::IsolationPlan plan(limits);
  std::vector<uint64_t> samples;
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = nowNs();
    auto cg = plan.createCgroup("bench-" + std::to_string(getpid()) + "-" + std::to_string(i));
    if (!cg)
      return {};
    pid_t pid = fork();
    if (pid == 0) {
      plan.applyInChild(cg.get());
      gStamp[0] = nowNs();
      callRun(p, i);
      _exit(0);
    }
    loader::ChildOutcome out = loader::waitForChild(pid, limits.timeout, cg.get());
    if (!out.exitedNormally())
      die("a Faaslet in a cgroup failed: " + out.describe());
    samples.push_back(gStamp[0] - t0);
  }
  return samples;
}

// The same with one cgroup made beforehand and entered by every child (a
// pool slot): fork to entry, the child entering the group and installing
// the seccomp filter first.
std::vector<uint64_t> reusedCgroupSamples(const Proto& p, int iters, loader::IsolationLimits limits) {
  loader::IsolationPlan plan(limits);
  auto cg = plan.createCgroup("bench-slot-" + std::to_string(getpid()));
  if (!cg)
    return {};
  std::vector<uint64_t> samples;
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = nowNs();
    pid_t pid = fork();
    if (pid == 0) {
      plan.applyInChild(cg.get());
      gStamp[0] = nowNs();
      callRun(p, i);
      _exit(0);
    }
    loader::ChildOutcome out = loader::waitForChild(pid, limits.timeout, cg.get());
    if (!out.exitedNormally())
      die("a Faaslet in a cgroup failed: " + out.describe());
    samples.push_back(gStamp[0] - t0);
  }
  return samples;
}

// From scratch, in this (fresh, exec'd) process: load + instantiate + init,
// to the entry of run. Prints the time in ns.
int scratchOnce(const std::string& path) {
  uint64_t t0 = nowNs();
  uint64_t initNs = 0;
  auto p = std::make_unique<Proto>();
  auto module = runtime::Module::load(path);
  if (!module)
    die(module.error().message);
  p->module = module.value();
  auto instance = runtime::Instance::instantiate(p->module, p->registry.resolver());
  if (!instance)
    die(instance.error().message);
  p->instance = instance.value();
  auto init = p->instance->invokeExport("init", {});
  if (!init || !init.value().ok())
    die("init failed");
  p->run = p->instance->exportedFunction("run");
  initNs = nowNs() - t0;
  callRun(*p, 1);
  std::printf("%llu\n", (unsigned long long)initNs);
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
    if (!f || std::fscanf(f, "%llu", &ns) != 1)
      die("scratch run failed");
    pclose(f);
    wall.push_back(nowNs() - t0);
    inProcess.push_back(ns);
  }
  emit("scratch_wall_p50_us", pct(wall, 50));
  return inProcess;
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
      if (f)
        pclose(f);
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
  if (std::system(("runc run -d --bundle '" + idleBundle + "' " + id + " >/dev/null 2>&1 </dev/null").c_str()) != 0) {
    emit("runc_failed", 1);
    return;
  }
  usleep(200000);
  FILE* f = popen(("runc state " + id + " | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'").c_str(), "r");
  int pid = 0;
  if (f && std::fscanf(f, "%d", &pid) == 1 && pid > 0) {
    Mem m = smapsRollup(pid);
    emit("runc_rss_kb", m.rssKb);
    emit("runc_pss_kb", m.pssKb);
    emit("runc_uss_kb", m.ussKb);
  }
  if (f)
    pclose(f);
  int ignored = std::system(("runc kill " + id + " KILL >/dev/null 2>&1; sleep 0.2; runc delete -f " + id + " >/dev/null 2>&1").c_str());
  (void)ignored;
}

#ifdef FAASM_BENCH_HAVE_FAASLET
// The same restore through loader/faaslet: ProtoFaaslet::create (load,
// instantiate with WASI and the Faasm API, constructors, snapshot), then
// fork and ProtoFaaslet::call in the child; entry is just before call().
void faasletRows(const std::string& fn, const std::string& bigFn, int iters) {
  auto make = [](const std::string& path) {
    loader::FunctionSpec spec;
    spec.name = "bench";
    spec.file = path;
    auto proto = loader::ProtoFaaslet::create(spec);
    if (!proto)
      die(path + ": " + proto.error().message);
    return std::move(proto.value());
  };
  auto small = make(fn);
  auto big = make(bigFn);
  auto measure = [&](loader::ProtoFaaslet& proto, int n) {
    std::vector<uint64_t> samples;
    for (int i = 0; i < n; ++i) {
      uint64_t t0 = nowNs();
      pid_t pid = fork();
      if (pid == 0) {
        gStamp[0] = nowNs();
        loader::CallResult r = proto.call({});
        _exit(r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit ? 0 : 98);
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("a Faaslet (loader/faaslet) failed");
      samples.push_back(gStamp[0] - t0);
    }
    return samples;
  };
  std::vector<uint64_t> a, b;
  for (int round = 0; round < 4; ++round) {
    auto x = measure(*small, iters / 4);
    auto y = measure(*big, iters / 4);
    a.insert(a.end(), x.begin(), x.end());
    b.insert(b.end(), y.begin(), y.end());
  }
  emit("faaslet_restore_p50_us", pct(a, 50));
  emit("faaslet_restore_p99_us", pct(a, 99));
  emit("faaslet_restore_256mb_p50_us", pct(b, 50));
  std::vector<uint64_t> warm;
  for (int i = 0; i < iters; ++i) {
    uint64_t t0 = nowNs();
    small->call({});
    warm.push_back(nowNs() - t0);
    if (!small->reset().message.empty())
      die("ProtoFaaslet::reset failed");
  }
  emit("faaslet_call_in_process_p50_us", pct(warm, 50));
}
#endif

} // namespace

int main(int argc, char** argv) {
  std::string fn, bigFn, samplesDir, floorBin, runcBundle, runcIdleBundle, faasletFn, faasletBigFn;
  int iters = 1000, scratchIters = 30, runcIters = 20;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--scratch-once")
      return scratchOnce(next());
    else if (a == "--fn")
      fn = next();
    else if (a == "--fn-big")
      bigFn = next();
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
    else if (a == "--faaslet-fn")
      faasletFn = next();
    else if (a == "--faaslet-fn-big")
      faasletBigFn = next();
    else
      die("unknown option " + a);
  }
  if (fn.empty() || bigFn.empty())
    die("usage: faaslet-bench --fn 1mb.so --fn-big 256mb.so [--floor fork-floor] [--runc-bundle DIR --runc-idle-bundle DIR]");
  gSamplesDir = samplesDir;
  gStamp = static_cast<uint64_t*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));

  auto scratch = scratchSamples(argv[0], fn, scratchIters);
  emit("scratch_p50_us", pct(scratch, 50));

  uint64_t protoNs = 0, bigProtoNs = 0;
  auto proto = makeProto(fn, &protoNs);
  auto big = makeProto(bigFn, &bigProtoNs);
  emit("proto_init_us", double(protoNs) / 1000);
  emit("proto_init_256mb_us", double(bigProtoNs) / 1000);
  emit("snapshot_mb", double(proto->size) / (1 << 20));
  emit("snapshot_256mb_mb", double(big->size) / (1 << 20));

  // Interleave the floor, small and big so that noise from other jobs on
  // the machine hits them alike. fork-floor reports each round's p50/p99;
  // the floor figures are the medians of the rounds'.
  std::vector<uint64_t> restore, restoreBig, floorP50, floorP99;
  for (int round = 0; round < 4; ++round) {
    if (!floorBin.empty()) {
      FILE* f = popen(("'" + floorBin + "' " + std::to_string(iters / 4)).c_str(), "r");
      double p50 = 0, p99 = 0;
      if (!f || std::fscanf(f, "%lf %lf", &p50, &p99) != 2)
        die("fork-floor failed");
      pclose(f);
      floorP50.push_back(uint64_t(p50 * 1000));
      floorP99.push_back(uint64_t(p99 * 1000));
    }
    auto a = restoreSamples(*proto, iters / 4, nullptr);
    auto b = restoreSamples(*big, iters / 4, nullptr);
    restore.insert(restore.end(), a.begin(), a.end());
    restoreBig.insert(restoreBig.end(), b.begin(), b.end());
  }
  if (!floorP50.empty()) {
    emit("floor_p50_us", pct(floorP50, 50));
    emit("floor_p99_us", pct(floorP99, 50));
  }
  emit("restore_p50_us", pct(restore, 50));
  emit("restore_p99_us", pct(restore, 99));
  emit("restore_256mb_p50_us", pct(restoreBig, 50));
  emit("restore_256mb_p99_us", pct(restoreBig, 99));
  writeSamples(samplesDir, "restore", restore);
  writeSamples(samplesDir, "restore_256mb", restoreBig);

  {
    loader::IsolationLimits limits; // seccomp only: no cgroup, no netns
    loader::IsolationPlan plan(limits);
    auto iso = restoreSamples(*proto, iters / 2, &plan);
    emit("restore_seccomp_p50_us", pct(iso, 50));
    emit("restore_seccomp_p99_us", pct(iso, 99));
    writeSamples(samplesDir, "restore_seccomp", iso);
  }
  {
    // The same with the allow-list installed once in a zygote (a process
    // forked from this one, so the filter does not stay on the driver); its
    // children load only the short deny program.
    pid_t zygote = fork();
    if (zygote == 0) {
      loader::IsolationLimits limits;
      loader::IsolationPlan plan(limits);
      if (!plan.applyInZygote())
        _exit(1);
      auto z = restoreSamples(*proto, iters / 2, &plan);
      gStamp[2] = uint64_t(pct(z, 50) * 1000);
      gStamp[3] = uint64_t(pct(z, 99) * 1000);
      _exit(0);
    }
    int status = 0;
    waitpid(zygote, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      emit("restore_zygote_seccomp_p50_us", double(gStamp[2]) / 1000);
      emit("restore_zygote_seccomp_p99_us", double(gStamp[3]) / 1000);
    }
  }
  {
    loader::IsolationLimits limits;
    limits.memoryBytes = 64ull << 20;
    limits.cpus = 1;
    limits.maxPids = 4;
    limits.timeout = std::chrono::milliseconds(10000);
    auto cg = cgroupSamples(*proto, std::max(10, iters / 20), limits);
    if (!cg.empty()) {
      emit("restore_cgroup_p50_us", pct(cg, 50));
      emit("restore_cgroup_p99_us", pct(cg, 99));
    }
    auto slot = reusedCgroupSamples(*proto, iters / 2, limits);
    if (!slot.empty()) {
      emit("restore_isolated_p50_us", pct(slot, 50));
      emit("restore_isolated_p99_us", pct(slot, 99));
      writeSamples(samplesDir, "restore_isolated", slot);
    }
  }
  {
    loader::IsolationLimits limits;
    limits.networkNamespace = true;
    limits.seccomp = false;
    loader::IsolationPlan plan(limits);
    auto ns = restoreSamples(*proto, std::max(10, iters / 20), &plan);
    emit("restore_netns_p50_us", pct(ns, 50));
  }

  std::vector<uint64_t> dispatch, reset;
  warm(*proto, iters, dispatch, reset);
  emit("warm_p50_us", pct(dispatch, 50));
  emit("warm_p99_us", pct(dispatch, 99));
  emit("warm_reset_p50_us", pct(reset, 50));

  emit("starts_per_s", startsPerSecond(*proto, iters, 4));

  Mem idle = idleFaaslets(*proto, 64);
  emit("rss_kb", idle.rssKb);
  emit("pss_kb", idle.pssKb);
  emit("uss_kb", idle.ussKb);
  Mem idleBig = idleFaaslets(*big, 4);
  emit("rss_256mb_kb", idleBig.rssKb);
  emit("pss_256mb_kb", idleBig.pssKb);
  emit("uss_256mb_kb", idleBig.ussKb);
  Mem self = smapsRollup(getpid());
  emit("proto_process_pss_kb", self.pssKb);

#ifdef FAASM_BENCH_HAVE_FAASLET
  if (!faasletFn.empty() && !faasletBigFn.empty())
    faasletRows(faasletFn, faasletBigFn, std::min(iters, 200)); // slow per call: see the report
#endif
  if (!runcBundle.empty())
    runcPeer(runcBundle, runcIdleBundle, runcIters);
  return 0;
}
