// proc_exit, proc_raise, sched_yield.
#include "WasiPrivate.h"
#include "faasm/log/Log.h"

#include <sched.h>

namespace faasm::wasi {
namespace {

void procExit(VMContext*, int32_t code) {
  host::exitGuest(code);
}

// proc_raise never signals a host process: the Faaslet is the guest's only
// process, and a signal there would reach the runtime, not the guest. A
// signal whose default action ends the process ends the call as abort()
// does in wasm, with an unreachable trap (faasm-run: status 134, as for
// SIGABRT natively; exit statuses above 125 are faasm-run's own), and a
// warning naming the signal. Ignored-by-default signals (and 0) do nothing;
// the stop signals are ENOTSUP, a Faaslet cannot be stopped; beyond the
// witx's 30 signals, EINVAL.
int32_t procRaise(VMContext*, int32_t sig) {
  // WASI signal n -> Linux signal number; 0 where the default action is to
  // ignore, -1 for the stop signals.
  static constexpr int kLinux[31] = {0,  1,  2,  3,  4,  5,  6,  7,
                                     8,  9,  10, 11, 12, 13, 14, 15, // none .. term
                                     0,  0,                          // chld, cont
                                     -1, -1, -1, -1,                 // stop, tstp, ttin, ttou
                                     0,                              // urg
                                     24, 25, 26, 27,                 // xcpu, xfsz, vtalrm, prof
                                     0,                              // winch
                                     29, 30, 31};                    // poll, pwr, sys
  if (sig < 0 || sig > 30) return kEinval;
  int hostSig = kLinux[sig];
  if (hostSig == 0) return kSuccess;
  if (hostSig < 0) return kEnotsup;
  FAASM_LOG(Warn, "proc_raise: signal %d (host signal %d) ends the call", sig, hostSig);
  host::trap(abi::TrapCode::Unreachable);
}

int32_t schedYield(VMContext*) {
  sched_yield();
  return kSuccess;
}

} // namespace

void addProc(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&procExit>(kWasiModule, "proc_exit"));
  out.push_back(host::hostFunction<&procRaise>(kWasiModule, "proc_raise"));
  out.push_back(host::hostFunction<&schedYield>(kWasiModule, "sched_yield"));
}

} // namespace faasm::wasi
