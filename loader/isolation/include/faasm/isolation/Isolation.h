// Confining a Faaslet process: least privilege (no inherited descriptors, an
// unprivileged uid with no capabilities, its own network namespace, Landlock
// on the file system, no_new_privs, a seccomp allow-list), a cgroup (memory,
// CPU, pids limits) on cgroup v1 or v2, and a wall-clock timeout enforced by
// the parent. See docs/Isolation.md.
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
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faasm::isolation {

// Who Faaslets run as when the host process runs as root: nobody/nogroup
// unless configured (faasm-run --faaslet-uid/--faaslet-gid).
inline constexpr uint32_t kDefaultFaasletUid = 65534;
inline constexpr uint32_t kDefaultFaasletGid = 65534;

struct IsolationLimits {
  uint64_t memoryBytes = 0;             // memory (and memory+swap) limit; 0: none
  double cpus = 0;                      // CPU quota in cores (0.5 = half a core); 0: none
  uint32_t maxPids = 0;                 // pids limit of the Faaslet's cgroup; 0: none
  bool networkNamespace = false;        // applyInChild: a network namespace per child (costly)
  bool seccomp = true;                  // the syscall allow-list (docs/Isolation.md)
  std::chrono::milliseconds timeout{0}; // wall clock, enforced by the parent; 0: none
  // Least privilege (confineZygote). `network`: the function is granted the
  // network: as root its zygote gets a namespace of its own joined to the
  // host's by a veth pair, shaped to `netRate` (tc's syntax: 100mbit,
  // 500kbit) in each direction, with routes only to the IPv4 networks of
  // `netAllow` (none: nothing but its own loopback; docs/Networking.md).
  // Not root: it stays in the host's namespace, with a warning. Without
  // the grant: a namespace with nothing but loopback (down).
  bool network = false;
  std::string netRate = "100mbit";
  std::vector<std::string> netAllow;
  uint32_t uid = kDefaultFaasletUid; // identity of a confined process when the host runs as root
  uint32_t gid = kDefaultFaasletGid;
  bool landlock = true; // file system confined to the granted directories

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
  // The cgroup.procs descriptors a child enters through (one per directory).
  const std::vector<int>& procsDescriptors() const { return procsFds_; }
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
  // The directories faasm's groups are made in (one per v1 controller).
  std::vector<std::string> parentDirectories() const;

private:
  bool createV2(Cgroup& group, const std::string& leaf, const IsolationLimits& limits);
  bool createV1(Cgroup& group, const std::string& leaf, const IsolationLimits& limits);
  std::string root_;
  std::string parentName_;
  CgroupVersion version_ = CgroupVersion::None;
  std::string reason_;
  // v1: where each of memory, cpu and pids is mounted, and which group of the
  // hierarchy the mount shows at its top (mountinfo's root: "/" on a host, the
  // container's group in a container).
  struct V1Mount {
    std::string controller, mountPoint, root;
  };
  std::vector<V1Mount> v1Mounts_;
};

// What a confined process (a zygote, and through it its Faaslets) keeps: the
// directories it may use (Landlock), besides its own descriptors.
struct ProcessConfinement {
  // Host directories granted whole (the function's preopens): read, write,
  // create and remove files and directories beneath; never execute, make
  // devices, fifos, sockets or symlinks.
  std::vector<std::string> directories;
  // Host directories whose files it may read, write, create and truncate,
  // nothing else (the local state tier's objects).
  std::vector<std::string> fileDirectories;
  // Single files it may write and truncate (an output it was given).
  std::vector<std::string> writableFiles;
};

// Closes every descriptor but 0, 1, 2 and `keep`: a zygote keeps nothing its
// parent inherited (close_range; a loop over /proc/self/fd where the kernel
// lacks it). Call before anything that opens a descriptor of its own.
void closeInheritedDescriptors(const std::vector<int>& keep);

// Removes cgroups a faasm process left behind when it was killed: groups
// under the faasm parent whose owner (the pid and start time in the group's
// name) is gone; processes still inside are killed first. Groups of live
// owners are never touched. Returns how many were removed.
size_t removeStaleCgroups();

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

  // The seccomp step of confineZygote, alone: installs the allow-list in the
  // calling process plus what a zygote needs (fork: clone without CLONE_VM,
  // CLONE_THREAD or new namespaces; wait4/waitid; seccomp(SET_MODE_FILTER);
  // its own CPU set; PR_SET_PDEATHSIG; memfd_create for the snapshot;
  // prlimit64 for RLIMIT_NPROC). applyInChild then loads a short program
  // that takes those extras away; applyInFaaslet instead only takes fork
  // away (RLIMIT_NPROC). From here on the process cannot exec, open
  // sockets, map executable memory, or signal other processes. Returns false
  // (one warning) if it could not: applyInChild then installs the whole
  // list as before.
  bool applyInZygote();

  // Least privilege, once, in a zygote (the Proto-Faaslet process) before
  // any guest code runs (its initialisation included): its own network
  // namespace (unless limits().network), no capabilities in any set (the
  // bounding set dropped), the unprivileged uid/gid when running as root
  // (supplementary groups cleared), no_new_privs, Landlock confining the file
  // system to `what` (ABI probed at run time), and the zygote's seccomp
  // filter (the allow-list plus what forking Faaslets needs). Its Faaslets
  // inherit all of it; applyInFaaslet then only adds what is per Faaslet.
  // A control the host does not permit warns once (probed when the plan was
  // made) and is skipped. False if a step that should have worked failed
  // (the caller must then not run guest code).
  bool confineZygote(const ProcessConfinement& what);

  // In a Faaslet right after its confined zygote forked it: enters its
  // cgroup through the cgroup.procs descriptors `procsFds` (closed after),
  // and sets RLIMIT_NPROC to 0 (hard too), which takes away the fork the
  // zygote's filter allows. Async-signal-safe.
  void applyInFaaslet(const int* procsFds, size_t count) const noexcept;
  bool zygoteConfined() const { return zygoteFiltered_; }

  // The system calls the filter allows, by name (docs/Isolation.md says why
  // each is there).
  static const std::vector<std::string>& allowedSyscalls();

private:
  IsolationLimits limits_;
  std::vector<uint8_t> bpf_;     // struct sock_filter[], empty if seccomp is off or failed
  std::vector<uint8_t> denyBpf_; // the children's program after applyInZygote
  bool zygoteFiltered_ = false;
};

