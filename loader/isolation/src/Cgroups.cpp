// Per-Faaslet cgroups on v1 (one hierarchy per controller) and v2 (unified).
//
// Layout: v1 <mount of controller>/<our own cgroup in it>/faasm/<name>, so a
// Faaslet stays inside whatever limits the host put on the worker; v2
// <mount>/faasm/<name> (a non-root v2 group with processes cannot hand
// controllers down, so the faasm group hangs off the root).
#include "IsolationPrivate.h"
#include "faasm/isolation/Isolation.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace faasm::isolation {

namespace detail {

std::optional<std::string> readFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int writeFile(const std::string& path, const std::string& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = n < 0 ? errno : (static_cast<size_t>(n) == value.size() ? 0 : EIO);
  ::close(fd);
  return err;
}

std::optional<uint64_t> readKeyed(const std::string& path, const std::string& key) {
  auto text = readFile(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string k;
  uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

} // namespace detail

using detail::readFile;
using detail::readKeyed;
using detail::writeFile;

namespace {

// mkdir that tolerates an existing directory. Returns 0 or errno.
int makeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return 0;
  return errno;
}

std::string errnoText(int err) {
  return std::strerror(err);
}

// The process's own cgroup path in a v1 hierarchy ("4:memory:/a/b" -> "/a/b").
std::string ownV1Path(const std::string& controller) {
  auto text = readFile("/proc/self/cgroup");
  if (!text) return "/";
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    auto c1 = line.find(':');
    auto c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string list = line.substr(c1 + 1, c2 - c1 - 1);
    std::istringstream names(list);
    std::string name;
    while (std::getline(names, name, ','))
      if (name == controller) return line.substr(c2 + 1);
  }
  return "/";
}

// The directory of this process's own group under a v1 mount. A container
// runtime mounts only the container's group (mountinfo's root field is then
// "/<its path>", and /proc/self/cgroup names the same path), so the own path
// is taken relative to the mount's root; outside it, as if the root were "/".
std::string ownV1Dir(const std::string& mountPoint, const std::string& mountRoot,
                     const std::string& own) {
  std::string rel = own;
  if (mountRoot != "/" && (own == mountRoot || own.rfind(mountRoot + "/", 0) == 0))
    rel = own.substr(mountRoot.size());
  return mountPoint + (rel == "/" ? "" : rel);
}

const char* const kControllers[] = {"memory", "cpu", "pids"};

} // namespace

// --- CgroupManager -------------------------------------------------------------

CgroupManager& CgroupManager::get() {
  static CgroupManager manager("/sys/fs/cgroup", "faasm");
  return manager;
}

CgroupManager::CgroupManager(std::string root, std::string parentName)
    : root_(std::move(root)), parentName_(std::move(parentName)) {
  // Mounts under root_: "... <mountpoint> <opts> - <fstype> <source> <superopts>".
  auto text = readFile("/proc/self/mountinfo");
  bool v2AtRoot = false;
  std::string v2Mount;
  if (text) {
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string id, parent, devno, rootInFs, mountPoint;
      fields >> id >> parent >> devno >> rootInFs >> mountPoint;
      auto dash = line.find(" - ");
      if (dash == std::string::npos) continue;
      std::istringstream tail(line.substr(dash + 3));
      std::string fsType, source, superOpts;
      tail >> fsType >> source >> superOpts;
      if (mountPoint != root_ && mountPoint.rfind(root_ + "/", 0) != 0) continue;
      if (fsType == "cgroup2") {
        if (mountPoint == root_) v2AtRoot = true;
        v2Mount = mountPoint;
      } else if (fsType == "cgroup") {
        std::istringstream opts(superOpts);
        std::string opt;
        while (std::getline(opts, opt, ','))
          for (const char* c : kControllers)
            if (opt == c) v1Mounts_.push_back({c, mountPoint, rootInFs});
      }
    }
  }
  if (v2AtRoot || (v1Mounts_.empty() && !v2Mount.empty())) {
    // Pure v2, or a hybrid whose v1 side has none of our controllers: the
    // unified hierarchy must offer them.
    auto controllers = readFile(v2Mount + "/cgroup.controllers").value_or("");
    if (controllers.find("memory") == std::string::npos &&
        controllers.find("pids") == std::string::npos &&
        controllers.find("cpu") == std::string::npos) {
      reason_ =
          "the cgroup v2 hierarchy at " + v2Mount + " offers no memory, cpu or pids controller";
      return;
    }
    version_ = CgroupVersion::V2;
    root_ = v2Mount;
  } else if (!v1Mounts_.empty()) {
    version_ = CgroupVersion::V1;
  } else {
    reason_ = "no cgroup hierarchy is mounted at " + root_;
    return;
  }
  if (::geteuid() != 0) {
    // A delegated subtree (systemd Delegate=yes) is writable without root.
    std::string dir = root_;
    if (version_ == CgroupVersion::V1) {
      const V1Mount& m = v1Mounts_.front();
      dir = ownV1Dir(m.mountPoint, m.root, ownV1Path(m.controller));
    }
    if (::access(dir.c_str(), W_OK) != 0) reason_ = "not root and " + dir + " is not writable";
  }
}

