// The Faaslet's seccomp allow-list, compiled once in the parent (libseccomp),
// installed in each child with two system calls.
//
// SUBTLE: everything in applyInChild() and in the SIGSYS handler runs in a
// freshly forked child, possibly of a multi-threaded parent, and the handler
// runs at an arbitrary point of the runtime: no allocation, no locks, no
// stdio. The handler reports the forbidden call with write(2) only, then
// makes the process die of SIGSYS by issuing a call that is never allowed
// while SIGSYS is blocked (the kernel then resets the action to the default,
// which kills the whole process); RLIMIT_CORE is 0 so no core is written.
#include "IsolationPrivate.h"
#include "faasm/isolation/Isolation.h"

#include <seccomp.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::isolation {

namespace {

// Why each entry is here: docs/Isolation.md. "observed" entries were seen
// with strace in the guest-running phase of faasm-run on the samples (hello,
// records, shapes); the others are the host-interface calls that WASI
// preview1 and the Faasm API map onto (files inside preopens, state, chaining
// over descriptors the parent opened). Nothing that creates a process, a
// socket, or changes credentials, namespaces or the filter is here.
const char* const kAllowed[] = {
    // runtime: memory (observed); mmap/mprotect without PROT_EXEC, see below
    "brk",
    "munmap",
    "mremap",
    "madvise",
    // runtime: signals and traps (observed)
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "sigaltstack",
    "restart_syscall",
    // runtime: locks, identity, exit (observed: futex, exit_group)
    "futex",
    "getpid",
    "gettid",
    "exit",
    "exit_group",
    "sched_yield",
    // WASI stdio and fd_* (observed: writev, newfstatat); fcntl and
    // fallocate only in the forms below. Every descriptor a Faaslet holds
    // was opened inside its grants (Landlock), so pwrite & co. cannot reach
    // anything else.
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "lseek",
    "close",
    "fstat",
    "newfstatat",
    "fsync",
    "fdatasync",
    "ftruncate",
    "fadvise64",
    // WASI path_* inside preopens: openat2 with RESOLVE_BENEATH relative to
    // a preopen (host-interface/wasi), openat for fd_readdir and the state
    // tier. Seccomp cannot see a path; Landlock confines them to the grants.
    // linkat (path_link) and utimensat (fd_/path_filestat_set_times) only in
    // the forms below. No symlinkat (path_symlink answers EPERM), fchmod,
    // truncate or chmod by path: WASI here makes no such call.
    "openat",
    "openat2",
    "getdents64",
    "mkdirat",
    "unlinkat",
    "renameat",
    "readlinkat",
    // WASI clocks, random, poll_oneoff, sched_yield
    "clock_gettime",
    "clock_getres",
    "clock_nanosleep",
    "nanosleep",
    "gettimeofday",
    "getrandom",
    "ppoll",
    "poll",
    "pselect6",
    // Faasm API: state locks, and chaining over descriptors the parent
    // opened (descriptor passing needs sendmsg/recvmsg; no socket creation)
    "flock",
    "sendmsg",
    "recvmsg",
    // WASI sock_accept and sock_shutdown, on sockets the embedder pre-opened
    // (sock_recv/sock_send use recvmsg/sendmsg above). Neither makes a
    // socket or reaches an address: accept4 needs a listening socket the
    // process holds, shutdown acts on one it holds (it could close it anyway).
    "accept4",
    "shutdown",
};

// Never allowed; the SIGSYS handler issues it to die of SIGSYS.
constexpr long kDeathSyscall = SYS_reboot;

// Syscall names for the report, filled in the parent (the child only reads).
constexpr int kMaxSyscall = 512;
char gSyscallNames[kMaxSyscall][24];

void sigsysHandler(int, siginfo_t* info, void*) {
  char buf[160];
  int nr = info->si_syscall;
  const char* name =
      (nr >= 0 && nr < kMaxSyscall && gSyscallNames[nr][0]) ? gSyscallNames[nr] : "?";
  // Hand-made formatting: snprintf is not async-signal-safe.
  char digits[16];
  int d = 0;
  unsigned v = nr < 0 ? 0u : static_cast<unsigned>(nr);
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v && d < 15);
  size_t len = 0;
  auto put = [&](const char* s) {
    while (*s && len < sizeof buf - 1)
      buf[len++] = *s++;
  };
  put("faasm-run: seccomp: forbidden system call ");
  while (d > 0 && len < sizeof buf - 1)
    buf[len++] = digits[--d];
  put(" (");
  put(name);
  put("), faaslet killed\n");
  ssize_t ignored = ::write(2, buf, len);
  (void)ignored;
  ::syscall(kDeathSyscall, 0, 0, 0, 0);
  // Not reached: the kernel kills the process for the blocked SIGSYS.
  ::syscall(SYS_exit_group, 128 + SIGSYS);
}

