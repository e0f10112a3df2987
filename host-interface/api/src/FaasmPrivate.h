// Shared by the Faasm API topic files. Every function here is a host
// function (faasm/host/HostFunction.h): it reaches guest memory only through
// faasm/host/GuestMemory.h and ends a call by throwing host::Trap.
#pragma once

#include "faasm/api/Faasm.h"
#include "faasm/host/GuestMemory.h"

#include <cstdint>
#include <string_view>

namespace faasm::api {

using abi::VMContext;

// A NUL-terminated guest string at `ptr`, wholly inside memory, or a trap.
// The view points into linear memory.
std::string_view guestString(VMContext* vm, uint32_t ptr);

// Guest bytes [ptr, ptr + len) with ptr and len as the guest's unsigned i32s:
// a negative length is a huge one, and traps.
inline uint8_t* guestRange(VMContext* vm, int32_t ptr, int32_t len) {
  return host::guestBytes(vm, uint32_t(ptr), uint32_t(len));
}

// Prints "faasm: <what>" to stderr and traps HostError.
[[noreturn]] void hostError(const char* what);

void addIO(std::vector<host::HostFunction>& out);
void addChain(std::vector<host::HostFunction>& out);
void addState(std::vector<host::HostFunction>& out);

} // namespace faasm::api
