// Each test forks a child that misbehaves in one way; the parent (this test
// process, standing for the host) must survive and report what happened.
#include "faasm/isolation/Isolation.h"
#include "faasm/test/Skip.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace faasm::isolation;
using namespace std::chrono_literals;

namespace {

std::string uniqueName(const char* what) {
  return std::string("test-") + what + "-" + std::to_string(::getpid());
}

// IsolationPlan turns off a control the host does not permit, after one
// warning line on stderr saying why.
constexpr const char* kSeccompOff =
    "seccomp not available here: the isolation plan turned it off (its warning above says why)";
constexpr const char* kNetworkNamespaceOff = "network namespaces not available here: the isolation "
                                             "plan turned them off (its warning above says why)";

// Why the tests that make cgroups cannot run on this host; empty if they can.
std::string whyNoCgroups() {
  auto& m = CgroupManager::get();
  if (m.version() == CgroupVersion::None || !m.unavailableReason().empty())
    return "cgroups not usable here: " +
           (m.unavailableReason().empty() ? "no hierarchy found" : m.unavailableReason());
  if (::geteuid() != 0)
    return "making cgroups needs root; this runs as uid " + std::to_string(::geteuid());
  return "";
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

// Forks; the child runs `body` after applying `plan` and exits with its result.
template <typename F> pid_t forkChild(const IsolationPlan& plan, const Cgroup* cgroup, F body) {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    plan.applyInChild(cgroup);
    ::_exit(body());
  }
  return pid;
}

} // namespace

TEST_CASE("a memory bomb stops at the memory limit and the host survives") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  IsolationLimits limits;
  limits.memoryBytes = 64ull << 20;
  limits.seccomp = true;
  limits.timeout = 20s; // a backstop only: the limit must act first
  IsolationPlan plan(limits);
  auto cgroup = CgroupManager::get().create(uniqueName("membomb"), limits);
  REQUIRE(cgroup);
  pid_t pid = forkChild(plan, cgroup.get(), [] {
    // Allocate and touch 1 MiB at a time, for ever (2 GiB is far beyond the limit).
    for (int i = 0; i < 2048; ++i) {
      void* p =
          ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 3;
      std::memset(p, 0x5a, 1 << 20);
    }
    return 0; // not reached under the limit
  });
  ChildOutcome out = waitForChild(pid, limits.timeout, cgroup.get());
  CHECK_FALSE(out.timedOut);
  CHECK(out.signal() == SIGKILL);
  CHECK(out.memoryLimitHit);
  CHECK(out.describe() == "memory limit reached (killed)");
  CHECK(cgroup->memoryPeakBytes() <= limits.memoryBytes);
  auto dirs = cgroup->directories();
  cgroup.reset();
  for (auto& d : dirs)
    CHECK_FALSE(exists(d)); // removed afterwards
}

TEST_CASE("an endless loop is killed at the timeout and the host survives") {
  IsolationLimits limits;
  limits.timeout = 300ms;
  IsolationPlan plan(limits);
  pid_t pid = forkChild(plan, nullptr, [] {
    for (;;)
      asm volatile("" ::: "memory");
    return 0;
  });
  ChildOutcome out = waitForChild(pid, limits.timeout);
  CHECK(out.timedOut);
  CHECK(out.signal() == SIGKILL);
  CHECK(out.describe() == "timeout after 300 ms");
  CHECK(::kill(pid, 0) == -1); // reaped: nothing left behind
}

TEST_CASE("a child that ends in time is not killed") {
  IsolationLimits limits;
  limits.timeout = 10s;
  IsolationPlan plan(limits);
  pid_t pid = forkChild(plan, nullptr, [] { return 7; });
  ChildOutcome out = waitForChild(pid, limits.timeout);
  CHECK_FALSE(out.timedOut);
  CHECK(out.exitedNormally());
  CHECK(out.exitCode() == 7);
  CHECK(out.describe() == "exited with status 7");
}

