// poll_oneoff. Clock subscriptions wait until the earliest deadline and
// report that one. fd_read/fd_write subscriptions: a pre-opened socket is
// polled for real; stdio streams, files and directories are ready at once
// (as poll(2) has it for files; a stream's read or write then blocks as
// it would). A subscription that cannot be waited on (no such fd, an fd
// without the rights, an unknown clock or type) is reported at once with
// its error, as the witx's event.error says.
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

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

constexpr uint8_t kEventFdRead = 1, kEventFdWrite = 2;
constexpr uint16_t kEventFdReadwriteHangup = 1;

// event: userdata u64, error u16 at 8, type u8 at 10, then for fd events
// nbytes u64 at 16 and flags u16 at 24.
void addEvent(std::vector<uint8_t>& events, const Subscription& s, uint16_t error,
              uint64_t nbytes = 0, uint16_t flags = 0) {
  uint8_t ev[kEventSize] = {};
  std::memcpy(ev, &s.userdata, 8);
  std::memcpy(ev + 8, &error, 2);
  ev[10] = s.tag;
  std::memcpy(ev + 16, &nbytes, 8);
  std::memcpy(ev + 24, &flags, 2);
  events.insert(events.end(), ev, ev + kEventSize);
}

// Bytes left to read in a regular file (its size past the position), else 0.
uint64_t bytesToRead(int host) {
  struct stat st{};
  if (fstat(host, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  off_t at = lseek(host, 0, SEEK_CUR);
  return at >= 0 && st.st_size > at ? uint64_t(st.st_size - at) : 0;
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

  std::vector<uint8_t> events; // reported whatever else happens
  std::vector<pollfd> sockets; // to wait on
  std::vector<const Subscription*> socketSubs;
  const Subscription* earliest = nullptr;
  uint64_t minWait = UINT64_MAX;
  for (const Subscription& s : subs) {
    if (s.tag == kEventClock) {
      uint64_t now;
      if (!readClock(s.clock, now)) {
        addEvent(events, s, uint16_t(kEinval));
        continue;
      }
      uint64_t wait = s.timeout;
      if (s.flags & kSubclockAbstime) wait = s.timeout > now ? s.timeout - now : 0;
      if (wait < minWait) {
        minWait = wait;
        earliest = &s;
      }
    } else if (s.tag == kEventFdRead || s.tag == kEventFdWrite) {
      // The fd is the u32 at offset 16, where a clock has its id.
      int32_t fd = int32_t(s.clock);
      FdView d = fdView(vm, fd);
      uint64_t need =
          kRightPollFdReadwrite | (s.tag == kEventFdRead ? kRightFdRead : kRightFdWrite);
      if (!d.valid())
        addEvent(events, s, uint16_t(kEbadf));
      else if (!d.has(need))
        addEvent(events, s, uint16_t(kEnotcapable));
      else if (d.socket) {
        sockets.push_back(pollfd{d.host, short(s.tag == kEventFdRead ? POLLIN : POLLOUT), 0});
        socketSubs.push_back(&s);
      } else {
        addEvent(events, s, kSuccess, s.tag == kEventFdRead && !d.stream ? bytesToRead(d.host) : 0);
      }
    } else {
      addEvent(events, s, uint16_t(kEinval));
    }
  }

  if (!sockets.empty()) {
    // Nothing to report yet: wait for a socket or the earliest clock.
    bool wait = events.empty();
    timespec ts{time_t(minWait / 1'000'000'000ull), long(minWait % 1'000'000'000ull)};
    timespec zero{0, 0};
    int n;
    do {
      n = ppoll(sockets.data(), sockets.size(), !wait ? &zero : (earliest ? &ts : nullptr),
                nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return fromHostErrno(errno);
    for (size_t i = 0; i < sockets.size(); ++i) {
      short r = sockets[i].revents;
      if (!r) continue;
      uint16_t error = (r & POLLNVAL) ? uint16_t(kEbadf) : 0;
      addEvent(events, *socketSubs[i], error, 0, (r & POLLHUP) ? kEventFdReadwriteHangup : 0);
    }
  } else if (events.empty() && earliest && minWait > 0) {
    timespec ts{time_t(minWait / 1'000'000'000ull), long(minWait % 1'000'000'000ull)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  // The earliest clock has expired if nothing else was reported: report it
  // alone, like a single expiry.
  if (events.empty() && earliest) addEvent(events, *earliest, kSuccess);

  host::guestStoreBytes(vm, out, events.data(), events.size());
  host::guestStore<uint32_t>(vm, uint32_t(neventsPtr), uint32_t(events.size() / kEventSize));
  return kSuccess;
}

} // namespace

void addPoll(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&pollOneoff>(kWasiModule, "poll_oneoff"));
}

} // namespace faasm::wasi
