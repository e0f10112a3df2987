// Hijacked native code in a Faaslet: what if an attacker got past the
// software-fault isolation and ran any system call it likes? This program
// builds the Faaslet's process exactly as the zygote does (the zygote's
// confineZygote with one granted directory, then a forked Faaslet's
// applyInFaaslet) and runs one attack there:
//
//   privilege-escape ATTACK WORKDIR
//
// Exit 0: the attack was refused (an error, or seccomp killed the Faaslet);
// 1: it got through (the line on stderr says what); 77: it cannot be tried
// here (not root). FAASM_ESCAPE_UNCONFINED=1 skips the confinement, which is
// what a Faaslet had on main (be77e7f) without --memory-limit/--cpu/--timeout:
// every attack then gets through, which is how the test was checked.
#include "faasm/isolation/Isolation.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <map>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using faasm::isolation::IsolationLimits;
using faasm::isolation::IsolationPlan;

constexpr int kRefused = 0, kEscaped = 1, kSkip = 77;

struct Paths {
  std::string granted;    // the Faaslet's preopen
  std::string other;      // another function's preopen: readable by every uid
  std::string world;      // a directory every uid may write
  std::string ownState;   // the function's user's state directory (a file-only grant)
  std::string otherState; // another user's state directory, beside it
  int inheritedFd = -1;
};

// Each attack returns true if it got through.
using Attack = std::function<bool(const Paths&)>;

