// Least privilege for a zygote and, by inheritance, its Faaslets: no
// inherited descriptors, its own network namespace, an unprivileged uid/gid
// with no capabilities, no_new_privs, Landlock on the file system.
//
// SUBTLE: the order of the steps is what makes them hold. The network
// namespace needs CAP_SYS_ADMIN, so it comes before the capabilities go;
// the bounding set can only be dropped with CAP_SETPCAP, so before setuid;
// setuid away from root clears the permitted and effective sets only
// because PR_SET_KEEPCAPS is off; Landlock needs no_new_privs; seccomp is
// last (IsolationPlan::applyInZygote) because it would forbid the calls the
// earlier steps make. setuid also clears the parent-death signal: the
// caller re-arms it afterwards.
#include "IsolationPrivate.h"
#include "faasm/isolation/Isolation.h"
#include "faasm/isolation/RawSyscall.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace faasm::isolation {

namespace detail {
PrivilegeSupport gPrivilege;
} // namespace detail

using detail::gPrivilege;

namespace {

// Landlock's ABI as of Linux 6.12 (ABI 6); Debian 12's headers stop at 3.
constexpr uint64_t kFsExecute = 1ull << 0, kFsWriteFile = 1ull << 1, kFsReadFile = 1ull << 2,
                   kFsReadDir = 1ull << 3, kFsRemoveDir = 1ull << 4, kFsRemoveFile = 1ull << 5,
                   kFsMakeChar = 1ull << 6, kFsMakeDir = 1ull << 7, kFsMakeReg = 1ull << 8,
                   kFsMakeSock = 1ull << 9, kFsMakeFifo = 1ull << 10, kFsMakeBlock = 1ull << 11,
                   kFsMakeSym = 1ull << 12, kFsRefer = 1ull << 13, kFsTruncate = 1ull << 14,
                   kFsIoctlDev = 1ull << 15;
constexpr uint64_t kNetBindTcp = 1ull << 0, kNetConnectTcp = 1ull << 1;
constexpr uint64_t kScopeAbstractUnix = 1ull << 0, kScopeSignal = 1ull << 1;

struct RulesetAttr {
  uint64_t handledFs;
  uint64_t handledNet; // ABI 4
  uint64_t scoped;     // ABI 6
};

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed;
  int32_t parentFd;
};
static_assert(sizeof(PathBeneathAttr) == 12);

constexpr int kRulePathBeneath = 1; // LANDLOCK_RULE_PATH_BENEATH

uint64_t handledFsFor(int abi) {
  uint64_t fs = kFsExecute | kFsWriteFile | kFsReadFile | kFsReadDir | kFsRemoveDir |
                kFsRemoveFile | kFsMakeChar | kFsMakeDir | kFsMakeReg | kFsMakeSock | kFsMakeFifo |
                kFsMakeBlock | kFsMakeSym;
  if (abi >= 2) fs |= kFsRefer;
  if (abi >= 3) fs |= kFsTruncate;
  if (abi >= 5) fs |= kFsIoctlDev;
  return fs;
}

// A granted directory: files and directories beneath may be read, written,
// made and removed, and moved within the grants; nothing is executed, no
// device, fifo, socket or symlink is made, no device ioctl.
constexpr uint64_t kDirectoryAccess = kFsWriteFile | kFsReadFile | kFsReadDir | kFsRemoveDir |
                                      kFsRemoveFile | kFsMakeDir | kFsMakeReg | kFsRefer |
                                      kFsTruncate;
// A user's state directory: its objects only (made, read, written, resized,
// removed, listed for the quota's recount), no subdirectory, link or device.
constexpr uint64_t kFileDirectoryAccess =
    kFsWriteFile | kFsReadFile | kFsMakeReg | kFsTruncate | kFsRemoveFile | kFsReadDir;

int addRule(int ruleset, const std::string& dir, uint64_t access, bool directory = true) {
  int fd = ::open(dir.c_str(), O_PATH | O_CLOEXEC | (directory ? O_DIRECTORY : 0));
  if (fd < 0) return errno == ENOENT ? 0 : errno; // nothing there to grant
  PathBeneathAttr rule{access, fd};
  int err = ::syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0) == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

