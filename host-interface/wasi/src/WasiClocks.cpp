// clock_time_get, clock_res_get.
#include "WasiPrivate.h"

#include <ctime>

namespace faasm::wasi {
namespace {

bool hostClock(uint32_t id, clockid_t& out) {
  switch (id) {
  case 0: out = CLOCK_REALTIME; return true;
  case 1: out = CLOCK_MONOTONIC; return true;
  case 2: out = CLOCK_PROCESS_CPUTIME_ID; return true;
  case 3: out = CLOCK_THREAD_CPUTIME_ID; return true;
  default: return false;
  }
}

int32_t clockTimeGet(VMContext* vm, int32_t id, int64_t precision, int32_t timePtr) {
  host::guestCheck(vm, uint32_t(timePtr), 8);
  uint64_t nanos;
  if (!readClock(uint32_t(id), nanos)) return kEinval;
  host::guestStore<uint64_t>(vm, uint32_t(timePtr), nanos);
  return kSuccess;
}

int32_t clockResGet(VMContext* vm, int32_t id, int32_t resPtr) {
  host::guestCheck(vm, uint32_t(resPtr), 8);
  clockid_t c;
  if (!hostClock(uint32_t(id), c)) return kEinval;
  timespec ts{};
  if (clock_getres(c, &ts) != 0) return kEinval;
  host::guestStore<uint64_t>(vm, uint32_t(resPtr),
                             uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec));
  return kSuccess;
}

} // namespace

bool readClock(uint32_t id, uint64_t& outNanos) {
  clockid_t c;
  if (!hostClock(id, c)) return false;
  timespec ts{};
  if (clock_gettime(c, &ts) != 0) return false;
  outNanos = uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
  return true;
}

void addClocks(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&clockTimeGet>(kWasiModule, "clock_time_get"));
  out.push_back(host::hostFunction<&clockResGet>(kWasiModule, "clock_res_get"));
}

} // namespace faasm::wasi
