// ---------------------------------------------------------------------------
// SUBTLE: this file is the only way out of generated code other than a normal
// return. It is safety-critical (a fault that is not turned into a trap kills
// the host; a host fault turned into a trap hides a host bug) and it runs
// code in a signal handler. The whole mechanism is described here.
//
//  - invoke() pushes an InvokeFrame (a sigjmp_buf) on a thread-local stack;
//    raiseTrap() and the fault handler siglongjmp to the innermost one.
//  - The outermost invoke of a thread switches to a dedicated runtime stack
//    (8 MiB + a PROT_NONE guard page, allocated once per thread; on x86-64
//    a few instructions switch to it, elsewhere swapcontext), so the
//    stack limit generated code checks is exact: its low end plus 256 KiB
//    kept for host functions and the signal handler. Nested invokes (a host
//    function calling wasm) stay on it. The sigsetjmp is done on that stack,
//    so every longjmp goes from deeper frames (or the signal stack) upwards.
//  - VMContext::stackLimit is per instance but the stack is per thread: when
//    an outermost invoke runs on a thread whose stack differs from the one
//    last written, every live VMContext is updated. Concurrent invokes on
//    several threads are therefore not supported yet (one thread per Faaslet
//    process is the design).
//  - The SIGSEGV/SIGBUS handler runs on a per-thread sigaltstack (under
//    AddressSanitizer on the faulting stack: see installTrapHandlers) and turns a
//    fault into MemoryOutOfBounds only if all three hold: the thread is
//    inside an invoke, the faulting PC is in generated code (the executable
//    segments of a loaded module, registered by Module) and the address is
//    in a registered linear-memory reservation. The runtime's own bulk
//    helpers (RuntimeCalls.cpp) and host functions check every range before
//    they touch guest memory, so a fault in them is a host bug, never a
//    guest's trap. Anything else prints one line saying where it happened
//    and gets the previous disposition back and re-faults: a host crash
//    still crashes. A fault in an explicit-mode reservation past the memory
//    (a bounds check generated code missed: a compiler bug the guard region
//    contained) is a trap and is reported on stderr as well.
//    SA_NODEFER keeps the mask unchanged, so sigsetjmp need not save it.
//  - Before a trap unwinds, its generated frames are recorded (recordTrace):
//    the fault handler starts from the faulting PC and %rbp, raiseTrap from
//    its own frame. Generated code keeps frame pointers; the walk reads only
//    words of this thread's runtime stack (each frame address checked to lie
//    in it, strictly rising), copies PCs that lie in generated code into
//    thread-local storage and never allocates, so it is safe in the handler.
//    Host frames below the first generated one (a runtime call, a host
//    function) are skipped when they keep frame pointers (the runtime and
//    the host interface are built with them); the walk ends at the first
//    frame above generated code. Symbolising is Backtrace.cpp's, later.
// ---------------------------------------------------------------------------
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/TypeRegistry.h"

#include "RuntimePrivate.h"

#include <atomic>
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define FAASM_RUNTIME_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAASM_RUNTIME_ASAN 1
#endif
#endif
#ifdef FAASM_RUNTIME_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