// The ruleset, made while the process may still open every granted
// directory (before the uid changes: a grant under a directory only root may
// search is still a grant). Returns its descriptor, or -errno.
int makeRuleset(const ProcessConfinement& what, bool network, int abi) {
  RulesetAttr attr{};
  attr.handledFs = handledFsFor(abi);
  size_t size = sizeof attr.handledFs;
  if (abi >= 4) {
    // TCP bind/connect: none, unless the function is granted the network.
    attr.handledNet = network ? 0 : (kNetBindTcp | kNetConnectTcp);
    size = offsetof(RulesetAttr, scoped);
  }
  if (abi >= 6) {
    // No signal to a process outside the domain (the scheduler, anything on
    // the host), no abstract unix socket outside it.
    attr.scoped = kScopeAbstractUnix | kScopeSignal;
    size = sizeof attr;
  }
  int ruleset = int(::syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) return -errno;
  int err = 0;
  for (const std::string& dir : what.directories)
    if (!err) err = addRule(ruleset, dir, kDirectoryAccess & attr.handledFs);
  for (const std::string& dir : what.fileDirectories)
    if (!err) err = addRule(ruleset, dir, kFileDirectoryAccess & attr.handledFs);
  for (const std::string& file : what.writableFiles)
    if (!err) err = addRule(ruleset, file, (kFsWriteFile | kFsTruncate) & attr.handledFs, false);
  if (err) {
    ::close(ruleset);
    return -err;
  }
  return ruleset;
}

int lastCapability() {
  auto text = detail::readFile("/proc/sys/kernel/cap_last_cap");
  int last = text ? std::atoi(text->c_str()) : 0;
  return last > 0 ? last : 63;
}

// Empties the bounding and ambient sets and then the permitted, effective
// and inheritable ones; as root, also becomes uid:gid with no supplementary
// groups. Returns "" or what failed.
std::string dropPrivileges(bool root, uint32_t uid, uint32_t gid, bool ownUserNamespace) {
  int last = lastCapability();
  if (root || ownUserNamespace)
    for (int cap = 0; cap <= last; ++cap)
      if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
        return std::string("cannot drop capability ") + std::to_string(cap) +
               " from the bounding set: " + std::strerror(errno);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (root) {
    ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (::setgroups(0, nullptr) != 0) return std::string("setgroups: ") + std::strerror(errno);
    if (::setresgid(gid, gid, gid) != 0)
      return "setresgid(" + std::to_string(gid) + "): " + std::strerror(errno);
    if (::setresuid(uid, uid, uid) != 0)
      return "setresuid(" + std::to_string(uid) + "): " + std::strerror(errno);
    if (::geteuid() == 0 || ::getuid() == 0) return "still uid 0 after setresuid";
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capset, &header, data) != 0)
    return std::string("capset: ") + std::strerror(errno);
  return {};
}

} // namespace

void closeInheritedDescriptors(const std::vector<int>& keepList) {
  std::vector<int> keep = keepList;
  keep.insert(keep.end(), {0, 1, 2});
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  unsigned next = 0;
  bool viaCloseRange = true;
  for (int fd : keep) {
    if (fd < 0) continue;
    if (unsigned(fd) > next && ::syscall(SYS_close_range, next, unsigned(fd) - 1, 0) != 0) {
      viaCloseRange = false;
      break;
    }
    next = unsigned(fd) + 1;
  }
  if (viaCloseRange && ::syscall(SYS_close_range, next, ~0u, 0) == 0) return;
  // Before Linux 5.9: whatever /proc/self/fd lists.
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return;
  int own = ::dirfd(dir);
  std::vector<int> open;
  while (dirent* e = ::readdir(dir)) {
    int fd = std::atoi(e->d_name);
    if (e->d_name[0] != '.' && fd != own) open.push_back(fd);
  }
  ::closedir(dir);
  for (int fd : open)
    if (!std::binary_search(keep.begin(), keep.end(), fd)) ::close(fd);
}

