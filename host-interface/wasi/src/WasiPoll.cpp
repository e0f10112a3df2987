// poll_oneoff: clock subscriptions sleep until the earliest deadline; fd
// subscriptions (stdio only) are reported ready at once.
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace faasm::wasi {
namespace {

using host::guestBytes;
using host::guestLoad;
using host::guestStore;

constexpr uint32_t kSubscriptionSize = 48;
constexpr uint32_t kEventSize = 32;
constexpr uint8_t kEventClock = 0;
constexpr uint16_t kSubclockAbstime = 1;

int32_t pollOneoff(VMContext* vm, int32_t inArg, int32_t outArg, int32_t countArg,
                   int32_t neventsPtr) {
  uint32_t in = uint32_t(inArg), out = uint32_t(outArg), count = uint32_t(countArg);
  guestBytes(vm, in, uint64_t(count) * kSubscriptionSize);
  guestBytes(vm, out, uint64_t(count) * kEventSize);
  guestBytes(vm, uint32_t(neventsPtr), 4);
  if (count == 0) return kEinval;

  // Earliest clock deadline, as a relative timeout in nanoseconds.
  bool anyFd = false;
  uint64_t minWait = UINT64_MAX;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t sub = in + uint64_t(i) * kSubscriptionSize;
    uint8_t tag = guestLoad<uint8_t>(vm, sub + 8);
    if (tag != kEventClock) {
      anyFd = true;
      continue;
    }
    uint32_t clock = guestLoad<uint32_t>(vm, sub + 16);
    uint64_t timeout = guestLoad<uint64_t>(vm, sub + 24);
    uint16_t flags = guestLoad<uint16_t>(vm, sub + 40);
    uint64_t wait = timeout;
    if (flags & kSubclockAbstime) {
      uint64_t now;
      if (!readClock(clock, now)) continue;
      wait = timeout > now ? timeout - now : 0;
    }
    if (wait < minWait) minWait = wait;
  }
  if (!anyFd && minWait != UINT64_MAX && minWait > 0) {
    timespec ts{time_t(minWait / 1'000'000'000ull), long(minWait % 1'000'000'000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }

  uint32_t nevents = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t sub = in + uint64_t(i) * kSubscriptionSize;
    uint8_t tag = guestLoad<uint8_t>(vm, sub + 8);
    bool ready = tag != kEventClock;
    uint16_t error = 0;
    if (tag == kEventClock) {
      uint32_t clock = guestLoad<uint32_t>(vm, sub + 16);
      uint64_t now;
      if (!readClock(clock, now)) {
        ready = true;
        error = uint16_t(kEinval);
      } else {
        ready = !anyFd; // slept until the earliest clock; fds first otherwise
      }
    } else if (tag > 2) {
      error = uint16_t(kEinval);
    }
    if (!ready) continue;
    uint64_t ev = out + uint64_t(nevents) * kEventSize;
    std::memset(vm->memoryBase + ev, 0, kEventSize);
    guestStore<uint64_t>(vm, ev, guestLoad<uint64_t>(vm, sub)); // userdata
    guestStore<uint16_t>(vm, ev + 8, error);
    guestStore<uint8_t>(vm, ev + 10, tag);
    ++nevents;
    if (tag == kEventClock && !anyFd) {
      // Report only the earliest clock, like a single expiry.
      break;
    }
  }
  guestStore<uint32_t>(vm, uint32_t(neventsPtr), nevents);
  return kSuccess;
}

} // namespace

void addPoll(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&pollOneoff>(kWasiModule, "poll_oneoff"));
}

} // namespace faasm::wasi