// Makes and removes the cgroups of one zygote, which cannot once it is
// confined (no root, no path outside its grants): a small process forked
// before the zygote confines itself, which keeps root, runs no guest code and
// answers the zygote over a socketpair. Groups are named after the zygote
// (pid and start time: `zygote-<pid>-<start>` for its own, slot 0, used while
// it initialises; `faaslet-<pid>-<start>-<slot>` for its Faaslets), so that
// removeStaleCgroups() can tell whose they are. When the zygote is gone (the
// socket closes) the keeper kills whatever is left in the groups, removes
// them and exits.
class CgroupKeeper {
public:
  // Forks the keeper from the calling process (the zygote-to-be, still
  // privileged). `onInitDeath(memoryLimitHit)` runs in the keeper if the
  // zygote ends before markInitialised(), so the cause reaches the
  // scheduler; `reportFd` is the descriptor it may use for that, the only
  // one the keeper keeps besides its socket. Null if it cannot fork.
  static std::unique_ptr<CgroupKeeper> start(const IsolationPlan& plan, int reportFd,
                                             std::function<void(bool)> onInitDeath);
  ~CgroupKeeper(); // closes the socket: the keeper cleans up and exits
  CgroupKeeper(const CgroupKeeper&) = delete;
  CgroupKeeper& operator=(const CgroupKeeper&) = delete;

  // A group with the plan's limits (slot 0: the zygote's own): its
  // cgroup.procs descriptors, one per directory; empty if none was made.
  std::vector<int> create(uint32_t slot);
  // After the Faaslet in `slot` ended: whether its memory limit acted since
  // the slot was last released; the slot is ready for the next Faaslet.
  bool release(uint32_t slot);
  // Initialisation is over: the keeper gives up `reportFd`.
  void markInitialised();

  int socket() const { return socket_; }
  pid_t pid() const { return pid_; }

private:
  CgroupKeeper() = default;
  int socket_ = -1;
  pid_t pid_ = -1;
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

// What is wrong with `limits`' netRate and netAllow (one line naming the
// option), or an empty string.
std::string checkNetworkLimits(const IsolationLimits& limits);

} // namespace faasm::isolation
