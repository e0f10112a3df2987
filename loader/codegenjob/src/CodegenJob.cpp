#include "faasm/codegenjob/CodegenJob.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::codegenjob {
namespace {

using Clock = std::chrono::steady_clock;

// faasm-codegen says what is wrong in one line; more is not read.
constexpr size_t kMaxStderr = 64 * 1024;

struct ChildRun {
  bool timedOut = false;
  int status = 0;
  double cpuSeconds = 0; // the child's user + system time
  std::string stderrText;
  std::string error; // the child could not be started
};

ChildRun runLimited(const std::vector<std::string>& args, const Limits& limits,
                    const Progress& progress) {
  ChildRun run;
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0) {
    run.error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return run;
  }
  const rlim_t memory = limits.memoryBytes;
  const rlim_t cpu = rlim_t(std::max<int64_t>(limits.cpuTime.count(), 1));
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Only system calls from here to exec: the caller may have other threads.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);
    rlimit as{memory, memory}, cpuLimit{cpu, cpu + 1}, size{rlim_t(1) << 30, rlim_t(1) << 30},
        core{0, 0};
    setrlimit(RLIMIT_AS, &as);
    setrlimit(RLIMIT_CPU, &cpuLimit);
    setrlimit(RLIMIT_FSIZE, &size);
    setrlimit(RLIMIT_CORE, &core);
    int devNull = open("/dev/null", O_RDWR);
    dup2(devNull, 0);
    dup2(devNull, 1);
    dup2(pipeFds[1], 2);
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipeFds[1]);
  if (pid < 0) {
    close(pipeFds[0]);
    run.error = std::string("cannot fork: ") + std::strerror(errno);
    return run;
  }
  setpgid(pid, pid);
  const Clock::time_point started = Clock::now();
  const Clock::time_point deadline = started + limits.wall();
  Clock::time_point showAt = progress.show ? started + progress.after : Clock::time_point::max();
  char buffer[4096];
  for (;;) {
    Clock::time_point now = Clock::now();
    if (now >= showAt) {
      progress.show();
      showAt = Clock::time_point::max();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0) {
      run.timedOut = true;
      break;
    }
    int64_t wait = std::min<int64_t>(left.count(), 1000);
    if (showAt != Clock::time_point::max())
      wait = std::min<int64_t>(
          wait,
          std::max<int64_t>(
              0, std::chrono::duration_cast<std::chrono::milliseconds>(showAt - now).count()));
    pollfd p{pipeFds[0], POLLIN, 0};
    int r = poll(&p, 1, int(wait));
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    ssize_t n = read(pipeFds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break; // EOF: the compiler (and whatever it started) is done
    if (run.stderrText.size() < kMaxStderr) run.stderrText.append(buffer, size_t(n));
  }
  close(pipeFds[0]);
  if (run.timedOut) kill(-pid, SIGKILL);
  // EOF came or it was killed: this wait is short.
  rusage usage{};
  while (wait4(pid, &run.status, 0, &usage) < 0 && errno == EINTR) {
  }
  run.cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  return run;
}

// The last non-empty line, control characters blanked, at most 400 bytes:
// faasm-codegen's one line, which names the module and what is wrong.
std::string lastLine(const std::string& text) {
  size_t end = text.find_last_not_of("\n\r ");
  if (end == std::string::npos) return {};
  size_t start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  std::string line = text.substr(start, end - start + 1);
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return line.size() > 400 ? line.substr(0, 400) + "..." : line;
}

} // namespace

Outcome compile(const std::string& codegen, const std::string& input, const std::string& output,
                const std::vector<std::string>& flags, const Limits& limits,
                const Progress& progress) {
  std::vector<std::string> args{codegen, input, "-o", output};
  args.insert(args.end(), flags.begin(), flags.end());
  Outcome out;
  Clock::time_point started = Clock::now();
  ChildRun run = runLimited(args, limits, progress);
  out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (!run.error.empty()) {
    out.problem = run.error;
    return out;
  }
  std::string line = lastLine(run.stderrText);
  out.refused = true;
  const std::string cpuLimit = std::to_string(std::max<int64_t>(limits.cpuTime.count(), 1));
  if (run.timedOut) {
    out.problem = "compiling took longer than the wall-clock limit of " +
                  std::to_string(limits.wall().count()) + " s (" + cpuLimit +
                  " s of CPU time allowed)";
  } else if (WIFSIGNALED(run.status)) {
    int sig = WTERMSIG(run.status);
    // SIGXCPU at the soft limit; SIGKILL at the hard one if it was caught.
    if (sig == SIGXCPU || (sig == SIGKILL && run.cpuSeconds >= double(limits.cpuTime.count())))
      out.problem = "compiling used more than its limit of " + cpuLimit + " s of CPU time";
    else if (line.find("out of memory") != std::string::npos || sig == SIGABRT || sig == SIGSEGV ||
             sig == SIGBUS)
      out.problem = "the compiler failed (memory limit " +
                    std::to_string(limits.memoryBytes >> 20) +
                    " MiB): " + (line.empty() ? sigabbrev_np(sig) : line);
    else
      out.problem = std::string("the compiler was killed by signal ") + sigabbrev_np(sig);
  } else if (WEXITSTATUS(run.status) == 127 && line.empty()) {
    out.refused = false;
    out.problem = "cannot run " + codegen;
  } else if (WEXITSTATUS(run.status) != 0) {
    // "faasm-codegen: <input>: <problem>": the input's name is the caller's to give.
    if (size_t at = line.find(input + ": "); at != std::string::npos)
      line = line.substr(at + input.size() + 2);
    out.problem = line.empty() ? "the compiler failed (status " +
                                     std::to_string(WEXITSTATUS(run.status)) + ")"
                               : line;
  } else if (access(output.c_str(), F_OK) != 0) {
    out.refused = false;
    out.problem = codegen + " succeeded but wrote no " + output;
  } else {
    out.refused = false;
    out.ok = true;
  }
  return out;
}

bool digestOfFile(const std::string& path, abi::Digest& digest) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  abi::Sha256 sha;
  std::vector<uint8_t> buffer(1 << 16);
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return false;
    }
    if (n == 0) break;
    sha.update(buffer.data(), size_t(n));
  }
  close(fd);
  digest = sha.finish();
  return true;
}

} // namespace faasm::codegenjob
