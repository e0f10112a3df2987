// Confining a Faaslet process: a cgroup (memory, CPU, pids limits) on cgroup
// v1 or v2, an optional network namespace, a seccomp allow-list, and a
// wall-clock timeout enforced by the parent. See docs/Isolation.md.
//
// How a Faaslet uses it (the Proto-Faaslet is the parent):
//
//   IsolationPlan plan(limits);                   // once: detects cgroups, compiles seccomp
//   auto cgroup = plan.createCgroup("fn-42");     // per Faaslet, before fork; may be null
//   pid_t pid = fork();
//   if (pid == 0) { plan.applyInChild(cgroup.get()); ... run the guest ...; _exit(code); }
//   ChildOutcome out = waitForChild(pid, limits.timeout, cgroup.get());
//   if (!out.exitedNormally()) fprintf(stderr, "%s\n", out.describe().c_str());
//   // the cgroup is removed when `cgroup` is destroyed (remaining processes killed first)
//
// Where the host does not permit a control (not root, controller not mounted,
// EPERM), the first attempt prints one line to stderr,
//   "faasm-run: warning: <control> not enforced: <reason>"
// and the Faaslet runs without that control. Each control warns at most once
// per process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faasm::isolation {

struct IsolationLimits {
  uint64_t memoryBytes = 0;             // memory (and memory+swap) limit; 0: none
  double cpus = 0;                      // CPU quota in cores (0.5 = half a core); 0: none
  uint32_t maxPids = 0;                 // pids limit of the Faaslet's cgroup; 0: none
  bool networkNamespace = false;        // a fresh network namespace with only loopback (down)
  bool seccomp = true;                  // the syscall allow-list (docs/Isolation.md)
  std::chrono::milliseconds timeout{0}; // wall clock, enforced by the parent; 0: none

  bool needsCgroup() const { return memoryBytes != 0 || cpus > 0 || maxPids != 0; }
};

enum class CgroupVersion { None, V1, V2 };

// One Faaslet's cgroup: <root>/<controller>/faasm/<name> on v1 (one directory
// per controller in use), <root>/faasm/<name> on v2. The destructor kills any
// process still inside and removes the directories.
class Cgroup {
public:
  ~Cgroup();
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // Parent side: moves `pid` (a whole process) into the cgroup. False (and a
  // one-time warning) if the kernel refuses.
  bool addProcess(pid_t pid);
  // Child side, right after fork: moves the calling process in through file
  // descriptors the parent opened in createCgroup(), then closes the child's
  // copies (the parent's stay open for the next child).
  // Async-signal-safe. Returns 0 or an errno value.
  int enterFromChild() const noexcept;

  // Whether the kernel's OOM killer acted in this cgroup (v1 memory.oom_control
  // oom_kill, v2 memory.events oom_kill), or the memory limit was hit
  // (failcnt / memory.events max) when the kernel has no oom_kill counter,
  // since the group was made or last rearm()ed.
  bool memoryLimitHit() const;
  // Makes the group ready for the next Faaslet: one group may serve
  // successive children (each calls enterFromChild; the parent's descriptors
  // stay open), which saves the milliseconds of mkdir/rmdir per call.
  // waitForChild rearms the group it was given after reading the outcome.
  void rearm();
  // Peak memory use in bytes (v1 memory.max_usage_in_bytes, v2 memory.peak),
  // 0 if unknown.
  uint64_t memoryPeakBytes() const;
  // Kills every process in the cgroup (SIGKILL) and waits until it is empty.
  void killAll();

  const std::vector<std::string>& directories() const { return dirs_; }
  CgroupVersion version() const { return version_; }

private:
  friend class CgroupManager;
  Cgroup() = default;
  CgroupVersion version_ = CgroupVersion::None;
  std::vector<std::string> dirs_; // one per controller on v1, one on v2
  std::string memoryDir_;         // the directory holding the memory files
  std::vector<int> procsFds_;     // cgroup.procs of each directory, O_CLOEXEC not set
  uint64_t memoryEventsBaseline_ = 0;
};

// Detects the cgroup layout once (the first call), creates the faasm parent
// group and per-Faaslet groups under it.
class CgroupManager {
public:
  // The process-wide manager over /sys/fs/cgroup with parent group "faasm".
  static CgroupManager& get();
  // A manager over another mount point or parent name (tests).
  CgroupManager(std::string root, std::string parentName);

  CgroupVersion version() const { return version_; }
  const std::string& root() const { return root_; }
  // A sentence saying why cgroups cannot be used, empty if they can.
  const std::string& unavailableReason() const { return reason_; }

