// The messages between the scheduler, zygotes and Faaslets: a fixed header
// and `length` payload bytes on a SOCK_STREAM socketpair; a Spawn carries
// the new Faaslet's channel as SCM_RIGHTS. See docs/Faaslets.md.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace faasm::faaslet::protocol {

// Repeats `step(fd, p, left)` (a read, write, send or receive that may move
// fewer bytes than asked, or be interrupted) until `size` bytes have moved;
// false on an error or end of file.
template <typename Byte, typename Step>
bool transferAll(int fd, Byte* data, uint64_t size, Step step) {
  while (size) {
    ssize_t n = step(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= uint64_t(n);
  }
  return true;
}

enum class Msg : uint32_t {
  // zygote -> scheduler (control socket)
  Ready = 1,      // a = 1 if the zygote reaps its Faaslets and sends Ended for each
  InitFailed = 2, // a = TrapCode, b = exit code, payload = message, and for a trap a NUL
                  // and where it happened (Backtrace, at most kMaxBacktraceBytes)
  // scheduler -> zygote (control socket)
  Spawn = 3,    // a = runs (warm repeat count), fd = the Faaslet's channel; payload = if
                // b = 1, the first run's input (no Input for it on the channel), then
                // the entry (u32: 0 = main, else a function pointer, faasmChain)
  Spawned = 12, // zygote -> scheduler: b = the Faaslet's pid (-1: fork failed),
                // payload = the zygote's CLOCK_MONOTONIC just before fork (u64 ns);
                // a = 1: the Faaslet is pinned to one CPU, the scheduler gives it
                // its CPU set back (a confined zygote may not)
  // scheduler -> Faaslet (channel)
  Input = 4,         // payload = input bytes; a run's input (the first run's, unless
                     // it came with Spawn)
  ChainReply = 5,    // a = the caller's id of the new call (0: no such function, or refused)
  AwaitReply = 6,    // b = return code (-1: not a call the caller made)
  OutputReply = 7,   // a = 1 if known and finished, b = the output's full size,
                     // payload = its first min(asked, size) bytes
  ChainProceed = 14, // after an announced Chain: send the input (ChainInput)
  // Faaslet -> scheduler (channel)
  Chain = 8,          // a = name length; b = 0: payload = name then input (at most
                      // kMaxInlineChainInput); b = 1, an announcement: payload = name
                      // then the input's size (u64), answered by ChainReply 0 or ChainProceed
  ChainInput = 15,    // payload = the announced input
  ChainThis = 18,     // faasmChain: a = the entry (function pointer); b and payload as
                      // Chain's, without the name (the callee is the caller's own function)
  Await = 9,          // a = call id (the caller's own numbering)
  GetOutput = 10,     // a = call id, b = how many bytes of the output the caller wants
  Result = 11,        // a = TrapCode, b = return code, payload = output; once per run
  Backtrace = 19,     // payload = where the run trapped (runtime/Backtrace.h's lines, at
                      // most kMaxBacktraceBytes); right before the Result of a run that trapped
  GlobalConnect = 16, // a connection to the global state tier, which a confined
                      // Faaslet may not open (no payload)
  // scheduler -> Faaslet (channel)
  GlobalConnectReply = 17, // b = 0: fd = the connected socket; b = -1: none,
                           // payload = why
  // zygote -> scheduler (control socket), after Spawned of the same Faaslet
  Ended = 13, // a = 1 if its memory limit killed it, b = the Faaslet's pid
};

struct Header {
  uint32_t type;
  uint32_t a;
  int32_t b;
  uint32_t reserved;
  uint64_t length;
};
static_assert(sizeof(Header) == 24);

struct Message {
  Msg type{};
  uint32_t a = 0;
  int32_t b = 0;
  std::vector<uint8_t> payload;
};

// Exit status of a Faaslet whose scheduler went away (nobody reads it).
inline constexpr int kLostScheduler = 70;

inline constexpr uint64_t kMaxPayload = 1ull << 30;

// A trap's backtrace: 64 frames of long names fit; more is refused.
inline constexpr uint64_t kMaxBacktraceBytes = 16u << 10;
// `text` cut to whole lines within kMaxBacktraceBytes ("  ..." says so).
inline std::string boundedBacktrace(std::string text) {
  if (text.size() <= kMaxBacktraceBytes) return text;
  text.resize(kMaxBacktraceBytes - 8);
  text.resize(text.rfind('\n') + 1);
  return text + "  ...\n";
}

// A function name is one file name: longer is no function.
inline constexpr uint32_t kMaxFunctionName = 255;
// A chained call's input up to this size goes in the Chain message; a larger
// one is announced first, so that the scheduler can refuse it before any of
// it is sent (docs/Faaslets.md).
inline constexpr uint64_t kMaxInlineChainInput = 64u << 10;

// In a process just forked from `parent` (its pid, read before the fork):
// SIGKILL when the parent ends, so that a zygote never outlives its
// scheduler nor a Faaslet its zygote (the scheduler enforces the timeout:
// without it an endless loop would run for ever). If the parent has already
// ended, exits at once.
void dieWithParent(pid_t parent);

// The largest input that goes with the Spawn request: the zygote holds it
// (in its heap, which fork shares) while it forks, so it stays small.
inline constexpr uint64_t kMaxSpawnInput = 16u << 10;

// Blocking; false if the peer is gone. SIGPIPE is never raised.
bool send(int fd, Msg type, uint32_t a, int32_t b, const void* payload = nullptr,
          uint64_t length = 0, int passFd = -1);
// Blocking; false on EOF or error. *outFd receives a passed descriptor (or -1).
bool receive(int fd, Message& out, int* outFd = nullptr);
// A message in two steps, so that the receiver can judge its length before
// taking the payload in: the header (blocking; false on EOF or error), then
// `length` bytes (false if the peer went away before sending them all).
bool receiveHeader(int fd, Header& out);
bool receiveBytes(int fd, void* data, uint64_t length);

} // namespace faasm::faaslet::protocol
