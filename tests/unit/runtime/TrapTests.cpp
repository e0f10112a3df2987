#include "TestHelpers.h"
#include "faasm/test/Sanitizer.h"

#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

TEST_CASE("every trap code reaches the host and the instance stays usable") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(call(*inst, "unreachable").trap == abi::TrapCode::Unreachable);
  for (uint32_t code = 1; code <= 14; ++code) {
    if (code == uint32_t(abi::TrapCode::Exit)) continue;
    rt::InvokeResult r = call(*inst, "trapWith", {i32(int32_t(code))});
    CHECK(r.trap == abi::TrapCode(code));
    CHECK(r.results.empty());
  }
  CHECK(callI32(*inst, "double", {i32(5)}) == 10);
}

TEST_CASE("proc_exit is a trap with the exit code") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  rt::InvokeResult r = call(*inst, "exitWith", {i32(3)});
  CHECK(r.trap == abi::TrapCode::Exit);
  CHECK(r.exitCode == 3);
  r = call(*inst, "exitWith", {i32(0)});
  CHECK(r.trap == abi::TrapCode::Exit);
  CHECK(r.exitCode == 0);
}

TEST_CASE("host imports are called directly by generated code") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(callI32(*inst, "callAdd", {i32(40), i32(2)}) == 42);
  // The host function's FuncRef carries the importing instance's vmctx.
  CHECK(inst->function(0)->vmctx == inst->vmctx());
  // And the host can invoke it itself through the importer's thunk.
  abi::Value args[] = {i32(1), i32(2)};
  rt::InvokeResult r = rt::invoke(inst->function(0), args);
  REQUIRE(r.ok());
  CHECK(asI32(r.results[0]) == 3);
}

TEST_CASE("nested invokes: a host function calls back into wasm") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(callI32(*inst, "reenter", {i32(20)}) == 41);
  // A trap in the nested call unwinds only to the nested invoke.
  CHECK(callI32(*inst, "reenter", {i32(-1)}) == -100);
  CHECK(callI32(*inst, "reenter", {i32(1)}) == 3);
}

TEST_CASE("stack exhaustion traps cleanly and leaves room for the host") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(inst->vmctx()->stackLimit != 0);
  CHECK(callI32(*inst, "recurse", {i32(1000)}) == 1000);
  CHECK(call(*inst, "recurse", {i32(100'000'000)}).trap == abi::TrapCode::StackExhausted);
  CHECK(callI32(*inst, "recurse", {i32(10)}) == 10);
}

TEST_CASE("invokes work from another thread") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  int32_t fromThread = 0;
  abi::TrapCode trap = abi::TrapCode::None;
  std::thread t([&] {
    abi::Value arg = i32(-1);
    rt::InvokeResult r = rt::invoke(inst->exportedFunction("load8"), {&arg, 1});
    trap = r.trap;
    rt::InvokeResult r2 = rt::invoke(inst->exportedFunction("recurse"), {&arg, 1});
    abi::Value deep = i32(100'000'000);
    rt::InvokeResult r3 = rt::invoke(inst->exportedFunction("recurse"), {&deep, 1});
    fromThread = r2.ok() && r3.trap == abi::TrapCode::StackExhausted ? 1 : -1;
  });
  t.join();
  CHECK(trap == abi::TrapCode::MemoryOutOfBounds);
  CHECK(fromThread == 1);
  CHECK(call(*inst, "recurse", {i32(100'000'000)}).trap == abi::TrapCode::StackExhausted);
}

TEST_CASE("arity mismatches and missing exports are errors, not crashes") {
  EnvHost host;
  auto inst = instantiateBasic(host);
  CHECK(!inst->invokeExport("nope", {}).ok());
  CHECK(inst->invokeExport("double", {}).error().message == "\"double\" takes 1 arguments, got 0");
  CHECK(rt::invoke(nullptr, {}).trap == abi::TrapCode::HostError);
  CHECK(rt::invoke(inst->exportedFunction("double"), {}).trap == abi::TrapCode::HostError);
}