  // Creates the group and writes the limits that are set in `limits`. Returns
  // null if no limit needs a cgroup or none can be enforced (after the
  // one-time warning for each control that cannot). A control that fails
  // alone warns once and the group is still returned for the others.
  std::unique_ptr<Cgroup> create(std::string_view name, const IsolationLimits& limits);

private:
  bool createV2(Cgroup& group, const std::string& leaf, const IsolationLimits& limits);
  bool createV1(Cgroup& group, const std::string& leaf, const IsolationLimits& limits);
  std::string root_;
  std::string parentName_;
  CgroupVersion version_ = CgroupVersion::None;
  std::string reason_;
  // v1: controller name -> mount directory (memory, cpu, pids).
  std::vector<std::pair<std::string, std::string>> v1Mounts_;
};

// Everything a Faaslet child needs, prepared in the parent so that the child
// side allocates nothing: the compiled seccomp program, the syscall names for
// the report, the cgroup layout.
class IsolationPlan {
public:
  explicit IsolationPlan(const IsolationLimits& limits);
  ~IsolationPlan();
  IsolationPlan(const IsolationPlan&) = delete;
  IsolationPlan& operator=(const IsolationPlan&) = delete;

  const IsolationLimits& limits() const { return limits_; }

  // Per Faaslet, in the parent before fork: CgroupManager::get().create().
  std::unique_ptr<Cgroup> createCgroup(std::string_view name) const;

  // In the child right after fork, before any guest code runs: enters the
  // cgroup (if any), unshares the network namespace, then installs the
  // seccomp filter (last: from then on only the allow-list is available).
  // A control that fails prints its one-time warning (the child's first) and
  // is skipped. Async-signal-safe apart from that warning. A forbidden system
  // call afterwards prints "faasm-run: seccomp: forbidden system call <nr>
  // (<name>), faaslet killed" and the process dies of SIGSYS.
  void applyInChild(const Cgroup* cgroup) const noexcept;

  // Optional and cheaper: called once in the zygote (the Proto-Faaslet
  // process that forks Faaslets), after it has loaded and initialised the
  // function and before it forks any Faaslet. Installs the allow-list in the
  // zygote itself, plus what a zygote needs: fork (clone without CLONE_VM,
  // CLONE_THREAD or new namespaces), wait4/waitid, unshare(CLONE_NEWNET),
  // seccomp(SET_MODE_FILTER). applyInChild then only loads a short program
  // that takes those extras away (~0.1 ms instead of ~0.2-0.3 ms per
  // Faaslet). From here on the zygote itself cannot exec, open sockets, map
  // executable memory, or signal other processes. Returns false (one warning)
  // if it could not: applyInChild then installs the whole list as before.
  bool applyInZygote();

  // The system calls the filter allows, by name (docs/Isolation.md says why
  // each is there).
  static const std::vector<std::string>& allowedSyscalls();

private:
  IsolationLimits limits_;
  std::vector<uint8_t> bpf_;     // struct sock_filter[], empty if seccomp is off or failed
  std::vector<uint8_t> denyBpf_; // the children's program after applyInZygote
  bool zygoteFiltered_ = false;
};

// What became of a Faaslet child.
struct ChildOutcome {
  int status = 0;              // raw wait status
  bool timedOut = false;       // killed by waitForChild at the timeout
  bool memoryLimitHit = false; // the cgroup reports the memory limit acted
  std::chrono::milliseconds timeout{0};
  std::chrono::microseconds elapsed{0};

  bool exitedNormally() const; // exited (any code), no timeout, no limit hit
  int exitCode() const;        // WEXITSTATUS, or -1
  int signal() const;          // terminating signal, or 0
  // One line: "timeout after N ms", "memory limit reached (killed)",
  // "killed by seccomp (forbidden system call)", "killed by signal N (name)",
  // "exited with status N".
  std::string describe() const;
};

// Parent side: waits for `pid` (a child of the caller). With a non-zero
// timeout, a child still running when it expires is killed with SIGKILL (and
// so is its cgroup, if given) and reaped; timedOut is set. Uses a pidfd where
// the kernel has one, else polls waitpid. The caller must not ignore SIGCHLD
// (the kernel would reap the child and its status would be lost).
ChildOutcome waitForChild(pid_t pid, std::chrono::milliseconds timeout, Cgroup* cgroup = nullptr);

// For a Faaslet that is not the caller's child (forked by a zygote, which
// reaps it): blocks until process `pid` ends or `timeout` passes; at the
// timeout kills it with SIGKILL through a pidfd (a recycled pid is never
// hit) and everything in `cgroup`, and returns true. False: it ended in
// time (or was already gone). Its exit status goes to whoever reaps it.
bool enforceTimeout(pid_t pid, std::chrono::milliseconds timeout, Cgroup* cgroup = nullptr);

// Prints "faasm-run: warning: <control> not enforced: <reason>" once per
// control per process.
void warnOnce(std::string_view control, std::string_view reason);

} // namespace faasm::isolation
