// paper-faasm-instance: the Faasm side of scripts/bench-paper's thin
// inference front (--front thin). Two modes:
//
//   paper-faasm-instance [--user U] [--env K=V]... FN.so
//   paper-faasm-instance --zygote [--user U] [--env K=V]... FN.so
//
// Without --zygote the process is one warm Faaslet serving calls on its
// stdin and stdout (below); a new instance is a new process that makes the
// Proto-Faaslet itself.
//
// With --zygote the process is the function's Proto-Faaslet, kept for the
// whole run, and makes no call itself: stdin is a Unix socket on which the
// front sends one byte with a descriptor (SCM_RIGHTS) per new instance, and
// the zygote forks a Faaslet for it (a restore: the Faaslet starts from the
// snapshot, the model mapped), which serves calls on that descriptor exactly
// as the process does without --zygote, reset to the snapshot between
// calls, until the front closes it. The Faaslet applies what
// faasm-run's Faaslets apply after the fork (IsolationPlan::applyInFaaslet:
// no fork) and dies with the zygote; the zygote ignores SIGCHLD so the
// kernel reaps them. It ends when stdin closes.
//
// The process makes the function's Proto-Faaslet (loaded, instantiated,
// initialised: mobilenet-infer maps the model from state and builds its
// network there, and snapshotted), confined before any guest code exactly
// as faasm-run's zygote confines itself
// (least privilege, Landlock to the user's state, the seccomp allow-list;
// docs/Isolation.md), takes fork away as a Faaslet does, and is then that
// Faaslet: each request is one call, and the Faaslet is reset to its
// snapshot between calls (docs/Faaslets.md, "Warm reset"), as a warm call
// of faasm-run --warm is, but with a new input every time.
//
// The protocol is mobilenet-serve's, so the front drives both sides with
// the same code: a request is a little-endian u32 length and the input on
// stdin; the answer is the call's output on stdout, which must be one line
// ending in a newline, or {"error":"..."} when the call failed. The guest's
// own stdout goes to stderr, so it cannot break the framing. Ends when
// stdin closes.
#include "faasm/faaslet/Faaslet.h"
#include "faasm/isolation/Isolation.h"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <vector>

namespace {

using namespace faasm;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "paper-faasm-instance: %s\n", message.c_str());
  std::exit(1);
}

bool readExactly(int fd, void* buffer, size_t len) {
  auto* out = static_cast<uint8_t*>(buffer);
  while (len > 0) {
    ssize_t n = ::read(fd, out, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    len -= size_t(n);
  }
  return true;
}

bool writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(size_t(n));
  }
  return true;
}

// The answer line of a call that did not return 0 with its output.
std::string failure(const faaslet::CallResult& r) {
  std::string why;
  if (!r.error.empty())
    why = r.error;
  else if (r.trap != abi::TrapCode::None && r.trap != abi::TrapCode::Exit)
    why = std::string("trap: ") + abi::trapMessage(r.trap);
  else
    why = "return code " + std::to_string(r.returnCode);
  for (char& c : why)
    if (c == '"' || c == '\\' || c == '\n') c = ' ';
  return "{\"error\":\"" + why + "\"}\n";
}

double msSince(const timespec& t0) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return double(now.tv_sec - t0.tv_sec) * 1e3 + double(now.tv_nsec - t0.tv_nsec) * 1e-6;
}

// Serves calls on `in` and `out` until `in` closes: one Faaslet's life.
int serve(faaslet::ProtoFaaslet& proto, int in, int out) {
  std::vector<uint8_t> input;
  for (;;) {
    uint32_t length = 0;
    if (!readExactly(in, &length, sizeof length)) return 0;
    input.resize(length);
    if (!readExactly(in, input.data(), length)) die("request cut short");
    faaslet::CallResult r = proto.call(std::move(input));
    bool ok = r.error.empty() && !r.died &&
              (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit) &&
              r.returnCode == 0 && !r.output.empty() && r.output.back() == '\n';
    std::string answer = ok ? std::string(r.output.begin(), r.output.end()) : failure(r);
    if (!writeAll(out, answer)) return 0;
    if (runtime::Error e = proto.reset(); !e.message.empty()) die(e.message);
    input = {};
  }
}