enum class FilterKind {
  Faaslet, // the allow-list, installed in each child
  Zygote,  // the allow-list plus what a zygote needs to fork Faaslets
  Deny,    // a child of a filtered zygote: take those extras away again
};

// The calls a zygote filter adds to the allow-list, which the Deny program
// takes away from its children.
// sched_setaffinity (on itself) and getcpu: the zygote pins itself to its CPU
// around each fork so that the Faaslet starts there (loader/faaslet Zygote.cpp).
// prctl(PR_SET_PDEATHSIG) and getppid: a new Faaslet ties its life to the
// zygote's before it takes these away (protocol::dieWithParent).
const char* const kZygoteOnly[] = {"clone",       "clone3", "fork",    "vfork",
                                   "seccomp",     "wait4",  "waitid",  "sched_setaffinity",
                                   "getcpu",      "prctl",  "getppid", "sched_getaffinity",
                                   "memfd_create"};

std::vector<uint8_t> exportProgram(scmp_filter_ctx ctx, std::string& outError) {
  std::vector<uint8_t> program;
  int fd = ::memfd_create("faasm-seccomp", MFD_CLOEXEC);
  if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0) {
    outError = "seccomp_export_bpf failed";
  } else {
    off_t size = ::lseek(fd, 0, SEEK_END);
    program.resize(static_cast<size_t>(size));
    if (::pread(fd, program.data(), program.size(), 0) != size) {
      outError = "cannot read the exported filter";
      program.clear();
    }
  }
  if (fd >= 0) ::close(fd);
  return program;
}

// The program of a filter whose rules were added with result `rc` (the first
// failure, or >= 0); releases the filter either way.
std::vector<uint8_t> finishProgram(scmp_filter_ctx ctx, int rc, std::string& outError) {
  std::vector<uint8_t> program;
  if (rc < 0)
    outError = std::string("seccomp_rule_add failed: ") + std::strerror(-rc);
  else
    program = exportProgram(ctx, outError);
  seccomp_release(ctx);
  return program;
}

std::vector<uint8_t> compileDeny(std::string& outError) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    outError = "seccomp_init failed";
    return {};
  }
  int rc = 0;
  for (const char* name : kZygoteOnly) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr != __NR_SCMP_ERROR && rc >= 0) rc = seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0);
  }
  return finishProgram(ctx, rc, outError);
}

