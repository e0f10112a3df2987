// proc_exit, sched_yield.
#include "WasiPrivate.h"

#include <sched.h>

namespace faasm::wasi {
namespace {

void procExit(VMContext*, int32_t code) {
  host::exitGuest(code);
}

int32_t schedYield(VMContext*) {
  sched_yield();
  return kSuccess;
}

} // namespace

void addProc(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&procExit>(kWasiModule, "proc_exit"));
  out.push_back(host::hostFunction<&schedYield>(kWasiModule, "sched_yield"));
}

} // namespace faasm::wasi