namespace faasm::runtime {
namespace {

struct InvokeFrame {
  sigjmp_buf jmp;
  InvokeFrame* prev;
  abi::TrapCode trap;
  int32_t exitCode;
};

// Read by the signal handler: initial-exec TLS never allocates on access.
__attribute__((tls_model("initial-exec"))) thread_local InvokeFrame* tlsTop = nullptr;
__attribute__((tls_model("initial-exec"))) thread_local TrapTrace tlsTrace;
// This thread's runtime stack, [low, high): where a trace's frames may lie.
__attribute__((tls_model("initial-exec"))) thread_local uintptr_t tlsStackLow = 0;
__attribute__((tls_model("initial-exec"))) thread_local uintptr_t tlsStackHigh = 0;

// ----- address ranges (lock-free reads from the signal handler) -------------
// Linear-memory reservations (faults there may be traps) and the executable
// segments of loaded modules (only faults there may be traps).
struct Range {
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> used{false};
  std::atomic<bool> explicitChecks{false};
};

template <int N> struct RangeTable {
  Range ranges[N];
  std::atomic<int> high{0};

  int add(uintptr_t start, uint64_t bytes, bool explicitChecks) {
    for (int i = 0; i < N; ++i) {
      bool expected = false;
      if (ranges[i].used.compare_exchange_strong(expected, true)) {
        ranges[i].explicitChecks.store(explicitChecks);
        ranges[i].end.store(start + bytes);
        ranges[i].start.store(start, std::memory_order_release);
        int h = high.load();
        while (h < i + 1 && !high.compare_exchange_weak(h, i + 1)) {
        }
        return i;
      }
    }
    return -1;
  }
  void remove(int slot) {
    if (slot < 0 || slot >= N) return;
    ranges[slot].start.store(0, std::memory_order_release);
    ranges[slot].end.store(0);
    ranges[slot].used.store(false, std::memory_order_release);
  }
  const Range* find(uintptr_t addr) const {
    int h = high.load(std::memory_order_acquire);
    for (int i = 0; i < h; ++i) {
      uintptr_t s = ranges[i].start.load(std::memory_order_acquire);
      uintptr_t e = ranges[i].end.load(std::memory_order_acquire);
      if (s && addr >= s && addr < e) return &ranges[i];
    }
    return nullptr;
  }
};
RangeTable<16384> gFaultRanges;
RangeTable<4096> gCodeRanges;

// ----- per-thread runtime stack and signal stack ------------------------------
struct ThreadStacks {
  uint8_t* stack = nullptr; // low end, guard page included
  uint64_t stackBytes = 0;
  uint8_t* altStack = nullptr;
  uint64_t altBytes = 0;