std::vector<uint8_t> compileFilter(FilterKind kind, std::string& outError) {
  if (kind == FilterKind::Deny) return compileDeny(outError);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (!ctx) {
    outError = "seccomp_init failed";
    return {};
  }
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  // A binary tree instead of a linear chain: the kernel emulates the program
  // for every syscall number when it is installed (the action cache), so a
  // short path per number makes installing cheaper, not only each call.
  if (rc >= 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  for (const char* name : kAllowed) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue; // not on this architecture (e.g. renameat on arm64)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
    if (rc < 0) break;
  }
  // Memory may be mapped and protected, never made executable: the code is
  // mapped by the Proto-Faaslet before fork. Anonymous or descriptor-backed
  // (state objects are MAP_SHARED of a descriptor from the parent).
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  // No kill/tgkill: the filter is compiled before fork, so "only to itself"
  // cannot be expressed; abort() in a Faaslet dies of SIGSYS at tgkill instead
  // of SIGABRT, with the report.
  // prlimit64 only to read limits (new_limit == NULL).
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, SCMP_A2(SCMP_CMP_EQ, 0));
  // fcntl: descriptor and status flags (WASI fd_fdstat_*), open file
  // description locks (the state tier), and F_DUPFD_CLOEXEC, with which a
  // linear memory keeps its own descriptor for each state mapping (a copy of
  // one the process holds already; RLIMIT_NOFILE bounds the count). No plain
  // F_DUPFD (a copy that would survive exec), F_SETOWN, leases or notify.
  for (int cmd : {F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW,
                  F_DUPFD_CLOEXEC})
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
                            SCMP_A1(SCMP_CMP_EQ, scmp_datum_t(cmd)));
  // fallocate: plain allocation (WASI fd_allocate), no punching or collapsing.
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fallocate), 1, SCMP_A1(SCMP_CMP_EQ, 0));
  // linkat with flags 0 (WASI path_link): never AT_SYMLINK_FOLLOW (a final
  // symlink is linked as itself) nor AT_EMPTY_PATH. Landlock confines both
  // names to the grants (a link into a grant from outside is EXDEV).
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(linkat), 1, SCMP_A4(SCMP_CMP_EQ, 0));
  // utimensat without a path (futimens: WASI fd_/path_filestat_set_times set
  // times through a descriptor opened beneath a preopen). Landlock does not
  // govern times, so a path here would reach any file the uid may touch.
  if (rc >= 0)
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(utimensat), 1, SCMP_A1(SCMP_CMP_EQ, 0));
  if (kind == FilterKind::Zygote && rc >= 0) {
    // fork() is clone with neither a shared address space nor new namespaces.
    // A Faaslet inherits this, but its RLIMIT_NPROC of 0 makes fork fail.
    const uint64_t forbiddenClone = CLONE_VM | CLONE_THREAD | CLONE_NEWNS | CLONE_NEWUTS |
                                    CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |
                                    CLONE_NEWCGROUP;
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, forbiddenClone, 0));
    // clone3's flags are behind a pointer: ENOSYS makes glibc fall back to clone.
    if (rc >= 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(seccomp), 1,
                            SCMP_A0(SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER));
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_setaffinity), 1,
                            SCMP_A0(SCMP_CMP_EQ, 0));
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sched_getaffinity), 1,
                            SCMP_A0(SCMP_CMP_EQ, 0));
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
                            SCMP_A0(SCMP_CMP_EQ, PR_SET_PDEATHSIG));
    // The snapshot's memfd, made after initialisation.
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(memfd_create), 1,
                            SCMP_A1(SCMP_CMP_EQ, MFD_CLOEXEC));
    // A Faaslet's own setrlimit(RLIMIT_NPROC) (applyInFaaslet); lowering the
    // hard limit cannot be undone without CAP_SYS_RESOURCE.
    if (rc >= 0)
      rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, SCMP_A0(SCMP_CMP_EQ, 0),
                            SCMP_A1(SCMP_CMP_EQ, RLIMIT_NPROC));
    for (const char* name : {"set_robust_list", "wait4", "waitid", "getcpu", "getppid"})
      if (rc >= 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(name), 0);
  }
  return finishProgram(ctx, rc, outError);
}

// A child of a filtered zygote: no_new_privs, the SIGSYS handler and
// RLIMIT_CORE are inherited; only the extra program is loaded.
int installStacked(const std::vector<uint8_t>& program) noexcept {
  struct sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(program.data()));
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0 ? 0 : errno;
}

void fillSyscallNames() {
  static bool done = false;
  if (done) return;
  done = true;
  for (int nr = 0; nr < kMaxSyscall; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    if (name) {
      std::snprintf(gSyscallNames[nr], sizeof gSyscallNames[nr], "%s", name);
      std::free(name);
    }
  }
}

// Installs the filter in the calling process. Returns 0 or errno.
int installFilter(const std::vector<uint8_t>& program) noexcept {
  struct sigaction sa{};
  sa.sa_sigaction = sigsysHandler;
  sa.sa_flags = SA_SIGINFO; // SIGSYS stays blocked in the handler: see the banner
  if (::sigaction(SIGSYS, &sa, nullptr) != 0) return errno;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGSYS);
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
  struct rlimit noCore{0, 0};
  ::setrlimit(RLIMIT_CORE, &noCore);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  struct sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(program.data()));
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return errno;
  return 0;
}