namespace {
// The CFS quota, in microseconds per `period`, of a quota of `cpus` cores
// (> 0), rounded to nearest and saturated (a huge --cpu is no limit, not an
// undefined conversion). Plain arithmetic, not llround: this library is linked
// into the zygote, and libm would be five more mappings there for fork to
// copy on every restore (loader/faaslet CMakeLists.txt).
uint64_t cpuQuotaUs(double cpus, uint64_t period) {
  const double quota = cpus * double(period) + 0.5;
  if (!(quota < 9.0e18)) return uint64_t(9.0e18);
  return uint64_t(quota);
}

// One warning per limit asked for, when no cgroup can be made at all.
void warnAllLimits(const IsolationLimits& limits, const std::string& why) {
  if (limits.memoryBytes) warnOnce("memory limit", why);
  if (limits.cpus > 0) warnOnce("cpu limit", why);
  if (limits.maxPids) warnOnce("pids limit", why);
}
} // namespace

// Makes <root>/<parent>/<leaf> with the controllers handed down and writes
// the limits; true if at least one limit is in force.
bool CgroupManager::createV2(Cgroup& group, const std::string& leaf,
                             const IsolationLimits& limits) {
  bool anyLimit = false;
  std::string parent = root_ + "/" + parentName_;
  if (int err = makeDir(parent)) {
    warnAllLimits(limits, "cannot create " + parent + ": " + errnoText(err));
    return false;
  }
  // Hand the controllers down: root -> faasm -> leaf. Ignore what is
  // already enabled; a controller that cannot be enabled warns below when
  // its file is missing.
  for (const char* c : kControllers) {
    writeFile(root_ + "/cgroup.subtree_control", std::string("+") + c);
    writeFile(parent + "/cgroup.subtree_control", std::string("+") + c);
  }
  std::string dir = parent + "/" + leaf;
  if (int err = makeDir(dir)) {
    warnAllLimits(limits, "cannot create " + dir + ": " + errnoText(err));
    return false;
  }
  group.dirs_.push_back(dir);
  group.memoryDir_ = dir;
  auto setOrWarn = [&](const char* control, const std::string& file, const std::string& value) {
    if (int err = writeFile(dir + "/" + file, value)) {
      warnOnce(control, "cannot write " + dir + "/" + file + ": " + errnoText(err));
      return false;
    }
    return true;
  };
  if (limits.memoryBytes &&
      setOrWarn("memory limit", "memory.max", std::to_string(limits.memoryBytes))) {
    anyLimit = true;
    writeFile(dir + "/memory.swap.max", "0"); // absent without swap accounting: fine
    writeFile(dir + "/memory.oom.group", "1");
  }
  if (limits.cpus > 0) {
    const uint64_t period = 100000;
    const uint64_t quota = cpuQuotaUs(limits.cpus, period);
    if (setOrWarn("cpu limit", "cpu.max",
                  std::to_string(std::max<uint64_t>(quota, 1000)) + " " + std::to_string(period)))
      anyLimit = true;
  }
  if (limits.maxPids && setOrWarn("pids limit", "pids.max", std::to_string(limits.maxPids)))
    anyLimit = true;
  return anyLimit;
}

