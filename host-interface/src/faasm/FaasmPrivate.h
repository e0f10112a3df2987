// Shared by the Faasm API topic files. Every function here follows the host
// function rules of faasm/runtime/HostModule.h: validate every guest pointer
// and length (which may trap) before creating anything with a destructor;
// work that allocates runs in a helper whose frame is gone before any later
// trap is raised.
#pragma once

#include "faasm/host/Faasm.h"
#include "faasm/runtime/GuestMemory.h"

#include <cstdint>
#include <string_view>

namespace faasm::host::faasm_api {

using abi::VMContext;

// A NUL-terminated guest string at `ptr`, wholly inside memory, or a trap.
// The view points into linear memory.
std::string_view guestString(VMContext* vm, uint32_t ptr);

// Guest bytes [ptr, ptr + len) with ptr and len as the guest's unsigned i32s:
// a negative length is a huge one, and traps.
inline uint8_t* guestRange(VMContext* vm, int32_t ptr, int32_t len) {
  return runtime::guestBytes(vm, uint32_t(ptr), uint32_t(len));
}

// Prints "faasm: <what>" to stderr and traps HostError.
[[noreturn]] void hostError(const char* what);

void registerIO(runtime::HostModuleRegistry& r);
void registerChain(runtime::HostModuleRegistry& r);
void registerState(runtime::HostModuleRegistry& r);

} // namespace faasm::host::faasm_api
