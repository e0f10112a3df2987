// paper-faasm-instance: one warm Faaslet serving calls on a pipe, the Faasm
// side of scripts/bench-paper's inference front (until faasm-worker lands:
// the front's --front worker then sends the same requests to it instead).
//
//   paper-faasm-instance [--user U] [--env K=V]... FN.so
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
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
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

} // namespace

int main(int argc, char** argv) {
  timespec started{};
  clock_gettime(CLOCK_MONOTONIC, &started);
  faaslet::FunctionSpec spec;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--user" && i + 1 < argc) {
      spec.user = argv[++i];
    } else if (arg == "--env" && i + 1 < argc) {
      spec.env.push_back(argv[++i]);
    } else if (!arg.starts_with("-") && spec.file.empty()) {
      spec.file = argv[i];
    } else {
      die("usage: paper-faasm-instance [--user U] [--env K=V]... FN.so");
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
  // A Faaslet never forks.
  plan.applyInFaaslet(nullptr, 0);
  timespec ready{};
  clock_gettime(CLOCK_MONOTONIC, &ready);
  // What the front reports as the instance's start, as mobilenet-serve's
  // "weights loaded in" line is the container's.
  std::fprintf(stderr, "paper-faasm-instance: ready in %.3f ms\n",
               double(ready.tv_sec - started.tv_sec) * 1e3 +
                   double(ready.tv_nsec - started.tv_nsec) * 1e-6);

  std::vector<uint8_t> input;
  for (;;) {
    uint32_t length = 0;
    if (!readExactly(0, &length, sizeof length)) return 0;
    input.resize(length);
    if (!readExactly(0, input.data(), length)) die("request cut short");
    faaslet::CallResult r = proto.value()->call(std::move(input));
    bool ok = r.error.empty() && !r.died &&
              (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit) &&
              r.returnCode == 0 && !r.output.empty() && r.output.back() == '\n';
    std::string answer = ok ? std::string(r.output.begin(), r.output.end()) : failure(r);
    if (!writeAll(answers, answer)) return 0;
    if (runtime::Error e = proto.value()->reset(); !e.message.empty()) die(e.message);
    input = {};
  }
}
