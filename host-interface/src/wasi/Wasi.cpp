#include "WasiPrivate.h"

#include <cerrno>

namespace faasm::host {
namespace {
const char kWasiStateTag = 0;
} // namespace

void registerWasi(runtime::HostModuleRegistry& registry) {
  wasi::registerArgsEnv(registry);
  wasi::registerClocks(registry);
  wasi::registerFd(registry);
  wasi::registerPoll(registry);
  wasi::registerProc(registry);
  wasi::registerRandom(registry);
}

std::pair<const void*, std::shared_ptr<void>> wasiHostState(std::shared_ptr<WasiContext> context) {
  return {&kWasiStateTag, std::move(context)};
}

WasiContext& wasiContextOf(abi::VMContext* vmctx) {
  static WasiContext* empty = new WasiContext; // never destroyed
  runtime::Instance* inst = runtime::Instance::fromVmctx(vmctx);
  void* state = inst ? inst->hostState(&kWasiStateTag) : nullptr;
  return state ? *static_cast<WasiContext*>(state) : *empty;
}

namespace wasi {
int32_t fromHostErrno(int e) {
  switch (e) {
  case 0: return kSuccess;
  case E2BIG: return kE2big;
  case EACCES: return kEacces;
  case EAGAIN: return kEagain;
  case EBADF: return kEbadf;
  case EFAULT: return kEfault;
  case EINTR: return kEintr;
  case EINVAL: return kEinval;
  case EPERM: return kEperm;
  case EPIPE: return kEpipe;
  case ESPIPE: return kEspipe;
  case ENOSYS: return kEnosys;
  default: return kEio;
  }
}
} // namespace wasi

} // namespace faasm::host
