// Internals shared between the runtime's files; not part of its API.
#pragma once

#include "faasm/abi/Abi.h"

namespace faasm::runtime::detail {

// Every live VMContext, so that the stack limit can be rewritten in all of
// them when invokes move to another thread's runtime stack.
void registerVmctx(abi::VMContext* vmctx);
void unregisterVmctx(abi::VMContext* vmctx);

extern const abi::RuntimeCalls kRuntimeCalls;

} // namespace faasm::runtime::detail
