// Calling into WebAssembly and getting out of it again: invoke() is the
// host's entry frame; traps (from generated code, the runtime calls, host
// functions or a guard-page fault) unwind to the innermost invoke with
// siglongjmp. The mechanism is described at the top of runtime/Traps.cpp.
#pragma once

#include "faasm/abi/Abi.h"

#include <cstdint>
#include <span>
#include <vector>

namespace faasm::runtime {

struct InvokeResult {
  abi::TrapCode trap = abi::TrapCode::None;
  int32_t exitCode = 0;            // the guest's proc_exit code when trap == Exit
  std::vector<abi::Value> results; // one per result of the function's type, if no trap
  bool ok() const { return trap == abi::TrapCode::None; }
};

// Calls `func` (a generated or host function of any instance) with `args`,
// which must match its type (a mismatch returns trap HostError). Works from
// any thread and re-entrantly from host functions (nested invokes). The
// outermost invoke of a thread runs on a dedicated runtime stack.
InvokeResult invoke(const abi::FuncRef* func, std::span<const abi::Value> args);

// A function checked once for invokePrepared: its type looked up (the type
// registry, under its lock) and its thunk found.
struct PreparedCall {
  const abi::FuncRef* func = nullptr;
  abi::ThunkFn thunk = nullptr;
  uint32_t params = 0;  // how many arguments it takes
  uint32_t results = 0; // how many results it returns
};

// False (and `out` untouched) if `func` cannot be invoked: no code, no thunk
// for its type, or a type the runtime cannot call.
bool prepareCall(const abi::FuncRef* func, PreparedCall& out);

// invoke() of a prepared function, without a lock or an allocation (what a
// Faaslet does first after fork, where every page written is a copy).
// `args` must hold call.params values and `results` room for call.results
// (written only if no trap). Returns the trap (None if it returned); on
// TrapCode::Exit, *exitCode is the guest's code.
abi::TrapCode invokePrepared(const PreparedCall& call, std::span<const abi::Value> args,
                             std::span<abi::Value> results, int32_t* exitCode);

// Unwinds to the innermost invoke with `code`. Only call from code running
// inside an invoke (the runtime calls generated code makes, the host-call
// boundary) and with no live C++ object that has a destructor in the frames
// it skips. Host functions themselves throw host::Trap instead. Outside an invoke it
// is a fatal error.
[[noreturn]] void raiseTrap(abi::TrapCode code);
// proc_exit: a trap with TrapCode::Exit that carries the guest's code.
[[noreturn]] void exitGuest(int32_t code);

// True while this thread is inside an invoke.
bool insideInvoke();

// Where the last trap of this thread happened, as native PCs of generated
// code: pcs[0] the trapping instruction (firstIsExact: a faulting access) or
// the return address of its call into the runtime, then each caller's return
// address, innermost first. Recorded by the fault handler and raiseTrap,
// which only walk frame pointers (generated code keeps them, abi/Abi.h) and
// copy words: symbolising happens afterwards (Backtrace.h). Not recorded
// for proc_exit. Valid after an invoke returned a trap, until the next trap.
struct TrapTrace {
  static constexpr uint32_t kMaxFrames = 64;
  uintptr_t pcs[kMaxFrames] = {};
  uint32_t count = 0; // pcs recorded
  uint64_t total = 0; // generated-code frames found (more than count: a deep stack)
  bool firstIsExact = false;
  // Generated code's trap call names the trapping instruction (its site in
  // the code map, plus 1; 0: not given): pcs[0] is then the shared trap
  // block's, which stands for every instruction of its function and code.
  uint32_t firstSite = 0;
};
const TrapTrace& lastTrapTrace();

// The table generated code reaches through VMContext::rt.
const abi::RuntimeCalls* runtimeCalls();

// The stack limit generated code must see (VMContext::stackLimit): the low
// end of the runtime stack plus a reserve of kHostStackReserve for host
// functions and the signal handler.
inline constexpr uint64_t kRuntimeStackBytes = 8ull << 20;
inline constexpr uint64_t kHostStackReserve = 256ull << 10;
uintptr_t runtimeStackLimit();

// Installs the SIGSEGV/SIGBUS handler once per process (invoke calls it).
void installTrapHandlers();

// Registers an address range (a linear-memory reservation) in which a fault
// of generated code inside an invoke is a MemoryOutOfBounds trap; with
// explicitChecks (an explicit-mode memory, whose code checks every access) a
// SIGSEGV there is also reported on stderr as a missed check. Returns a slot
// for unregisterFaultRange, -1 if full.
int registerFaultRange(const void* start, uint64_t bytes, bool explicitChecks = false);
void unregisterFaultRange(int slot);

} // namespace faasm::runtime
