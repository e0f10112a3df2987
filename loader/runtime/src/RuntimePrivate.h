// Internals shared between the runtime's files; not part of its API.
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>

namespace faasm::runtime::detail {

// Every live VMContext, so that the stack limit can be rewritten in all of
// them when invokes move to another thread's runtime stack.
void registerVmctx(abi::VMContext* vmctx);
void unregisterVmctx(abi::VMContext* vmctx);

extern const abi::RuntimeCalls kRuntimeCalls;

// The executable segments of loaded modules: the fault handler makes a
// fault a trap only if its PC lies in one. Returns a slot, -1 if full.
int registerCodeRange(uintptr_t start, uint64_t bytes);
void unregisterCodeRange(int slot);

// raiseTrap, its trace walked from `framePointer` (a frame of the caller's
// own, whose return address leads towards generated code; Traps.cpp);
// `site`: what generated code's trap call said (TrapTrace::firstSite).
[[noreturn]] void raiseTrapFrom(abi::TrapCode code, uintptr_t framePointer, uint32_t site = 0);

} // namespace faasm::runtime::detail