TEST_CASE("the pids limit stops a fork bomb") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  IsolationLimits limits;
  limits.maxPids = 8;
  limits.seccomp = false; // the filter forbids fork itself; this tests the cgroup
  limits.timeout = 20s;
  IsolationPlan plan(limits);
  auto cgroup = CgroupManager::get().create(uniqueName("forkbomb"), limits);
  REQUIRE(cgroup);
  pid_t pid = forkChild(plan, cgroup.get(), [] {
    // Fork sleeping children until fork fails; report how many were made.
    int made = 0;
    for (; made < 64; ++made) {
      pid_t c = ::fork();
      if (c < 0) break;
      if (c == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    return made;
  });
  ChildOutcome out = waitForChild(pid, limits.timeout, cgroup.get());
  REQUIRE(WIFEXITED(out.status));
  CHECK(out.exitCode() == 7); // 8 pids: the child itself and 7 more
  cgroup.reset();             // kills the sleepers and removes the group
}

TEST_CASE("seccomp kills a child that opens an internet socket") {
  IsolationLimits limits;
  IsolationPlan plan(limits);
  if (!plan.limits().seccomp) FAASM_SKIP_TEST(kSeccompOff);
  pid_t pid =
      forkChild(plan, nullptr, [] { return ::socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; });
  ChildOutcome out = waitForChild(pid, 10s);
  CHECK(out.signal() == SIGSYS);
  CHECK(out.describe() == "killed by seccomp (forbidden system call)");
}

TEST_CASE("seccomp kills a child that calls ptrace, fork or execve") {
  IsolationLimits limits;
  IsolationPlan plan(limits);
  if (!plan.limits().seccomp) FAASM_SKIP_TEST(kSeccompOff);
  for (int which = 0; which < 3; ++which) {
    CAPTURE(which);
    pid_t pid = forkChild(plan, nullptr, [which] {
      if (which == 0)
        ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
      else if (which == 1)
        ::fork();
      else
        ::execl("/bin/true", "true", nullptr);
      return 0;
    });
    ChildOutcome out = waitForChild(pid, 10s);
    CHECK(out.signal() == SIGSYS);
  }
}

TEST_CASE("seccomp refuses executable memory but allows what the runtime does") {
  IsolationLimits limits;
  IsolationPlan plan(limits);
  if (!plan.limits().seccomp) FAASM_SKIP_TEST(kSeccompOff);
  pid_t ok = forkChild(plan, nullptr, [] {
    // The runtime's calls: reserve, commit, write, trap-stack, release.
    void* p =
        ::mmap(nullptr, 1 << 24, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED || ::mprotect(p, 1 << 16, PROT_READ | PROT_WRITE) != 0) return 1;
    std::memset(p, 1, 1 << 16);
    if (::madvise(p, 1 << 16, MADV_DONTNEED) != 0 || static_cast<char*>(p)[0] != 0) return 2;
    stack_t ss{};
    if (::sigaltstack(nullptr, &ss) != 0) return 3;
    if (::write(2, "", 0) != 0 || ::munmap(p, 1 << 24) != 0) return 4;
    return 0;
  });
  ChildOutcome out = waitForChild(ok, 10s);
  CHECK(out.exitedNormally());
  CHECK(out.exitCode() == 0);

  pid_t bad = forkChild(plan, nullptr, [] {
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 1 : 0;
  });
  out = waitForChild(bad, 10s);
  CHECK(out.signal() == SIGSYS);
}

TEST_CASE("a network namespace has only loopback") {
  IsolationLimits limits;
  limits.networkNamespace = true;
  limits.seccomp = false;
  IsolationPlan plan(limits);
  if (!plan.limits().networkNamespace) FAASM_SKIP_TEST(kNetworkNamespaceOff);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = forkChild(plan, nullptr, [&fds] {
    ::close(fds[0]);
    std::ifstream in("/proc/self/net/dev");
    std::string line, names;
    std::getline(in, line);
    std::getline(in, line); // two header lines
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string name;
      fields >> name;
      names += name;
    }
    ssize_t n = ::write(fds[1], names.data(), names.size());
    return n == static_cast<ssize_t>(names.size()) ? 0 : 1;
  });
  ::close(fds[1]);
  char buf[512];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  ChildOutcome out = waitForChild(pid, 10s);
  CHECK(out.exitCode() == 0);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) == "lo:");
}