void detail::probePrivilege(const IsolationLimits& limits) {
  if (gPrivilege.probed) return;
  gPrivilege.probed = true;
  gPrivilege.root = ::geteuid() == 0;
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  gPrivilege.landlockAbi = abi > 0 ? int(abi) : 0;
  if (abi <= 0)
    warnOnce("file system confinement (Landlock)",
             std::string("the kernel has no Landlock: ") + std::strerror(errno));
  // Probed whatever `limits` grants: the result serves every plan of the
  // process. The warning is for the plans that need the namespace.
  if (gPrivilege.root) {
    int err = probeInChild([] { return ::unshare(CLONE_NEWNET) == 0 ? 0 : errno; });
    gPrivilege.netns = err == 0;
    if (err && !limits.network)
      warnOnce("network isolation", std::string("unshare(CLONE_NEWNET): ") + std::strerror(err));
  } else {
    // Without root, a user namespace gives the capabilities to make the
    // network namespace and to empty the bounding set.
    int err = probeInChild([] { return ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0 ? 0 : errno; });
    gPrivilege.userns = err == 0;
    gPrivilege.netns = err == 0;
    if (err)
      warnOnce(limits.network ? "capability bounding set" : "network isolation",
               std::string("not root and no user namespace (unshare(CLONE_NEWUSER): ") +
                   std::strerror(err) + ")");
  }
}

bool IsolationPlan::confineZygote(const ProcessConfinement& what) {
  detail::probePrivilege(limits_);
  const bool root = gPrivilege.root;
  int ruleset = -1;
  if (limits_.landlock && gPrivilege.landlockAbi > 0) {
    ruleset = makeRuleset(what, limits_.network, gPrivilege.landlockAbi);
    if (ruleset < 0) {
      warnOnce("file system confinement (Landlock)", std::strerror(-ruleset));
      return false;
    }
  }
  struct CloseRuleset {
    int& fd;
    ~CloseRuleset() {
      if (fd >= 0) ::close(fd);
    }
  } closeRuleset{ruleset};
  bool ownUserNamespace = false;
  if (!root && gPrivilege.userns) {
    int flags = CLONE_NEWUSER | (gPrivilege.netns && !limits_.network ? CLONE_NEWNET : 0);
    ownUserNamespace = ::unshare(flags) == 0;
  } else if (root && gPrivilege.netns && !limits_.network) {
    if (::unshare(CLONE_NEWNET) != 0) {
      warnOnce("network isolation", std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
      return false;
    }
  } else if (root && gPrivilege.netns) {
    if (std::string e = detail::joinGrantedNetwork(limits_); !e.empty()) {
      warnOnce("the network grant", e);
      return false;
    }
  }
  if (limits_.network && !root)
    warnOnce("network shaping and egress limits",
             "not root: a function granted the network stays in the host's namespace");
  if (std::string e = dropPrivileges(root, limits_.uid, limits_.gid, ownUserNamespace);
      !e.empty()) {
    warnOnce("privilege drop", e);
    return false;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    warnOnce("no_new_privs", std::strerror(errno));
    return false;
  }
  if (ruleset >= 0 && ::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    warnOnce("file system confinement (Landlock)", std::strerror(errno));
    return false;
  }
  if (limits_.seccomp && !applyInZygote()) return false;
  return true;
}

void IsolationPlan::applyInFaaslet(const int* procsFds, size_t count) const noexcept {
  // Raw system calls: a new Faaslet's first steps (RawSyscall.h).
  for (size_t i = 0; i < count; ++i) {
    if (rawSyscall(SYS_write, procsFds[i], reinterpret_cast<long>("0"), 1) != 1) {
      static const char msg[] =
          "faasm-run: warning: cgroup limits not enforced: cannot enter the cgroup\n";
      ssize_t ignored = ::write(2, msg, sizeof msg - 1);
      (void)ignored;
    }
    rawSyscall(SYS_close, procsFds[i]);
  }
  // Faaslets share the zygote's uid: a limit of 0 processes makes every
  // fork fail (EAGAIN), which the zygote's filter would otherwise permit.
  struct rlimit none{0, 0};
  // What setrlimit does (the allow-list permits exactly this call).
  rawSyscall(SYS_prlimit64, 0, RLIMIT_NPROC, reinterpret_cast<long>(&none), 0);
}

} // namespace faasm::isolation
