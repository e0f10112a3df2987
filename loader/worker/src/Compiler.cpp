#include "Compiler.h"

#include "faasm/abi/Abi.h"
#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"
#include "faasm/log/Log.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::worker {
namespace {

std::string hexDigest(const abi::Digest& d) {
  return abi::hexOf(d);
}

bool hashFile(const std::string& path, std::string& hex) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  abi::Sha256 sha;
  std::vector<uint8_t> buffer(1 << 20);
  ssize_t n;
  while ((n = read(fd, buffer.data(), buffer.size())) > 0)
    sha.update(buffer.data(), size_t(n));
  close(fd);
  if (n < 0) return false;
  hex = hexDigest(sha.finish());
  return true;
}

struct ChildRun {
  bool timedOut = false;
  int status = 0;
  std::string stderrText;
};

// Runs argv with the limits; stderr is captured (its first 64 KiB).
ChildRun runLimited(const std::vector<std::string>& args, const CompilerConfig& config,
                    std::string& error) {
  ChildRun run;
  std::vector<char*> argv;
  for (const std::string& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int pipeFds[2];
  if (pipe2(pipeFds, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return run;
  }
  const rlim_t memory = config.memoryBytes;
  const rlim_t cpu = rlim_t(config.timeout.count()) + 1;
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    // Only system calls from here to exec: the worker has other threads.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    setpgid(0, 0);
    rlimit as{memory, memory}, cpuLimit{cpu, cpu}, size{rlim_t(1) << 30, rlim_t(1) << 30},
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
    error = std::string("cannot fork: ") + std::strerror(errno);
    return run;
  }
  setpgid(pid, pid);
  const Clock::time_point deadline = Clock::now() + config.timeout;
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      run.timedOut = true;
      break;
    }
    pollfd p{pipeFds[0], POLLIN, 0};
    int r = poll(&p, 1, int(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) break;
    if (r <= 0) continue;
    ssize_t n = read(pipeFds[0], buffer, sizeof buffer);
    if (n <= 0) break; // EOF: the compiler (and whatever it started) is done
    if (run.stderrText.size() < 65536) run.stderrText.append(buffer, size_t(n));
  }
  close(pipeFds[0]);
  if (run.timedOut) kill(-pid, SIGKILL);
  // EOF came or it was killed: this wait is short.
  while (waitpid(pid, &run.status, 0) < 0 && errno == EINTR) {
  }
  return run;
}

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

Compiler::Compiler(CompilerConfig config, ArtefactStore& store, std::string& error)
    : config_(std::move(config)), store_(store),
      slots_(std::ptrdiff_t(std::clamp(config_.jobs, 1U, 64U))) {
  std::string binary;
  if (!hashFile(config_.codegen, binary)) {
    error = "cannot read the compiler " + config_.codegen + ": " + std::strerror(errno);
    return;
  }
  std::string text = "faasm-codegen " + binary + " abi " + std::to_string(abi::kAbiVersion);
  for (const std::string& f : config_.flags)
    text += " " + f;
  identity_ = text;
}

Compiler::Outcome Compiler::artefactFor(const std::vector<uint8_t>& wasm) {
  std::string wasmHex = hexDigest(abi::Sha256::of(wasm));
  std::string material = "faasm-worker artefact v1\n" + wasmHex + "\n" + identity_ + "\n";
  std::string key = hexDigest(abi::Sha256::of(
      std::span(reinterpret_cast<const uint8_t*>(material.data()), material.size())));
  // One compile per key at a time: a second upload of the same bytes waits
  // for the first and then finds its artefact.
  std::shared_ptr<std::mutex> keyLock;
  {
    std::lock_guard lock(mutex_);
    keyLock = inFlight_[key].lock();
    if (!keyLock) inFlight_[key] = keyLock = std::make_shared<std::mutex>();
    std::erase_if(inFlight_, [](auto& e) { return e.second.expired(); });
  }
  std::lock_guard compiling(*keyLock);
  Outcome out;
  out.key = key;
  if (!store_.find(key).empty()) {
    FAASM_LOG(Debug, "artefact %s found: no compile", key.c_str());
    return out;
  }
  if (!slots_.try_acquire_for(config_.waitForSlot)) {
    out.httpStatus = 503;
    out.error = "the compiler is busy (" + std::to_string(config_.jobs) +
                " compiles at once): try again later";
    return out;
  }
  out = compile(wasm, key);
  slots_.release();
  return out;
}

Compiler::Outcome Compiler::compile(const std::vector<uint8_t>& wasm, const std::string& key) {
  Outcome out;
  out.key = key;
  const std::string base = store_.scratchDir() + "/" + CallId::random().hex();
  const std::string in = base + ".wasm", so = base + ".so";
  {
    std::ofstream f(in, std::ios::binary);
    f.write(reinterpret_cast<const char*>(wasm.data()), std::streamsize(wasm.size()));
    if (!f.flush()) {
      out.httpStatus = 500;
      out.error = "cannot write the module to " + in;
      return out;
    }
  }
  std::vector<std::string> args{config_.codegen, in, "-o", so, "-j", "1"};
  args.insert(args.end(), config_.flags.begin(), config_.flags.end());
  std::string error;
  Clock::time_point started = Clock::now();
  ChildRun run = runLimited(args, config_, error);
  out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  unlink(in.c_str());
  if (!error.empty()) {
    out.httpStatus = 500;
    out.error = error;
  } else if (run.timedOut) {
    out.httpStatus = 400;
    out.error =
        "compiling took longer than the limit of " + std::to_string(config_.timeout.count()) + " s";
  } else if (WIFSIGNALED(run.status)) {
    int sig = WTERMSIG(run.status);
    std::string line = lastLine(run.stderrText);
    out.httpStatus = 400;
    if (sig == SIGXCPU)
      out.error = "compiling used more CPU time than the limit";
    else if (line.find("out of memory") != std::string::npos || sig == SIGABRT || sig == SIGSEGV ||
             sig == SIGBUS)
      out.error = "the compiler failed (memory limit " + std::to_string(config_.memoryBytes >> 20) +
                  " MiB): " + (line.empty() ? sigabbrev_np(sig) : line);
    else
      out.error = std::string("the compiler was killed by signal ") + sigabbrev_np(sig);
  } else if (WEXITSTATUS(run.status) != 0) {
    std::string line = lastLine(run.stderrText);
    // "faasm-codegen: <scratch path>: <problem>": the path is ours, not the user's.
    if (size_t at = line.find(in + ": "); at != std::string::npos)
      line = line.substr(at + in.size() + 2);
    out.httpStatus = 400;
    out.error = line.empty()
                    ? "the compiler failed (status " + std::to_string(WEXITSTATUS(run.status)) + ")"
                    : line;
  }
  if (out.error.empty()) {
    error = store_.put(key, so);
    if (!error.empty())
      out.httpStatus = 500, out.error = error;
    else
      out.compiled = true;
  }
  unlink(so.c_str());
  if (out.compiled)
    FAASM_LOG(Info, "compiled artefact %s (%zu bytes of wasm) in %.2f s", key.c_str(), wasm.size(),
              out.seconds);
  return out;
}

} // namespace faasm::worker
