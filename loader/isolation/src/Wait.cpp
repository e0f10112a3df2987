// Parent side: waiting for a Faaslet with a wall-clock timeout, describing
// how it ended, and the one-time warnings.
#include "faasm/isolation/Isolation.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <poll.h>
#include <set>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace faasm::isolation {

void warnOnce(std::string_view control, std::string_view reason) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> warned;
  std::lock_guard lock(mutex);
  if (!warned.emplace(control).second) return;
  std::fprintf(stderr, "faasm-run: warning: %.*s not enforced: %.*s\n",
               static_cast<int>(control.size()), control.data(), static_cast<int>(reason.size()),
               reason.data());
  std::fflush(stderr);
}

bool ChildOutcome::exitedNormally() const {
  return !timedOut && !memoryLimitHit && WIFEXITED(status);
}

int ChildOutcome::exitCode() const {
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int ChildOutcome::signal() const {
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

std::string ChildOutcome::describe() const {
  if (timedOut) return "timeout after " + std::to_string(timeout.count()) + " ms";
  if (memoryLimitHit && (signal() == SIGKILL || !WIFEXITED(status)))
    return "memory limit reached (killed)";
  if (signal() == SIGSYS) return "killed by seccomp (forbidden system call)";
  if (signal() != 0)
    return "killed by signal " + std::to_string(signal()) + " (" + sigabbrev_np(signal()) + ")";
  if (memoryLimitHit)
    return "exited with status " + std::to_string(exitCode()) + " after reaching the memory limit";
  return "exited with status " + std::to_string(exitCode());
}

namespace {

pid_t waitBlocking(pid_t pid, int* status) {
  pid_t r;
  while ((r = ::waitpid(pid, status, 0)) < 0 && errno == EINTR) {
  }
  return r;
}

} // namespace

ChildOutcome waitForChild(pid_t pid, std::chrono::milliseconds timeout, Cgroup* cgroup) {
  using Clock = std::chrono::steady_clock;
  ChildOutcome out;
  out.timeout = timeout;
  const auto start = Clock::now();
  if (timeout.count() > 0) {
    const auto deadline = start + timeout;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    bool exited = false;
    if (pidfd >= 0) {
      for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() < 0) break;
        struct pollfd p{pidfd, POLLIN, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
        if (r > 0) {
          exited = true;
          break;
        }
        if (r < 0 && errno != EINTR) break;
        if (r == 0 && Clock::now() >= deadline) break;
      }
      ::close(pidfd);
    } else {
      // No pidfd (Linux < 5.3): poll waitpid.
      for (;;) {
        pid_t r = ::waitpid(pid, &out.status, WNOHANG);
        if (r == pid) {
          out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
          if (cgroup) {
            out.memoryLimitHit = cgroup->memoryLimitHit();
            cgroup->rearm();
          }
          return out;
        }
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    }
    if (!exited) {
      ::kill(pid, SIGKILL);
      if (cgroup) cgroup->killAll();
      out.timedOut = true;
    }
  }
  waitBlocking(pid, &out.status);
  out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  if (out.timedOut && !(WIFSIGNALED(out.status) && WTERMSIG(out.status) == SIGKILL))
    out.timedOut = false; // it exited on its own just before the kill
  if (cgroup) {
    out.memoryLimitHit = cgroup->memoryLimitHit();
    cgroup->rearm();
  }
  return out;
}

bool enforceTimeout(pid_t pid, std::chrono::milliseconds timeout, Cgroup* cgroup) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0 && errno == ESRCH) return false;
  if (pidfd >= 0) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      struct pollfd p{pidfd, POLLIN, 0};
      int r = ::poll(&p, 1, left.count() < 0 ? 0 : static_cast<int>(left.count()) + 1);
      if (r > 0) {
        ::close(pidfd);
        return false;
      }
      if (r == 0 && Clock::now() >= deadline) break;
      if (r < 0 && errno != EINTR) break;
    }
    ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    ::close(pidfd);
  } else {
    // No pidfd (Linux < 5.3): poll for existence; a pid reused within the
    // poll interval could be hit, which pidfds exist to prevent.
    while (::kill(pid, 0) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(pid, SIGKILL);
        if (cgroup) cgroup->killAll();
        return true;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return false;
  }
  if (cgroup) cgroup->killAll();
  return true;
}

} // namespace faasm::isolation