TEST_CASE("cpu quota and memory limit are written to the cgroup") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  IsolationLimits limits;
  limits.cpus = 0.25;
  limits.memoryBytes = 32ull << 20;
  auto cgroup = CgroupManager::get().create(uniqueName("files"), limits);
  REQUIRE(cgroup);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
  };
  bool sawCpu = false, sawMemory = false;
  for (auto& d : cgroup->directories()) {
    if (cgroup->version() == CgroupVersion::V2) {
      sawCpu = read(d + "/cpu.max") == "25000 100000";
      sawMemory = read(d + "/memory.max") == std::to_string(limits.memoryBytes);
    } else {
      if (exists(d + "/cpu.cfs_quota_us")) sawCpu = read(d + "/cpu.cfs_quota_us") == "25000";
      if (exists(d + "/memory.limit_in_bytes"))
        sawMemory = read(d + "/memory.limit_in_bytes") == std::to_string(limits.memoryBytes);
    }
  }
  CHECK(sawCpu);
  CHECK(sawMemory);
}

TEST_CASE("a parent-side addProcess moves a child into the cgroup") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  IsolationLimits limits;
  limits.maxPids = 4;
  auto cgroup = CgroupManager::get().create(uniqueName("move"), limits);
  REQUIRE(cgroup);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  CHECK(cgroup->addProcess(pid));
  std::ifstream in(cgroup->directories().front() + "/cgroup.procs");
  pid_t listed = 0;
  in >> listed;
  CHECK(listed == pid);
  cgroup->killAll(); // kills the paused child
  int status = 0;
  CHECK(::waitpid(pid, &status, 0) == pid);
  CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE(
    "in a container's view of cgroup v1 (its own group mounted at the top), groups are made") {
  // What runc and podman show a container on a v1 host: each controller's
  // mount has the container's group at its top (mountinfo's root field is
  // its path) while /proc/self/cgroup names the full path. Here: a child
  // moves into a fresh memory group and bind-mounts just that group in a
  // mount namespace of its own, as a runtime would.
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  if (CgroupManager::get().version() != CgroupVersion::V1) FAASM_SKIP_TEST("needs cgroup v1");
  std::string ownMemoryDir;
  for (const std::string& dir : CgroupManager::get().parentDirectories()) {
    std::string up = dir.substr(0, dir.rfind('/'));
    if (exists(up + "/memory.limit_in_bytes")) ownMemoryDir = up;
  }
  if (ownMemoryDir.empty()) FAASM_SKIP_TEST("no cgroup v1 memory controller");
  std::string container = ownMemoryDir + "/" + uniqueName("container");
  REQUIRE((::mkdir(container.c_str(), 0755) == 0 || errno == EEXIST));
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    char top[] = "/tmp/faasm-cgroup-view.XXXXXX";
    if (!::mkdtemp(top)) ::_exit(10);
    std::string mountPoint = std::string(top) + "/memory";
    std::ofstream(container + "/cgroup.procs") << ::getpid() << std::flush;
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) ||
        ::mkdir(mountPoint.c_str(), 0755) != 0 ||
        ::mount(container.c_str(), mountPoint.c_str(), nullptr, MS_BIND, nullptr) != 0)
      ::_exit(11);
    int result = 0;
    {
      CgroupManager view(top, "faasm-test");
      IsolationLimits limits;
      limits.memoryBytes = 32ull << 20;
      auto group = view.version() == CgroupVersion::V1 ? view.create("leaf", limits) : nullptr;
      if (!group)
        result = 1;
      else if (!exists(mountPoint + "/faasm-test/leaf/memory.limit_in_bytes"))
        result = 2;
    }
    ::rmdir((mountPoint + "/faasm-test").c_str());
    ::umount(mountPoint.c_str());
    ::rmdir(mountPoint.c_str());
    ::rmdir(top);
    ::_exit(result);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  for (int attempt = 0; attempt < 200 && ::rmdir(container.c_str()) != 0 && errno == EBUSY;
       ++attempt)
    ::usleep(1000);
  REQUIRE(WIFEXITED(status));
  // 1: no group could be made (the own path was not taken relative to the mount's root).
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a cgroup v2 hierarchy without controllers is refused with a reason") {
  // On this v1-hybrid host the unified hierarchy has no controllers; on a pure
  // v2 host the manager must find them.
  CgroupManager v2("/sys/fs/cgroup/unified", "faasm-test");
  if (v2.version() == CgroupVersion::None) CHECK_FALSE(v2.unavailableReason().empty());
  CgroupManager none("/nonexistent", "faasm");
  CHECK(none.version() == CgroupVersion::None);
  CHECK(none.unavailableReason() == "no cgroup hierarchy is mounted at /nonexistent");
  IsolationLimits limits;
  limits.memoryBytes = 1 << 20;
  CHECK(none.create("x", limits) == nullptr); // warns once, does not fail
}

