// poll_oneoff: clock subscriptions sleep until the earliest deadline; fd
// subscriptions (stdio only) are reported ready at once.
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace faasm::wasi {
namespace {

constexpr uint32_t kSubscriptionSize = 48;
constexpr uint32_t kEventSize = 32;
constexpr uint8_t kEventClock = 0;
constexpr uint16_t kSubclockAbstime = 1;
// More subscriptions than this are EINVAL, as poll(2) refuses more fds than
// it may open: it bounds the host's copy of the array (192 KiB).
constexpr uint32_t kMaxSubscriptions = 4096;

// A subscription as the guest lays it out: userdata u64 at 0, tag u8 at 8,
// then for a clock: id u32 at 16, timeout u64 at 24, precision u64 at 32,
// flags u16 at 40 (for fd_read/fd_write the fd is the u32 at 16).
struct GuestSubscription {
  uint8_t bytes[kSubscriptionSize];
};

// The fields the host uses, read from the host's one copy.
struct Subscription {
  uint64_t userdata;
  uint8_t tag;
  uint32_t clock;
  uint64_t timeout;
  uint16_t flags;
};

Subscription parse(const GuestSubscription& raw) {
  Subscription s{};
  std::memcpy(&s.userdata, raw.bytes + 0, 8);
  s.tag = raw.bytes[8];
  std::memcpy(&s.clock, raw.bytes + 16, 4);
  std::memcpy(&s.timeout, raw.bytes + 24, 8);
  std::memcpy(&s.flags, raw.bytes + 40, 2);
  return s;
}

int32_t pollOneoff(VMContext* vm, int32_t inArg, int32_t outArg, int32_t countArg,
                   int32_t neventsPtr) {
  uint32_t in = uint32_t(inArg), out = uint32_t(outArg), count = uint32_t(countArg);
  host::guestCheck(vm, in, uint64_t(count) * kSubscriptionSize);
  host::guestCheck(vm, out, uint64_t(count) * kEventSize);
  host::guestCheck(vm, uint32_t(neventsPtr), 4);
  if (count == 0 || count > kMaxSubscriptions) return kEinval;
  std::vector<Subscription> subs;
  for (const GuestSubscription& raw : host::guestLoadArray<GuestSubscription>(vm, in, count))
    subs.push_back(parse(raw));

  // Earliest clock deadline, as a relative timeout in nanoseconds.
  bool anyFd = false;
  uint64_t minWait = UINT64_MAX;
  for (const Subscription& s : subs) {
    if (s.tag != kEventClock) {
      anyFd = true;
      continue;
    }
    uint64_t wait = s.timeout;
    if (s.flags & kSubclockAbstime) {
      uint64_t now;
      if (!readClock(s.clock, now)) continue;
      wait = s.timeout > now ? s.timeout - now : 0;
    }
    if (wait < minWait) minWait = wait;
  }
  if (!anyFd && minWait != UINT64_MAX && minWait > 0) {
    timespec ts{time_t(minWait / 1'000'000'000ull), long(minWait % 1'000'000'000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }

  std::vector<uint8_t> events;
  for (const Subscription& s : subs) {
    bool ready = s.tag != kEventClock;
    uint16_t error = 0;
    if (s.tag == kEventClock) {
      uint64_t now;
      if (!readClock(s.clock, now)) {
        ready = true;
        error = uint16_t(kEinval);
      } else {
        ready = !anyFd; // slept until the earliest clock; fds first otherwise
      }
    } else if (s.tag > 2) {
      error = uint16_t(kEinval);
    }
    if (!ready) continue;
    // event: userdata u64, error u16 at 8, type u8 at 10, the rest zero.
    uint8_t ev[kEventSize] = {};
    std::memcpy(ev, &s.userdata, 8);
    std::memcpy(ev + 8, &error, 2);
    ev[10] = s.tag;
    events.insert(events.end(), ev, ev + kEventSize);
    if (s.tag == kEventClock && !anyFd) {
      // Report only the earliest clock, like a single expiry.
      break;
    }
  }
  host::guestStoreBytes(vm, out, events.data(), events.size());
  host::guestStore<uint32_t>(vm, uint32_t(neventsPtr), uint32_t(events.size() / kEventSize));
  return kSuccess;
}

} // namespace

void addPoll(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&pollOneoff>(kWasiModule, "poll_oneoff"));
}

} // namespace faasm::wasi