  ~ThreadStacks() {
    if (altStack) {
      stack_t ss{};
      ss.ss_flags = SS_DISABLE;
      sigaltstack(&ss, nullptr);
      munmap(altStack, altBytes);
    }
    if (stack) munmap(stack, stackBytes);
  }
};
thread_local ThreadStacks tlsStacks;

[[noreturn]] void fatal(const char* what) {
  fprintf(stderr, "faasm runtime: fatal: %s\n", what);
  abort();
}

// Read once: every outermost invoke asks (runtimeStackLimit), and sysconf's
// first call in a fresh Faaslet is two page faults (its code, its table).
uint64_t pageSize() {
  static const uint64_t size = uint64_t(sysconf(_SC_PAGESIZE));
  return size;
}

void ensureThreadStacks() {
  ThreadStacks& t = tlsStacks;
  if (!t.stack) {
    uint64_t guard = pageSize();
    t.stackBytes = kRuntimeStackBytes + guard;
    void* p = mmap(nullptr, t.stackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (p == MAP_FAILED) fatal("cannot allocate the runtime stack");
    if (mprotect(p, guard, PROT_NONE) != 0) fatal("cannot protect the runtime stack guard");
    t.stack = static_cast<uint8_t*>(p);
    tlsStackLow = reinterpret_cast<uintptr_t>(p) + guard;
    tlsStackHigh = reinterpret_cast<uintptr_t>(p) + t.stackBytes;
  }
  if (!t.altStack) {
    stack_t old{};
    sigaltstack(nullptr, &old);
    if (!(old.ss_flags & SS_DISABLE) && old.ss_size >= 32768) {
      t.altStack = nullptr; // the embedder's own signal stack will do
      return;
    }
    t.altBytes = 64 * 1024 + pageSize();
    void* p = mmap(nullptr, t.altBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fatal("cannot allocate the signal stack");
    stack_t ss{};
    ss.ss_sp = p;
    ss.ss_size = t.altBytes;
    if (sigaltstack(&ss, nullptr) != 0) fatal("cannot install the signal stack");
    t.altStack = static_cast<uint8_t*>(p);
  }
}

// ----- stack limits of live instances -------------------------------------------
std::mutex gVmctxMutex;
std::vector<abi::VMContext*> gVmctxs;
std::atomic<uintptr_t> gWrittenLimit{0};

void syncStackLimits(uintptr_t limit) {
  // Almost always already written (one thread per process): checked without
  // the lock, which a forked Faaslet would otherwise write (a page copy).
  if (gWrittenLimit.load(std::memory_order_acquire) == limit) return;
  std::lock_guard lock(gVmctxMutex);
  if (gWrittenLimit.load(std::memory_order_relaxed) == limit) return;
  for (abi::VMContext* v : gVmctxs)
    v->stackLimit = limit;
  gWrittenLimit.store(limit, std::memory_order_release);
}

// ----- trap traces ----------------------------------------------------------------
// Host frames a walk may skip before the first generated one (a runtime call
// and raiseTrap, a host function and its boundary, a few frames of helpers).
constexpr unsigned kMaxLeadingHostFrames = 16;
// A bound on the walk itself: a stack of 8 MiB holds fewer frames.
constexpr uint64_t kMaxWalk = 1u << 21;

// `pc`: a PC already known to be where the trap happened (0: none); `fp`:
// the frame to start from. See the banner.
void recordTrace(uintptr_t pc, bool exact, uintptr_t fp) {
  TrapTrace& t = tlsTrace;
  t.count = 0;
  t.total = 0;
  t.firstIsExact = false;
  t.firstSite = 0;
  auto add = [&t](uintptr_t p) {
    if (t.count < TrapTrace::kMaxFrames) t.pcs[t.count++] = p;
    ++t.total;
  };
  if (pc && gCodeRanges.find(pc)) {
    add(pc);
    t.firstIsExact = exact;
  }
  const uintptr_t low = tlsStackLow, high = tlsStackHigh;
  unsigned hostFrames = 0;
  for (uint64_t step = 0; step < kMaxWalk; ++step) {
    if (fp < low || high < 16 || fp > high - 16 || (fp & 7) != 0) break;
    const uintptr_t* frame = reinterpret_cast<const uintptr_t*>(fp);
    uintptr_t next = frame[0], ret = frame[1];
    if (gCodeRanges.find(ret))
      add(ret);
    else if (t.total > 0 || ++hostFrames > kMaxLeadingHostFrames)
      break; // above generated code (or none found)
    if (next <= fp) break;
    fp = next;
  }
}

// ----- the fault handler -----------------------------------------------------------
struct sigaction gOldSegv, gOldBus;

uintptr_t faultingFramePointer(void* ucontext) {
  auto* uc = static_cast<ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return uintptr_t(uc->uc_mcontext.gregs[REG_RBP]);
#elif defined(__aarch64__)
  return uintptr_t(uc->uc_mcontext.regs[29]);
#else
#error "faultingFramePointer: unknown architecture"
#endif
}

uintptr_t faultingPc(void* ucontext) {
  auto* uc = static_cast<ucontext_t*>(ucontext);
#if defined(__x86_64__)
  return uintptr_t(uc->uc_mcontext.gregs[REG_RIP]);
#elif defined(__aarch64__)
  return uintptr_t(uc->uc_mcontext.pc);
#else
#error "faultingPc: unknown architecture"
#endif
}

// A line for stderr, built without allocating (this runs in a signal handler).
struct Line {
  char text[256];
  size_t used = 0;
  Line& add(const char* s) {
    while (*s && used < sizeof text - 1)
      text[used++] = *s++;
    return *this;
  }
  Line& hex(uintptr_t v) {
    char digits[2 + 16];
    int n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v);
    add("0x");
    while (n && used < sizeof text - 1)
      text[used++] = digits[--n];
    return *this;
  }
  void write() {
    text[used++] = '\n';
    ssize_t ignored = ::write(STDERR_FILENO, text, used);
    (void)ignored;
  }
};

void faultHandler(int sig, siginfo_t* info, void* ucontext) {
  InvokeFrame* top = tlsTop;
  uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  uintptr_t pc = faultingPc(ucontext);
  bool sent = info->si_code <= 0; // by kill or raise, not a fault
  bool inCode = gCodeRanges.find(pc) != nullptr;
  const Range* memory = gFaultRanges.find(addr);
  if (!sent && top && inCode && memory) {
    if (sig == SIGSEGV && memory->explicitChecks.load(std::memory_order_relaxed))
      Line{}
          .add("faasm runtime: explicit-mode code at pc ")
          .hex(pc)
          .add(" faulted at linear-memory offset ")
          .hex(addr - memory->start.load(std::memory_order_relaxed))
          .add(": a bounds check was missed (compiler bug); the guard region made it a trap")
          .write();
    recordTrace(pc, /*exact=*/true, faultingFramePointer(ucontext));
    top->trap = abi::TrapCode::MemoryOutOfBounds;
    siglongjmp(top->jmp, 1);
  }
  // Not a guest's trap: give the signal back to whoever had it and let the
  // fault recur. A host bug is never a silent trap: say where it happened.
  struct sigaction* old = sig == SIGSEGV ? &gOldSegv : &gOldBus;
  bool oldIsHandler =
      (old->sa_flags & SA_SIGINFO) || (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN);
  if (!sent && !oldIsHandler)
    Line{}
        .add("faasm runtime: fatal: ")
        .add(sig == SIGSEGV ? "SIGSEGV" : "SIGBUS")
        .add(" at address ")
        .hex(addr)
        .add(" from pc ")
        .hex(pc)
        .add(!inCode ? (memory ? " in host code touching a linear memory: a host bug"
                               : " in host code: a host bug")
             : !top  ? " in generated code outside any call into wasm"
                     : " in generated code outside every linear memory: a compiler or "
                       "runtime bug")
        .write();
  sigaction(sig, old, nullptr);
  if (sent) raise(sig); // it would not recur by itself
}

// ----- the guarded call ----------------------------------------------------------------
struct CallRequest {
  const abi::FuncRef* func;
  abi::ThunkFn thunk;
  const abi::Value* args;
  abi::Value* results;
  InvokeFrame* frame;
};

// No object with a destructor may live in this frame: longjmps land here.
__attribute__((noinline)) void runGuarded(CallRequest* req) {
  InvokeFrame* frame = req->frame;
  frame->prev = tlsTop;
  tlsTop = frame;
  if (sigsetjmp(frame->jmp, 0) == 0) {
    req->thunk(req->func->vmctx, req->func->code, req->args, req->results);
  }
  tlsTop = frame->prev;
}

#if defined(__x86_64__)
} // namespace
// Calls fn(arg) with the stack pointer at `top` (16-byte aligned) and returns
// on the caller's stack. Unlike swapcontext it leaves the signal mask alone
// (three rt_sigprocmask calls per invoke fewer); nothing needs it saved:
// SA_NODEFER keeps the mask unchanged and sigsetjmp does not save it.
extern "C" void faasm_runtime_call_on_stack(void* arg, void (*fn)(void*), void* top);
asm(R"(
  .text
  .p2align 4
  .globl faasm_runtime_call_on_stack
  .hidden faasm_runtime_call_on_stack
  .type faasm_runtime_call_on_stack,@function
faasm_runtime_call_on_stack:
  .cfi_startproc
  pushq %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
  movq %rsp, %rbp
  .cfi_def_cfa_register %rbp
  movq %rdx, %rsp
  callq *%rsi
  movq %rbp, %rsp
  popq %rbp
  .cfi_def_cfa %rsp, 8
  retq
  .cfi_endproc
  .size faasm_runtime_call_on_stack, .-faasm_runtime_call_on_stack
)");
namespace {

#ifdef FAASM_RUNTIME_ASAN
// Under AddressSanitizer (scripts/test --sanitize) the switch is announced
// as a fiber switch, both ways: a trap's siglongjmp and a host function's
// throw make ASan unpoison the stack frames they skip, which it can only do
// on a stack it knows the bounds of (on an unknown one it gives up, and the
// skipped frames' redzones later read as overflows).
struct AsanSwitch {
  CallRequest* req;
  const void* callerBottom = nullptr;
  size_t callerSize = 0;
};

void runGuardedArg(void* arg) {
  auto* sw = static_cast<AsanSwitch*>(arg);
  __sanitizer_finish_switch_fiber(nullptr, &sw->callerBottom, &sw->callerSize);
  runGuarded(sw->req);
  __sanitizer_start_switch_fiber(nullptr, sw->callerBottom, sw->callerSize);
}

void runOnRuntimeStack(CallRequest* req) {
  uintptr_t top = reinterpret_cast<uintptr_t>(tlsStacks.stack) + tlsStacks.stackBytes;
  uint64_t guard = pageSize();
  AsanSwitch sw{req};
  void* fakeStack = nullptr;
  __sanitizer_start_switch_fiber(&fakeStack, tlsStacks.stack + guard, tlsStacks.stackBytes - guard);
  faasm_runtime_call_on_stack(&sw, runGuardedArg, reinterpret_cast<void*>(top & ~uintptr_t(15)));
  __sanitizer_finish_switch_fiber(fakeStack, nullptr, nullptr);
  // Every frame on the runtime stack is dead now, trapped out of or not.
  __asan_unpoison_memory_region(tlsStacks.stack + guard, tlsStacks.stackBytes - guard);
}
#else
void runGuardedArg(void* req) {
  runGuarded(static_cast<CallRequest*>(req));
}

void runOnRuntimeStack(CallRequest* req) {
  uintptr_t top = reinterpret_cast<uintptr_t>(tlsStacks.stack) + tlsStacks.stackBytes;
  faasm_runtime_call_on_stack(req, runGuardedArg, reinterpret_cast<void*>(top & ~uintptr_t(15)));
}
#endif
#else
thread_local CallRequest* tlsRequest = nullptr;

void trampoline() {
  runGuarded(tlsRequest);
}

void runOnRuntimeStack(CallRequest* req) {
  ucontext_t caller, callee;
  if (getcontext(&callee) != 0) fatal("getcontext failed");
  uint64_t guard = pageSize();
  callee.uc_stack.ss_sp = tlsStacks.stack + guard;
  callee.uc_stack.ss_size = tlsStacks.stackBytes - guard;
  callee.uc_link = &caller;
  makecontext(&callee, trampoline, 0);
  tlsRequest = req;
  if (swapcontext(&caller, &callee) != 0) fatal("swapcontext failed");
}
#endif

abi::ThunkFn findThunk(const abi::FuncRef* func) {
  if (func->vmctx && func->vmctx->instance) {
    Instance* inst = Instance::fromVmctx(func->vmctx);
    if (abi::ThunkFn t = inst->module().thunkFor(func->typeId)) return t;
  }
  return anyThunkFor(func->typeId);
}

} // namespace

int registerFaultRange(const void* start, uint64_t bytes, bool explicitChecks) {
  return gFaultRanges.add(reinterpret_cast<uintptr_t>(start), bytes, explicitChecks);
}

void unregisterFaultRange(int slot) {
  gFaultRanges.remove(slot);
}

namespace detail {

int registerCodeRange(uintptr_t start, uint64_t bytes) {
  return gCodeRanges.add(start, bytes, false);
}

void unregisterCodeRange(int slot) {
  gCodeRanges.remove(slot);
}

} // namespace detail

void installTrapHandlers() {
  // Checked before call_once: every outermost invoke comes here, and a
  // forked Faaslet would otherwise fault pthread_once's code in to learn
  // that the handlers are there.
  static std::atomic<bool> installed{false};
  if (installed.load(std::memory_order_acquire)) return;
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa{};
    sa.sa_sigaction = faultHandler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
#ifdef FAASM_RUNTIME_ASAN
    // ASan's siglongjmp, started on a signal stack, looks up the thread's
    // stack with pthread_getattr_np, which for the main thread opens
    // /proc/self/maps: a Faaslet's seccomp filter kills it for that. Under
    // ASan the handler therefore runs on the stack that faulted, which for
    // generated code is the runtime stack with kHostStackReserve to spare.
    sa.sa_flags &= ~SA_ONSTACK;
#endif
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &gOldSegv);
    sigaction(SIGBUS, &sa, &gOldBus);
    installed.store(true, std::memory_order_release);
  });
}

