#include "SpecRunner.h"

#include "Json.h"
#include "Process.h"
#include "ScriptExecutor.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <poll.h>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::spec {
namespace {

// What the child reports through its pipe: "starting command i" and
// "command i finished with status s".
struct Progress {
  uint32_t index;
  uint8_t started; // 1: about to run; 0: finished with `status`
  uint8_t status;  // CommandStatus
  uint8_t reserved[2];
};

bool writeAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= size_t(n);
  }
  return true;
}

[[noreturn]] void childMain(int fd, const std::string& dir, const std::string& name,
                            const RunOptions& options, const std::vector<Json>& commands,
                            size_t first, const std::set<size_t>& crashed) {
  ScriptExecutor exec(dir, name, options);
  for (size_t i = 0; i < first; ++i)
    if (!crashed.count(i)) exec.replay(commands[i]);
  for (size_t i = first; i < commands.size(); ++i) {
    Progress p{uint32_t(i), 1, 0, {}};
    writeAll(fd, &p, sizeof p);
    CommandStatus s = exec.run(commands[i]);
    std::fflush(stdout);
    p = Progress{uint32_t(i), 0, uint8_t(s), {}};
    writeAll(fd, &p, sizeof p);
  }
  std::fflush(stdout);
  _exit(0);
}

void count(FileResult& r, CommandStatus s) {
  switch (s) {
  case CommandStatus::Passed: ++r.passed; break;
  case CommandStatus::Failed: ++r.failed; break;
  case CommandStatus::Skipped: ++r.skipped; break;
  case CommandStatus::NotCounted: break;
  }
}

} // namespace

std::string checkTools() {
  for (const char* tool : {"wast2json", "wat2wasm"})
    if (findOnPath(tool).empty()) return std::string(tool) + " not found on PATH (install wabt)";
  return "";
}

FileResult runWastFile(const std::string& path, const RunOptions& options) {
  FileResult result;
  std::string name = path;
  auto finish = [&]() {
    std::printf("%s: %llu passed, %llu failed", name.c_str(), (unsigned long long)result.passed,
                (unsigned long long)result.failed);
    if (result.skipped) std::printf(", %llu skipped", (unsigned long long)result.skipped);
    std::printf("\n");
    std::fflush(stdout);
    return result;
  };

  TempDir tmp;
  if (!tmp.ok()) {
    std::printf("%s: cannot create a temporary directory: %s\n", name.c_str(),
                std::strerror(errno));
    ++result.failed;
    return finish();
  }
  std::string jsonPath = tmp.path() + "/script.json";
  std::string logPath = tmp.path() + "/wast2json.log";
  int rc = runProgram({findOnPath("wast2json"), path, "-o", jsonPath}, logPath);
  if (rc != 0) {
    std::string log;
    readFile(logPath, log);
    std::printf("%s: wast2json failed: %s\n", name.c_str(), log.substr(0, log.find('\n')).c_str());
    ++result.failed;
    return finish();
  }
  std::string text, err;
  Json script;
  if (!readFile(jsonPath, text) || !Json::parse(text, script, err)) {
    std::printf("%s: cannot read wast2json output: %s\n", name.c_str(), err.c_str());
    ++result.failed;
    return finish();
  }
  const std::vector<Json>& commands = script["commands"].items();

  std::set<size_t> crashed;
  size_t next = 0;
  while (next < commands.size()) {
    size_t first = next;
    int fds[2];
    if (pipe(fds) != 0) {
      std::printf("%s: pipe failed: %s\n", name.c_str(), std::strerror(errno));
      ++result.failed;
      return finish();
    }
    std::fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
      std::printf("%s: fork failed: %s\n", name.c_str(), std::strerror(errno));
      ++result.failed;
      return finish();
    }
    if (pid == 0) {
      close(fds[0]);
      childMain(fds[1], tmp.path(), name, options, commands, next, crashed);
    }
    close(fds[1]);

    // Follow the child's progress; a command that crashes it or makes no
    // progress within the timeout is that command's failure.
    long running = -1;
    bool timedOut = false;
    while (true) {
      pollfd pfd{fds[0], POLLIN, 0};
      int n = poll(&pfd, 1, int(options.commandTimeoutSeconds * 1000));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        timedOut = true;
        kill(pid, SIGKILL);
        break;
      }
      Progress p;
      ssize_t got = read(fds[0], &p, sizeof p);
      if (got < 0 && errno == EINTR) continue;
      if (got != ssize_t(sizeof p)) break; // EOF: the child is gone
      if (p.started) {
        running = p.index;
      } else {
        count(result, CommandStatus(p.status));
        running = -1;
        next = p.index + 1;
      }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (running < 0) {
      if (!timedOut && WIFEXITED(status) && WEXITSTATUS(status) == 0) break;
      // Died outside a command (e.g. while replaying): nothing to blame but
      // the run; go on only if it got further than last time.
      std::printf("%s: runner died outside a command after command %zu\n", name.c_str(), next);
      ++result.failed;
      if (next == first) break;
      continue;
    }
    const Json& c = commands[size_t(running)];
    std::string why =
        timedOut ? "timed out after " + std::to_string(options.commandTimeoutSeconds) + " s"
        : WIFSIGNALED(status) ? std::string("runner crashed (") + strsignal(WTERMSIG(status)) + ")"
                              : "runner exited with status " + std::to_string(WEXITSTATUS(status));
    std::printf("%s:%lld: %s: expected completion, got %s\n", name.c_str(), c.integer("line"),
                c.str("type").c_str(), why.c_str());
    ++result.failed;
    crashed.insert(size_t(running));
    next = size_t(running) + 1;
  }
  return finish();
}

} // namespace faasm::spec