// Makes <mount>/<own path>/<parent>/<leaf> under each controller a limit
// needs and writes the limits; true if at least one limit is in force.
bool CgroupManager::createV1(Cgroup& group, const std::string& leaf,
                             const IsolationLimits& limits) {
  bool anyLimit = false;
  auto mountOf = [&](const char* controller) -> const V1Mount* {
    for (auto& m : v1Mounts_)
      if (m.controller == controller) return &m;
    return nullptr;
  };
  // One directory per mount (cpu and cpuacct may share one).
  auto dirFor = [&](const char* controller, const char* control) -> std::string {
    const V1Mount* mount = mountOf(controller);
    if (!mount) {
      warnOnce(control, std::string("the cgroup v1 ") + controller + " controller is not mounted");
      return {};
    }
    std::string parent =
        ownV1Dir(mount->mountPoint, mount->root, ownV1Path(controller)) + "/" + parentName_;
    std::string dir = parent + "/" + leaf;
    for (auto& d : group.dirs_)
      if (d == dir) return dir;
    int err = makeDir(parent);
    if (!err) err = makeDir(dir);
    if (err) {
      warnOnce(control, "cannot create " + dir + ": " + errnoText(err));
      return {};
    }
    group.dirs_.push_back(dir);
    return dir;
  };
  if (limits.memoryBytes) {
    std::string dir = dirFor("memory", "memory limit");
    if (!dir.empty()) {
      // memsw must stay >= the limit at every step: when a reused group's
      // limit goes up, memsw has to move first; when it goes down, second.
      const std::string memsw = dir + "/memory.memsw.limit_in_bytes";
      writeFile(memsw, std::to_string(limits.memoryBytes));
      if (int err = writeFile(dir + "/memory.limit_in_bytes", std::to_string(limits.memoryBytes))) {
        warnOnce("memory limit",
                 "cannot write " + dir + "/memory.limit_in_bytes: " + errnoText(err));
      } else {
        anyLimit = true;
        group.memoryDir_ = dir;
        // Without swap accounting the file is absent; with it, swap counts too.
        writeFile(memsw, std::to_string(limits.memoryBytes));
      }
    }
  }
  if (limits.cpus > 0) {
    std::string dir = dirFor("cpu", "cpu limit");
    if (!dir.empty()) {
      const uint64_t period = 100000;
      const uint64_t quota = cpuQuotaUs(limits.cpus, period);
      int err = writeFile(dir + "/cpu.cfs_period_us", std::to_string(period));
      if (!err)
        err = writeFile(dir + "/cpu.cfs_quota_us", std::to_string(std::max<uint64_t>(quota, 1000)));
      if (err)
        warnOnce("cpu limit", "cannot write " + dir + "/cpu.cfs_quota_us: " + errnoText(err));
      else
        anyLimit = true;
    }
  }
  if (limits.maxPids) {
    std::string dir = dirFor("pids", "pids limit");
    if (!dir.empty()) {
      if (int err = writeFile(dir + "/pids.max", std::to_string(limits.maxPids)))
        warnOnce("pids limit", "cannot write " + dir + "/pids.max: " + errnoText(err));
      else
        anyLimit = true;
    }
  }
  return anyLimit;
}

std::unique_ptr<Cgroup> CgroupManager::create(std::string_view name,
                                              const IsolationLimits& limits) {
  if (!limits.needsCgroup()) return nullptr;
  if (!reason_.empty()) {
    warnAllLimits(limits, reason_);
    return nullptr;
  }
  std::unique_ptr<Cgroup> group(new Cgroup());
  group->version_ = version_;
  const std::string leaf(name);
  bool anyLimit = version_ == CgroupVersion::V2 ? createV2(*group, leaf, limits)
                                                : createV1(*group, leaf, limits);
  if (!anyLimit) return nullptr; // the destructor removes what was made
  for (auto& d : group->dirs_) {
    int fd = ::open((d + "/cgroup.procs").c_str(), O_WRONLY); // inherited by the child
    if (fd < 0) {
      warnOnce("cgroup", "cannot open " + d + "/cgroup.procs: " + errnoText(errno));
      return nullptr;
    }
    group->procsFds_.push_back(fd);
  }
  return group;
}

std::vector<std::string> CgroupManager::parentDirectories() const {
  std::vector<std::string> out;
  if (!reason_.empty()) return out;
  if (version_ == CgroupVersion::V2) {
    out.push_back(root_ + "/" + parentName_);
  } else {
    for (auto& m : v1Mounts_) {
      std::string dir = ownV1Dir(m.mountPoint, m.root, ownV1Path(m.controller)) + "/" + parentName_;
      if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(dir);
    }
  }
  return out;
}

namespace {

// Whether the owner named in a group's name is gone: "zygote-<pid>-<start>",
// "faaslet-<pid>-<start>-<slot>", or the older "faaslet-<pid>-<slot>" (pid
// only). False for a name that is not one of these, or a live owner.
bool ownerGone(const std::string& name) {
  std::string rest;
  bool withStart = false;
  if (name.rfind("zygote-", 0) == 0) {
    rest = name.substr(7);
    withStart = true;
  } else if (name.rfind("faaslet-", 0) == 0) {
    rest = name.substr(8);
  } else {
    return false;
  }
  std::vector<uint64_t> numbers;
  std::istringstream in(rest);
  std::string part;
  while (std::getline(in, part, '-')) {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return false;
    numbers.push_back(std::strtoull(part.c_str(), nullptr, 10));
  }
  if (numbers.size() == 3) withStart = true;
  if (numbers.empty() || (withStart && numbers.size() < 2)) return false;
  pid_t pid = pid_t(numbers[0]);
  if (pid <= 0) return false;
  uint64_t start = detail::processStartTime(pid);
  if (start == 0) return true;             // no such process
  return withStart && start != numbers[1]; // the pid is someone else's now
}

} // namespace

