// Shared by the Faasm API topic files. Every function here is a host
// function (faasm/host/HostFunction.h): it reaches guest memory only through
// faasm/host/GuestMemory.h (keys and names copied once, payload through
// checked spans) and ends a call by throwing host::Trap.
#pragma once

#include "faasm/api/Faasm.h"
#include "faasm/host/GuestMemory.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace faasm::api {

using abi::VMContext;

// The longest state key the host accepts (it copies at most this much).
inline constexpr uint64_t kMaxKeyLength = 1024;
// The longest chained function name (one file name of the function table).
inline constexpr uint64_t kMaxFunctionName = 255;

// The guest's NUL-terminated state key at `ptr`, copied once: the host uses
// only the copy. Traps HostPointerOutOfBounds if memory ends before the NUL,
// HostError (with one line on stderr) if it is longer than kMaxKeyLength.
std::string guestKey(VMContext* vm, int32_t ptr);

// Guest bytes [ptr, ptr + len) with ptr and len as the guest's unsigned i32s
// (a negative length is a huge one, and traps): payload only.
inline host::GuestSpan guestRange(VMContext* vm, int32_t ptr, int32_t len) {
  return host::guestSpan(vm, uint32_t(ptr), uint32_t(len));
}

// `bytes` in double quotes, fit for a one-line message: control bytes,
// quotes and backslashes escaped, cut after 80 bytes.
std::string quoted(std::string_view bytes);

// Prints "faasm: <what>" to stderr and traps HostError.
[[noreturn]] void hostError(const std::string& what);

// Releases every global lease `instance` holds (FaasmState.cpp).
void releaseGlobalLocks(FaasmInstance& instance);

void addIO(std::vector<host::HostFunction>& out);
void addChain(std::vector<host::HostFunction>& out);
void addState(std::vector<host::HostFunction>& out);

} // namespace faasm::api
