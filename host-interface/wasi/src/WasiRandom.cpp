// random_get.
#include "WasiPrivate.h"

#include <cerrno>
#include <sys/random.h>

namespace faasm::wasi {
namespace {

int32_t randomGet(VMContext* vm, int32_t buf, int32_t len) {
  host::GuestSpan span = host::guestSpan(vm, uint32_t(buf), uint32_t(len));
  uint8_t* p = span.data();
  uint64_t left = span.size();
  while (left) {
    ssize_t n = getrandom(p, left, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fromHostErrno(errno);
    }
    p += n;
    left -= uint64_t(n);
  }
  return kSuccess;
}

} // namespace

void addRandom(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&randomGet>(kWasiModule, "random_get"));
}

} // namespace faasm::wasi