bool opened(int fd) {
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

const std::map<std::string, Attack>& attacks() {
  static const std::map<std::string, Attack> all = {
      {"read-shadow", [](const Paths&) { return opened(::open("/etc/shadow", O_RDONLY)); }},
      {"read-other-preopen",
       [](const Paths& p) { return opened(::open((p.other + "/secret").c_str(), O_RDONLY)); }},
      {"read-other-preopen-relative",
       [](const Paths& p) {
         // From the granted directory's descriptor, without RESOLVE_BENEATH.
         int dir = ::open(p.granted.c_str(), O_RDONLY | O_DIRECTORY);
         if (dir < 0) return false;
         bool got = opened(::openat(dir, "../other/secret", O_RDONLY));
         ::close(dir);
         return got;
       }},
      {"create-outside",
       [](const Paths& p) {
         return opened(::open((p.world + "/planted").c_str(), O_CREAT | O_WRONLY, 0644));
       }},
      {"unlink-outside",
       [](const Paths& p) { return ::unlink((p.world + "/victim").c_str()) == 0; }},
      {"rename-into-grant",
       [](const Paths& p) {
         return ::rename((p.other + "/secret").c_str(), (p.granted + "/stolen").c_str()) == 0;
       }},
      {"hardlink-into-grant",
       [](const Paths& p) {
         return ::linkat(AT_FDCWD, (p.other + "/secret").c_str(), AT_FDCWD,
                         (p.granted + "/hard").c_str(), 0) == 0;
       }},
      {"symlink-out-of-grant",
       [](const Paths& p) {
         return ::symlinkat("/etc/passwd", AT_FDCWD, (p.granted + "/link").c_str()) == 0;
       }},
      {"chmod-outside",
       [](const Paths& p) { return ::chmod((p.world + "/victim").c_str(), 0777) == 0; }},
      {"truncate-outside",
       [](const Paths& p) { return ::truncate((p.world + "/victim").c_str(), 0) == 0; }},
      {"proc-of-parent",
       [](const Paths&) {
         std::string path = "/proc/" + std::to_string(::getppid()) + "/environ";
         return opened(::open(path.c_str(), O_RDONLY));
       }},
      {"write-inherited-fd", [](const Paths& p) { return ::write(p.inheritedFd, "x", 1) == 1; }},
      {"socket-inet", [](const Paths&) { return opened(::socket(AF_INET, SOCK_STREAM, 0)); }},
      {"socket-unix", [](const Paths&) { return opened(::socket(AF_UNIX, SOCK_STREAM, 0)); }},
      {"ptrace-parent",
       [](const Paths&) {
         pid_t zygote = ::getppid();
         if (::ptrace(PTRACE_ATTACH, zygote, nullptr, nullptr) != 0) return false;
         ::waitpid(zygote, nullptr, __WALL);
         ::ptrace(PTRACE_DETACH, zygote, nullptr, nullptr);
         ::kill(zygote, SIGCONT);
         return true;
       }},
      {"signal-init", [](const Paths&) { return ::kill(1, 0) == 0; }},
      {"setuid-root", [](const Paths&) { return ::setuid(0) == 0; }},
      {"mount",
       [](const Paths& p) {
         if (::mount("none", p.granted.c_str(), "tmpfs", 0, nullptr) != 0) return false;
         ::umount(p.granted.c_str());
         return true;
       }},
      {"new-user-namespace", [](const Paths&) { return ::unshare(CLONE_NEWUSER) == 0; }},
      {"fork",
       [](const Paths&) {
         pid_t pid = ::fork();
         if (pid == 0) ::_exit(0);
         return pid > 0;
       }},
      {"exec",
       [](const Paths&) {
         // false exits 1: the attack's "got through".
         char* argv[] = {const_cast<char*>("false"), nullptr};
         ::execve("/bin/false", argv, nullptr);
         return false;
       }},
      {"executable-memory",
       [](const Paths&) {
         void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
         return p != MAP_FAILED;
       }},
      {"ioctl",
       [](const Paths&) {
         int n = 0;
         return ::ioctl(2, FIONREAD, &n) == 0;
       }},
      // Another user's state, in the directory next to the user's own (as
      // the state tier lays them out): by path, and by `..` from the own.
      {"read-other-user-state",
       [](const Paths& p) {
         return opened(::open((p.otherState + "/weights").c_str(), O_RDONLY));
       }},
      {"write-other-user-state",
       [](const Paths& p) {
         return opened(::open((p.otherState + "/weights").c_str(), O_WRONLY | O_TRUNC));
       }},
      {"read-other-user-state-relative",
       [](const Paths& p) {
         int dir = ::open(p.ownState.c_str(), O_RDONLY | O_DIRECTORY);
         if (dir < 0) return false;
         std::string other = "../" + p.otherState.substr(p.otherState.rfind('/') + 1) + "/weights";
         bool got = opened(::openat(dir, other.c_str(), O_RDONLY));
         ::close(dir);
         return got;
       }},
      {"create-in-other-user-state",
       [](const Paths& p) {
         return opened(::open((p.otherState + "/planted").c_str(), O_CREAT | O_WRONLY, 0644));
       }},
      // Not attacks: the confinement still lets the Faaslet use its grants.
      {"own-state-works",
       [](const Paths& p) {
         int fd = ::open((p.ownState + "/weights").c_str(), O_RDWR);
         bool ok = fd >= 0 && ::write(fd, "ok", 2) == 2;
         if (fd >= 0) ::close(fd);
         return !ok; // "got through" means: it did not work
       }},
      {"granted-directory-works",
       [](const Paths& p) {
         int fd = ::open((p.granted + "/mine").c_str(), O_CREAT | O_RDWR, 0644);
         bool ok = fd >= 0 && ::write(fd, "ok", 2) == 2;
         if (fd >= 0) ::close(fd);
         return !ok; // "got through" means: it did not work
       }},
  };
  return all;
}

void writeFile(const std::string& path, const char* text) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0666);
  if (fd < 0 || ::write(fd, text, std::strlen(text)) < 0) std::perror(path.c_str());
  if (fd >= 0) ::close(fd);
  ::chmod(path.c_str(), 0666);
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3 || !attacks().count(argv[1])) {
    std::fprintf(stderr, "usage: privilege-escape ATTACK WORKDIR; attacks:");
    for (auto& [name, attack] : attacks())
      std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  const std::string name = argv[1];
  if (::geteuid() != 0) {
    std::printf("FAASM-TEST-SKIPPED: the escape tests build Faaslets as faasm-run does as root; "
                "this runs as uid %u\n",
                unsigned(::geteuid()));
    return kSkip;
  }
  Paths paths;
  const std::string work = argv[2];
  paths.granted = work + "/granted";
  paths.other = work + "/other";
  paths.world = work + "/world";
  paths.ownState = work + "/state/faasm-alice";
  paths.otherState = work + "/state/faasm-mallory";
  ::chmod(work.c_str(), 0755);
  ::mkdir((work + "/state").c_str(), 0755);
  for (const std::string& d :
       {paths.granted, paths.other, paths.world, paths.ownState, paths.otherState}) {
    ::mkdir(d.c_str(), 0777);
    ::chmod(d.c_str(), d == paths.other ? 0755 : 0777);
  }
  // What a Faaslet must not reach is open to every uid: only the
  // confinement, not the file modes, stands in the way.
  writeFile(paths.other + "/secret", "secret\n");
  writeFile(paths.world + "/victim", "victim\n");
  writeFile(paths.ownState + "/weights", "alice\n");
  writeFile(paths.otherState + "/weights", "mallory\n");
  paths.inheritedFd = ::open((work + "/inherited").c_str(), O_CREAT | O_RDWR | O_TRUNC, 0666);

  const bool unconfined = std::getenv("FAASM_ESCAPE_UNCONFINED") != nullptr;
  IsolationLimits limits;
  IsolationPlan plan(limits);
  // The zygote, then the Faaslet, as loader/faaslet Zygote.cpp makes them.
  pid_t zygote = ::fork();
  if (zygote == 0) {
    if (!unconfined) {
      faasm::isolation::closeInheritedDescriptors({});
      faasm::isolation::ProcessConfinement what;
      what.directories.push_back(paths.granted);
      what.fileDirectories.push_back(paths.ownState);
      if (!plan.confineZygote(what)) ::_exit(3);
    }
    pid_t faaslet = ::fork();
    if (faaslet == 0) {
      if (!unconfined) plan.applyInFaaslet(nullptr, 0);
      ::_exit(attacks().at(name)(paths) ? kEscaped : kRefused);
    }
    int status = 0;
    ::waitpid(faaslet, &status, 0);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) ::_exit(kRefused);
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
  }
  int status = 0;
  ::waitpid(zygote, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 5;
  if (code == kRefused) {
    std::printf("ok %s: refused\n", name.c_str());
    return 0;
  }
  if (code == kEscaped)
    std::fprintf(stderr, "FAIL: %s got through the Faaslet's confinement\n", name.c_str());
  else
    std::fprintf(stderr, "FAIL: %s: the Faaslet could not be built (status %d)\n", name.c_str(),
                 code);
  return 1;
}