namespace {
int32_t crashingHost(abi::VMContext*, int32_t p, int32_t) {
  return *reinterpret_cast<volatile int32_t*>(uintptr_t(p)); // a real host bug
}
} // namespace

TEST_CASE("a fault outside any linear memory still crashes the host") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    rt::HostModuleRegistry reg;
    EnvHost host;
    host.registry.addFunction(faasm::host::hostFunction<&crashingHost>("env", "host_check"));
    auto inst = rt::Instance::instantiate(loadOk("art-basic"), host.registry.resolver());
    abi::Value args[] = {i32(8), i32(0)};
    rt::invoke(inst.value()->exportedFunction("checkPtr"), args);
    _exit(0); // not reached if the fault crashed the process
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status));
  // Under AddressSanitizer (scripts/test --sanitize) the handler the fault
  // goes back to is ASan's, which reports it and aborts (abort_on_error).
  if (WIFSIGNALED(status))
    CHECK((WTERMSIG(status) == SIGSEGV ||
           (faasm::test::kAddressSanitizer && WTERMSIG(status) == SIGABRT)));
}

namespace {
int destroyedGuards = 0;
struct CountsDestruction {
  ~CountsDestruction() { ++destroyedGuards; }
};
// A host function that traps while it holds objects with destructors, in a
// frame below its own: the boundary must let them all run.
int32_t trapDeepInside(int32_t depth) {
  CountsDestruction guard;
  std::vector<int> heap(1000, depth);
  if (depth > 0) return trapDeepInside(depth - 1) + heap[0];
  if (heap.size() == 1000) faasm::host::trap(abi::TrapCode::HostPointerOutOfBounds);
  return 0;
}
int32_t trappingHost(abi::VMContext*, int32_t, int32_t depth) {
  CountsDestruction guard;
  trapDeepInside(depth);
  return 0;
}
int32_t exhaustedHost(abi::VMContext*, int32_t, int32_t) {
  CountsDestruction guard;
  throw std::bad_alloc();
}
} // namespace

TEST_CASE("a host function's trap is raised after its frames are gone") {
  EnvHost host;
  host.registry.addFunction(faasm::host::hostFunction<&trappingHost>("env", "host_check"));
  auto inst = rt::Instance::instantiate(loadOk("art-basic"), host.registry.resolver());
  REQUIRE(inst.ok());
  destroyedGuards = 0;
  abi::Value args[] = {i32(0), i32(3)};
  rt::InvokeResult r = rt::invoke(inst.value()->exportedFunction("checkPtr"), args);
  CHECK(r.trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(destroyedGuards == 5); // trappingHost's and four levels of trapDeepInside's
  // The instance and the thread are usable again afterwards.
  r = rt::invoke(inst.value()->exportedFunction("checkPtr"), args);
  CHECK(r.trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(destroyedGuards == 10);
}

TEST_CASE("a host function out of host memory ends the call with HostError") {
  EnvHost host;
  host.registry.addFunction(faasm::host::hostFunction<&exhaustedHost>("env", "host_check"));
  auto inst = rt::Instance::instantiate(loadOk("art-basic"), host.registry.resolver());
  REQUIRE(inst.ok());
  destroyedGuards = 0;
  abi::Value args[] = {i32(0), i32(0)};
  rt::InvokeResult r = rt::invoke(inst.value()->exportedFunction("checkPtr"), args);
  CHECK(r.trap == abi::TrapCode::HostError);
  CHECK(destroyedGuards == 1);
}

TEST_CASE("a trapping start function fails instantiation with the trap") {
  auto inst = rt::Instance::instantiate(loadOk("art-start-trap"), nullptr);
  REQUIRE(!inst.ok());
  CHECK(inst.error().trap == abi::TrapCode::Unreachable);
  CHECK(inst.error().message == "unreachable");
}