TEST_CASE("the allow-list names no call that creates processes, sockets or namespaces") {
  for (const auto& name : IsolationPlan::allowedSyscalls()) {
    CAPTURE(name);
    for (const char* forbidden :
         {"clone", "clone3", "fork", "vfork", "execve", "execveat", "socket", "ptrace", "unshare",
          "setns", "seccomp", "prctl", "kill", "tgkill", "mount", "bpf"})
      CHECK(name != forbidden);
  }
}

TEST_CASE("one cgroup serves successive Faaslets: a memory bomb, then a child within the limit") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  IsolationLimits limits;
  limits.memoryBytes = 48ull << 20;
  limits.timeout = 20s;
  IsolationPlan plan(limits);
  auto cgroup = plan.createCgroup(uniqueName("reuse"));
  REQUIRE(cgroup);
  auto touch = [](size_t mib) {
    for (size_t i = 0; i < mib; ++i) {
      void* p =
          ::mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 3;
      std::memset(p, 0x5a, 1 << 20);
    }
    return 0;
  };
  pid_t bomb = forkChild(plan, cgroup.get(), [&] { return touch(1024); });
  ChildOutcome first = waitForChild(bomb, limits.timeout, cgroup.get());
  CHECK(first.memoryLimitHit);
  CHECK(first.signal() == SIGKILL);
  pid_t modest = forkChild(plan, cgroup.get(), [&] { return touch(8); });
  ChildOutcome second = waitForChild(modest, limits.timeout, cgroup.get());
  CHECK_FALSE(second.memoryLimitHit);
  CHECK(second.exitedNormally());
  CHECK(second.exitCode() == 0);
}

TEST_CASE("a runaway grandchild (a zygote's Faaslet) is killed at the timeout") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t zygote = ::fork();
  REQUIRE(zygote >= 0);
  if (zygote == 0) {
    ::close(fds[0]);
    pid_t faaslet = ::fork();
    if (faaslet == 0)
      for (;;)
        asm volatile("" ::: "memory");
    if (::write(fds[1], &faaslet, sizeof faaslet) != sizeof faaslet) ::_exit(1);
    int status = 0;
    ::waitpid(faaslet, &status, 0);
    ::_exit(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 2);
  }
  ::close(fds[1]);
  pid_t faaslet = 0;
  REQUIRE(::read(fds[0], &faaslet, sizeof faaslet) == sizeof faaslet);
  ::close(fds[0]);
  CHECK(enforceTimeout(faaslet, 200ms));
  ChildOutcome z = waitForChild(zygote, 10s);
  CHECK(z.exitCode() == 0); // the zygote saw its Faaslet die of SIGKILL
}

TEST_CASE("a plan made where SIGCHLD is ignored still probes correctly") {
  struct sigaction ign{}, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGCHLD, &ign, &old);
  IsolationLimits limits;
  IsolationPlan plan(limits);
  ::sigaction(SIGCHLD, &old, nullptr);
  CHECK(plan.limits().seccomp); // seccomp works on this host; a lost status would turn it off
}