// Which child-side controls this host permits, probed once per process so
// that a refusal warns once in the parent and never in every child.
struct ChildSupport {
  bool probedNet = false, netOk = false;
  bool probedSeccomp = false, seccompOk = false;
};
ChildSupport gSupport;

} // namespace

IsolationPlan::IsolationPlan(const IsolationLimits& limits) : limits_(limits) {
  if (limits_.seccomp || limits_.landlock) detail::probePrivilege(limits_);
  if (limits_.networkNamespace) {
    if (!gSupport.probedNet) {
      gSupport.probedNet = true;
      int err = detail::probeInChild([] { return ::unshare(CLONE_NEWNET) == 0 ? 0 : errno; });
      gSupport.netOk = err == 0;
      if (err)
        warnOnce("network namespace", std::string("unshare(CLONE_NEWNET): ") + std::strerror(err));
    }
    limits_.networkNamespace = gSupport.netOk;
  }
  if (limits_.seccomp) {
    std::string error;
    bpf_ = compileFilter(FilterKind::Faaslet, error);
    if (bpf_.empty()) {
      warnOnce("seccomp filter", error);
    } else {
      fillSyscallNames();
      if (!gSupport.probedSeccomp) {
        gSupport.probedSeccomp = true;
        const auto& program = bpf_;
        int err = detail::probeInChild([&program] { return installFilter(program); });
        gSupport.seccompOk = err == 0;
        if (err) warnOnce("seccomp filter", std::string("cannot install: ") + std::strerror(err));
      }
      if (!gSupport.seccompOk) bpf_.clear();
    }
    limits_.seccomp = !bpf_.empty();
  }
}

IsolationPlan::~IsolationPlan() = default;

std::unique_ptr<Cgroup> IsolationPlan::createCgroup(std::string_view name) const {
  return CgroupManager::get().create(name, limits_);
}

void IsolationPlan::applyInChild(const Cgroup* cgroup) const noexcept {
  if (cgroup) {
    if (int err = cgroup->enterFromChild()) {
      char msg[128];
      int n = std::snprintf(
          msg, sizeof msg,
          "faasm-run: warning: cgroup limits not enforced: cannot enter the cgroup (errno %d)\n",
          err);
      ssize_t ignored = ::write(2, msg, static_cast<size_t>(n));
      (void)ignored;
    }
  }
  if (limits_.networkNamespace) ::unshare(CLONE_NEWNET); // probed in the constructor
  if (zygoteFiltered_)
    installStacked(denyBpf_);
  else if (limits_.seccomp)
    installFilter(bpf_); // probed in the constructor
}

bool IsolationPlan::applyInZygote() {
  if (!limits_.seccomp || zygoteFiltered_) return zygoteFiltered_;
  std::string error;
  auto zygote = compileFilter(FilterKind::Zygote, error);
  if (!zygote.empty()) denyBpf_ = compileFilter(FilterKind::Deny, error);
  if (zygote.empty() || denyBpf_.empty()) {
    warnOnce("zygote seccomp filter", error + "; each Faaslet installs the whole filter instead");
    return false;
  }
  if (int err = installFilter(zygote)) {
    warnOnce("zygote seccomp filter", std::string("cannot install: ") + std::strerror(err) +
                                          "; each Faaslet installs the whole filter instead");
    return false;
  }
  zygoteFiltered_ = true;
  return true;
}

const std::vector<std::string>& IsolationPlan::allowedSyscalls() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out(std::begin(kAllowed), std::end(kAllowed));
    out.insert(out.end(), {"mmap (no PROT_EXEC)", "mprotect (no PROT_EXEC)",
                           "prlimit64 (read only)", "fcntl (flags, OFD locks, F_DUPFD_CLOEXEC)",
                           "fallocate (mode 0)", "linkat (flags 0)", "utimensat (no path)"});
    return out;
  }();
  return names;
}

} // namespace faasm::isolation
