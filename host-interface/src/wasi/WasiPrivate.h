// Shared by the WASI topic files. Every function here follows the host
// function rules of faasm/runtime/HostModule.h: validate guest pointers
// (which may trap) before creating anything with a destructor.
#pragma once

#include "faasm/host/Wasi.h"
#include "faasm/runtime/GuestMemory.h"

#include <cstdint>

namespace faasm::host::wasi {

// WASI errno values (preview1 witx).
enum Errno : int32_t {
  kSuccess = 0,
  kE2big = 1,
  kEacces = 2,
  kEagain = 6,
  kEbadf = 8,
  kEfault = 21,
  kEintr = 27,
  kEinval = 28,
  kEio = 29,
  kEnosys = 52,
  kEnotsup = 58,
  kEperm = 63,
  kEpipe = 64,
  kEspipe = 70,
};

// Errno of a host errno value.
int32_t fromHostErrno(int e);

using abi::VMContext;

// Topic registration, called by registerWasi.
void registerArgsEnv(runtime::HostModuleRegistry& r);
void registerClocks(runtime::HostModuleRegistry& r);
void registerFd(runtime::HostModuleRegistry& r);
void registerPoll(runtime::HostModuleRegistry& r);
void registerProc(runtime::HostModuleRegistry& r);
void registerRandom(runtime::HostModuleRegistry& r);

// Nanoseconds of a WASI clock id, false for an unknown id.
bool readClock(uint32_t id, uint64_t& outNanos);

} // namespace faasm::host::wasi