TEST_CASE("a confined zygote forks Faaslets that seccomp still confines") {
  IsolationLimits limits;
  IsolationPlan probe(limits);
  if (!probe.limits().seccomp) FAASM_SKIP_TEST(kSeccompOff);
  // The zygote is a child of the test so that its confinement does not stay
  // on the test process. It reports by exit code which check failed (0: none).
  pid_t zygote = ::fork();
  REQUIRE(zygote >= 0);
  if (zygote == 0) {
    IsolationPlan plan(limits);
    if (!plan.confineZygote({})) ::_exit(10);
    auto faaslet = [&plan](int what) {
      pid_t pid = ::fork();
      if (pid < 0) return -1;
      if (pid == 0) {
        plan.applyInFaaslet(nullptr, 0);
        if (what == 0) ::_exit(::write(2, "", 0) == 0 ? 0 : 1); // allowed
        if (what == 1) ::socket(AF_INET, SOCK_STREAM, 0);       // forbidden by the zygote's list
        if (what == 2) ::_exit(::fork() < 0 && errno == EAGAIN ? 0 : 1); // no process left to it
        if (what == 3) ::unshare(CLONE_NEWNET);
        ::_exit(0);
      }
      int status = 0;
      ::waitpid(pid, &status, 0);
      return status;
    };
    for (int what : {0, 2}) {
      int status = faaslet(what);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ::_exit(11 + what);
    }
    for (int what : {1, 3}) {
      int status = faaslet(what);
      if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS) ::_exit(11 + what);
    }
    // The zygote itself may not exec either.
    ::execl("/bin/true", "true", nullptr);
    ::_exit(20);
  }
  ChildOutcome out = waitForChild(zygote, 20s);
  CHECK(out.signal() == SIGSYS); // killed at execl, after every check passed
  CHECK(out.exitCode() == -1);
}

TEST_CASE("a group made again under the same name takes the new limits, up or down") {
  if (std::string why = whyNoCgroups(); !why.empty()) FAASM_SKIP_TEST(why);
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    return s;
  };
  const std::string name = uniqueName("relimit");
  // Successive handles to the same directory, as a restarted worker would
  // make; all are destroyed at the end (the first removes the directory).
  std::vector<std::unique_ptr<Cgroup>> handles;
  for (uint64_t mib : {32, 96, 16}) {
    IsolationLimits limits;
    limits.memoryBytes = mib << 20;
    handles.push_back(CgroupManager::get().create(name, limits));
    REQUIRE(handles.back());
    for (auto& d : handles.back()->directories())
      if (exists(d + "/memory.limit_in_bytes"))
        CHECK(read(d + "/memory.limit_in_bytes") == std::to_string(limits.memoryBytes));
  }
}

TEST_CASE("network grant options: rates and allowed networks are checked, one line each") {
  IsolationLimits limits;
  CHECK(checkNetworkLimits(limits).empty()); // 100mbit, nothing allowed
  for (const char* rate : {"8mbit", "500kbit", "1gbit", "64000bit", "2.5mbit"}) {
    limits.netRate = rate;
    CHECK_MESSAGE(checkNetworkLimits(limits).empty(), rate);
  }
  for (const char* rate :
       {"", "fast", "10", "10mbps", "-1mbit", "1bit", "999gbit", "1e9bit", "10mbit; reboot"}) {
    limits.netRate = rate;
    std::string e = checkNetworkLimits(limits);
    CHECK_MESSAGE(e.rfind("--net-rate ", 0) == 0, rate);
    CHECK(e.find('\n') == std::string::npos);
  }
  limits.netRate = "100mbit";
  limits.netAllow = {"10.0.0.0/8", "192.0.2.7", "192.0.2.7/32", "0.0.0.0/0"};
  CHECK(checkNetworkLimits(limits).empty());
  for (const char* cidr : {"10.0.0.0/33", "10.0.0/8", "2001:db8::/32", "10.0.0.0/", "10.0.0.0/-1",
                           "10.0.0.0/8 dev lo", "host"}) {
    limits.netAllow = {cidr};
    CHECK_MESSAGE(checkNetworkLimits(limits).rfind("--net-allow ", 0) == 0, cidr);
  }
}