// The descriptor of the next instance, or -1 when the front has closed the
// control socket.
int receiveChannel(int control) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char space[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = space;
  msg.msg_controllen = sizeof space;
  for (;;) {
    ssize_t n = ::recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    break;
  }
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int)))
    die("a spawn request without one descriptor");
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

// The zygote's loop: one Faaslet forked per descriptor received.
int zygote(faaslet::ProtoFaaslet& proto, const isolation::IsolationPlan& plan) {
  std::signal(SIGCHLD, SIG_IGN);
  const pid_t self = getpid();
  for (;;) {
    int channel = receiveChannel(0);
    if (channel < 0) return 0;
    timespec asked{};
    clock_gettime(CLOCK_MONOTONIC, &asked);
    // _Fork, as faasm-run's zygote (docs/Faaslets.md): one thread, no
    // atfork work to do.
    pid_t pid = _Fork();
    if (pid == 0) {
      if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != self) _exit(1);
      ::close(0);
      plan.applyInFaaslet(nullptr, 0);
      // What the front reports as a cold instance's own start.
      std::fprintf(stderr, "paper-faasm-instance: restored in %.3f ms\n", msSince(asked));
      _exit(serve(proto, channel, channel));
    }
    if (pid < 0) std::fprintf(stderr, "paper-faasm-instance: fork: %s\n", std::strerror(errno));
    ::close(channel);
  }
}

} // namespace

int main(int argc, char** argv) {
  timespec started{};
  clock_gettime(CLOCK_MONOTONIC, &started);
  faaslet::FunctionSpec spec;
  bool isZygote = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--zygote") {
      isZygote = true;
    } else if (arg == "--user" && i + 1 < argc) {
      spec.user = argv[++i];
    } else if (arg == "--env" && i + 1 < argc) {
      spec.env.push_back(argv[++i]);
    } else if (!arg.starts_with("-") && spec.file.empty()) {
      spec.file = argv[i];
    } else {
      die("usage: paper-faasm-instance [--zygote] [--user U] [--env K=V]... FN.so");
    }
  }
  if (spec.file.empty()) die("no function given");
  std::string base = spec.file.substr(spec.file.rfind('/') + 1);
  spec.name = base.ends_with(".so") ? base.substr(0, base.size() - 3) : base;

  // The answers get a descriptor of their own; fd 1 becomes stderr, for
  // the guest's prints.
  const int answers = ::dup(1);
  if (answers < 0 || ::dup2(2, 1) < 0) die(std::string("dup: ") + std::strerror(errno));
  isolation::closeInheritedDescriptors({answers});

  isolation::IsolationPlan plan{isolation::IsolationLimits{}};
  auto proto = faaslet::ProtoFaaslet::create(spec, [&]() -> runtime::Error {
    if (runtime::Error e = faaslet::prepareStateOf(spec, plan.limits()); !e.message.empty())
      return e;
    if (!plan.confineZygote(faaslet::confinementOf(spec)))
      return runtime::makeError("cannot confine the Faaslet (see the warning above)");
    return {};
  });
  if (!proto) die(spec.file + ": " + proto.error().message);
  // What the front reports as the instance's start (as mobilenet-serve's
  // "weights loaded in" line is the container's); a zygote's is not an
  // instance's: the front makes it before the load and counts none of it.
  std::fprintf(stderr, "paper-faasm-instance: %s in %.3f ms\n",
               isZygote ? "Proto-Faaslet made" : "ready", msSince(started));
  if (isZygote) {
    ::close(answers);
    return zygote(*proto.value(), plan);
  }
  // A Faaslet never forks.
  plan.applyInFaaslet(nullptr, 0);
  return serve(*proto.value(), 0, answers);
}
