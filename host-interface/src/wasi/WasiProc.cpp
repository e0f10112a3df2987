// proc_exit, sched_yield.
#include "WasiPrivate.h"

#include <sched.h>

namespace faasm::host::wasi {
namespace {

void procExit(VMContext*, int32_t code) { runtime::exitGuest(code); }

int32_t schedYield(VMContext*) {
  sched_yield();
  return kSuccess;
}

} // namespace

void registerProc(runtime::HostModuleRegistry& r) {
  r.addFunction(runtime::hostFunction<&procExit>(kWasiModule, "proc_exit"));
  r.addFunction(runtime::hostFunction<&schedYield>(kWasiModule, "sched_yield"));
}

} // namespace faasm::host::wasi