uintptr_t runtimeStackLimit() {
  ensureThreadStacks();
  return reinterpret_cast<uintptr_t>(tlsStacks.stack) + pageSize() + kHostStackReserve;
}

bool insideInvoke() {
  return tlsTop != nullptr;
}

namespace detail {

void raiseTrapFrom(abi::TrapCode code, uintptr_t framePointer, uint32_t site) {
  InvokeFrame* top = tlsTop;
  if (!top) fatal("trap raised outside of any invoke");
  recordTrace(0, false, framePointer);
  tlsTrace.firstSite = site;
  top->trap = code;
  siglongjmp(top->jmp, 1);
}

} // namespace detail

// Not inlined: its frame is where the walk starts.
__attribute__((noinline)) void raiseTrap(abi::TrapCode code) {
  detail::raiseTrapFrom(code, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
}

const TrapTrace& lastTrapTrace() {
  return tlsTrace;
}

void exitGuest(int32_t code) {
  InvokeFrame* top = tlsTop;
  if (!top) fatal("proc_exit outside of any invoke");
  top->exitCode = code;
  top->trap = abi::TrapCode::Exit;
  siglongjmp(top->jmp, 1);
}

bool prepareCall(const abi::FuncRef* func, PreparedCall& out) {
  if (!func || !func->code) return false;
  std::string_view params, results;
  std::string sig = signatureOf(func->typeId);
  abi::ThunkFn thunk = findThunk(func);
  if (!parseSignature(sig, params, results) || !thunk) return false;
  out = PreparedCall{func, thunk, uint32_t(params.size()), uint32_t(results.size())};
  return true;
}

abi::TrapCode invokePrepared(const PreparedCall& call, std::span<const abi::Value> args,
                             std::span<abi::Value> results, int32_t* exitCode) {
  if (!call.func || args.size() != call.params || results.size() < call.results)
    return abi::TrapCode::HostError;
  InvokeFrame frame{};
  frame.trap = abi::TrapCode::None;
  CallRequest req{call.func, call.thunk, args.data(), results.data(), &frame};
  if (tlsTop) {
    runGuarded(&req);
  } else {
    installTrapHandlers();
    ensureThreadStacks();
    syncStackLimits(runtimeStackLimit());
    runOnRuntimeStack(&req);
  }
  if (frame.trap == abi::TrapCode::Exit && exitCode) *exitCode = frame.exitCode;
  return frame.trap;
}

InvokeResult invoke(const abi::FuncRef* func, std::span<const abi::Value> args) {
  InvokeResult result;
  PreparedCall call;
  if (!prepareCall(func, call) || call.params != args.size()) {
    result.trap = abi::TrapCode::HostError;
    return result;
  }
  result.results.assign(call.results, abi::Value{});
  result.trap = invokePrepared(call, args, result.results, &result.exitCode);
  if (result.trap != abi::TrapCode::None) result.results.clear();
  return result;
}

namespace detail {

void registerVmctx(abi::VMContext* vmctx) {
  uintptr_t limit = runtimeStackLimit();
  std::lock_guard lock(gVmctxMutex);
  if (gWrittenLimit.load(std::memory_order_relaxed) == 0)
    gWrittenLimit.store(limit, std::memory_order_release);
  vmctx->stackLimit = gWrittenLimit.load(std::memory_order_relaxed);
  gVmctxs.push_back(vmctx);
}

void unregisterVmctx(abi::VMContext* vmctx) {
  std::lock_guard lock(gVmctxMutex);
  std::erase(gVmctxs, vmctx);
}

} // namespace detail

const abi::RuntimeCalls* runtimeCalls() {
  return &detail::kRuntimeCalls;
}

} // namespace faasm::runtime
