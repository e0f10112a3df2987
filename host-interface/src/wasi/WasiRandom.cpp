// random_get.
#include "WasiPrivate.h"

#include <cerrno>
#include <sys/random.h>

namespace faasm::host::wasi {
namespace {

int32_t randomGet(VMContext* vm, int32_t buf, int32_t len) {
  uint8_t* p = runtime::guestBytes(vm, uint32_t(buf), uint32_t(len));
  uint64_t left = uint32_t(len);
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

void registerRandom(runtime::HostModuleRegistry& r) {
  r.addFunction(runtime::hostFunction<&randomGet>(kWasiModule, "random_get"));
}

} // namespace faasm::host::wasi
