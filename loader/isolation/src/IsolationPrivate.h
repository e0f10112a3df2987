// Helpers shared by the isolation sources; not part of the public API.
#pragma once

#include "faasm/isolation/Isolation.h"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::isolation::detail {

// Whole-file read/write for cgroup and proc files. writeFile returns 0 or errno.
std::optional<std::string> readFile(const std::string& path);
int writeFile(const std::string& path, const std::string& value);
// "key value" lines (memory.events, memory.oom_control): the value of `key`.
std::optional<uint64_t> readKeyed(const std::string& path, const std::string& key);

// Runs `probe` in a throw-away child; returns its errno-style result.
// SIGCHLD is set to the default meanwhile: a zygote that ignores it would
// otherwise have the probe reaped by the kernel and read no status.
template <typename F> int probeInChild(F probe) {
  struct sigaction dfl{}, old{};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &dfl, &old);
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(probe() & 0xff);
  int status = 0, result = EINVAL;
  if (pid < 0) {
    result = errno;
  } else {
    pid_t r;
    while ((r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r == pid && WIFEXITED(status)) result = WEXITSTATUS(status);
  }
  ::sigaction(SIGCHLD, &old, nullptr);
  return result;
}

// What least privilege can use on this host, probed once per process (in
// the parent, so that a refusal warns once there and never in every zygote).
struct PrivilegeSupport {
  bool probed = false;
  bool root = false;   // euid 0: setuid to the Faaslet uid
  bool userns = false; // not root: a user namespace can be made
  bool netns = false;  // a network namespace can be made (root, or in the user namespace)
  int landlockAbi = 0; // 0: none
};
extern PrivilegeSupport gPrivilege;

// As root, before privileges go: moves this process into a new network
// namespace joined to the host's by a shaped veth pair with routes to
// limits.netAllow only (Network.cpp). An empty string, or what failed.
std::string joinGrantedNetwork(const IsolationLimits& limits);
// The start time of process `pid` (/proc/<pid>/stat), 0 if it is gone.
uint64_t processStartTime(pid_t pid);
void probePrivilege(const IsolationLimits& limits);

} // namespace faasm::isolation::detail
