// faasm::log: levels from FAASM_LOG, gating, and the shape of a line.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "faasm/log/Log.h"

#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace flog = faasm::log;

namespace {

// What `body` writes to stderr, run in a child process (the level is read
// from the environment once per process).
template <typename Body> std::string stderrOf(const char* faasmLog, Body body) {
  int pipeFds[2];
  REQUIRE(pipe(pipeFds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(pipeFds[1], STDERR_FILENO);
    close(pipeFds[0]);
    if (faasmLog)
      setenv("FAASM_LOG", faasmLog, 1);
    else
      unsetenv("FAASM_LOG");
    body();
    _exit(0);
  }
  close(pipeFds[1]);
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = read(pipeFds[0], buffer, sizeof buffer)) > 0;)
    out.append(buffer, size_t(n));
  close(pipeFds[0]);
  waitpid(pid, nullptr, 0);
  return out;
}

void logEveryLevel() {
  flog::setProgramName("probe");
  FAASM_LOG(Error, "e%d", 1);
  FAASM_LOG(Warn, "w%d", 2);
  FAASM_LOG(Info, "i%d", 3);
  FAASM_LOG(Debug, "d%d", 4);
  FAASM_LOG(Trace, "t%d", 5);
}

} // namespace

TEST_CASE("level names parse, unknown ones do not") {
  flog::Level l = flog::Level::Error;
  CHECK(flog::parseLevel("debug", l));
  CHECK(l == flog::Level::Debug);
  CHECK(flog::parseLevel("warning", l));
  CHECK(l == flog::Level::Warn);
  CHECK_FALSE(flog::parseLevel("loud", l));
  CHECK(l == flog::Level::Warn);
}

TEST_CASE("by default only errors and warnings are written, in the tools' format") {
  std::string out = stderrOf(nullptr, logEveryLevel);
  CHECK(out == "probe: error: e1\nprobe: warning: w2\n");
}

TEST_CASE("FAASM_LOG=debug adds info and debug lines with the pid") {
  std::string out = stderrOf("debug", logEveryLevel);
  CHECK(out.find("probe: error: e1\n") != std::string::npos);
  CHECK(out.find("] info: i3\n") != std::string::npos);
  CHECK(out.find("] debug: d4\n") != std::string::npos);
  CHECK(out.find("t5") == std::string::npos);
}

TEST_CASE("FAASM_LOG=error silences warnings; a bad value says so once and means warn") {
  CHECK(stderrOf("error", logEveryLevel) == "probe: error: e1\n");
  std::string out = stderrOf("loud", logEveryLevel);
  CHECK(out.find("FAASM_LOG=loud: not a level") != std::string::npos);
  CHECK(out.find("probe: warning: w2\n") != std::string::npos);
  CHECK(out.find("i3") == std::string::npos);
}

TEST_CASE("arguments are not evaluated when the level is off") {
  std::string out = stderrOf("warn", [] {
    int evaluated = 0;
    FAASM_LOG(Debug, "%d", ++evaluated);
    if (evaluated) FAASM_LOG(Error, "evaluated");
  });
  CHECK(out.empty());
}