size_t removeStaleCgroups() {
  size_t removed = 0;
  for (const std::string& parent : CgroupManager::get().parentDirectories()) {
    DIR* dir = ::opendir(parent.c_str());
    if (!dir) continue;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(dir))
      if (e->d_type == DT_DIR && ownerGone(e->d_name)) stale.push_back(e->d_name);
    ::closedir(dir);
    for (const std::string& name : stale) {
      std::string path = parent + "/" + name;
      // Processes of a dead owner are strays: they go first.
      for (int round = 0; round < 100; ++round) {
        auto procs = readFile(path + "/cgroup.procs");
        if (!procs || procs->empty()) break;
        std::istringstream pids(*procs);
        pid_t pid;
        while (pids >> pid)
          ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      for (int attempt = 0; attempt < 100; ++attempt) {
        if (::rmdir(path.c_str()) == 0) {
          ++removed;
          break;
        }
        if (errno != EBUSY) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  return removed;
}

// --- Cgroup --------------------------------------------------------------------

Cgroup::~Cgroup() {
  for (int fd : procsFds_)
    ::close(fd);
  killAll();
  // rmdir of a cgroup can fail with EBUSY for a moment after its last process
  // died (the exit is still being accounted); retry briefly.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it)
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (::rmdir(it->c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) break;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
}

bool Cgroup::addProcess(pid_t pid) {
  bool ok = true;
  for (auto& d : dirs_)
    if (int err = writeFile(d + "/cgroup.procs", std::to_string(pid))) {
      warnOnce("cgroup", "cannot move process into " + d + ": " + errnoText(err));
      ok = false;
    }
  return ok;
}

int Cgroup::enterFromChild() const noexcept {
  int result = 0;
  for (int fd : procsFds_) {
    if (::write(fd, "0", 1) != 1 && result == 0) result = errno;
    ::close(fd);
  }
  return result;
}

namespace {

// A counter that only grows while the memory limit acts: oom_kill where the
// kernel has it, else oom (v2) or failcnt (v1).
uint64_t memoryEventCount(CgroupVersion version, const std::string& dir) {
  if (version == CgroupVersion::V2) {
    auto events = dir + "/memory.events";
    return readKeyed(events, "oom_kill").value_or(0) + readKeyed(events, "oom").value_or(0);
  }
  if (auto kills = readKeyed(dir + "/memory.oom_control", "oom_kill")) return *kills;
  auto failcnt = readFile(dir + "/memory.failcnt");
  return failcnt ? std::strtoull(failcnt->c_str(), nullptr, 10) : 0;
}

} // namespace

bool Cgroup::memoryLimitHit() const {
  if (memoryDir_.empty()) return false;
  return memoryEventCount(version_, memoryDir_) > memoryEventsBaseline_;
}

void Cgroup::rearm() {
  if (memoryDir_.empty()) return;
  memoryEventsBaseline_ = memoryEventCount(version_, memoryDir_);
  if (version_ == CgroupVersion::V1)
    writeFile(memoryDir_ + "/memory.max_usage_in_bytes", "0");
  else
    writeFile(memoryDir_ + "/memory.peak", "0"); // resettable since Linux 6.12; else ignored
}

uint64_t Cgroup::memoryPeakBytes() const {
  if (memoryDir_.empty()) return 0;
  auto text = readFile(
      memoryDir_ + (version_ == CgroupVersion::V2 ? "/memory.peak" : "/memory.max_usage_in_bytes"));
  return text ? std::strtoull(text->c_str(), nullptr, 10) : 0;
}

void Cgroup::killAll() {
  if (dirs_.empty()) return;
  if (version_ == CgroupVersion::V2 && writeFile(dirs_.front() + "/cgroup.kill", "1") == 0) {
    // cgroup.kill (Linux 5.14) kills atomically; wait below until it is empty.
  }
  for (int round = 0; round < 1000; ++round) {
    bool any = false;
    for (auto& d : dirs_) {
      auto procs = readFile(d + "/cgroup.procs");
      if (!procs) continue;
      std::istringstream in(*procs);
      pid_t pid;
      while (in >> pid) {
        any = true;
        ::kill(pid, SIGKILL);
      }
    }
    if (!any) return;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

} // namespace faasm::isolation
