// Attacks on the fault handling and the address space around linear memory
// (docs/Security.md, "Runtime and artefacts"). Guest code is the hand-made artefacts of
// tests/unit/runtime (art-basic, and art-basic-explicit, whose accesses check
// against memorySize as explicit-mode code does, except loadUnchecked, which
// stands for an access the compiler forgot to check). Each probe runs in a
// child process, so that a crash or a read of host memory is a result here,
// not the end of the test.
#include "faasm/host/GuestMemory.h"
#include "faasm/host/HostFunction.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Memory.h"
#include "faasm/test/HandMade.h"

#include <doctest/doctest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace rt = faasm::runtime;
namespace abi = faasm::abi;

namespace {

std::string artefact(const char* name) {
  return std::string(FAASM_TEST_ARTEFACT_DIR) + "/" + name + ".so";
}

abi::Value i32(int32_t v) {
  return rt::GlobalObject::i32(v);
}
abi::Value i64(int64_t v) {
  return rt::GlobalObject::i64(v);
}

// How a child process ended, and what it wrote to stderr.
struct ChildOutcome {
  int status = 0;
  std::string err;
  bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
  bool killedBy(int sig) const { return WIFSIGNALED(status) && WTERMSIG(status) == sig; }
  std::string describe() const {
    std::ostringstream out;
    if (WIFEXITED(status)) out << "exit " << WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out << "signal " << WTERMSIG(status);
    return out.str() + ", stderr: " + err;
  }
};

template <typename F> ChildOutcome inChild(F body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    signal(SIGSEGV, SIG_DFL); // no core dumps of the test's own making
    _exit(body());
  }
  close(fds[1]);
  ChildOutcome out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    out.err.append(buf, size_t(n));
  close(fds[0]);
  waitpid(pid, &out.status, 0);
  return out;
}

struct Env {
  rt::HostModuleRegistry registry;
  std::shared_ptr<rt::GlobalObject> base =
      rt::GlobalObject::create(abi::ValType::I32, false, i32(41));
};

int32_t add(abi::VMContext*, int32_t a, int32_t b) {
  return a + b;
}
void exitWith(abi::VMContext*, int32_t code) {
  faasm::host::exitGuest(code);
}
int32_t reenter(abi::VMContext*, int32_t x) {
  return x;
}
// A host bug: it reads guest memory without a check, just past the end,
// where the reservation is PROT_NONE.
int32_t peekPastEnd(abi::VMContext* vm, int32_t, int32_t) {
  return *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + vm->memorySize);
}
int32_t sumChecked(abi::VMContext* vm, int32_t p, int32_t n) {
  const uint8_t* bytes = faasm::host::guestSpan(vm, uint32_t(p), uint32_t(n)).data();
  int32_t sum = 0;
  for (int32_t i = 0; i < n; ++i)
    sum += bytes[i];
  return sum;
}

std::shared_ptr<rt::Instance> instantiate(const char* name, bool buggyHost) {
  static Env env; // one per (child) process
  env.registry = rt::HostModuleRegistry{};
  env.registry.addFunction(faasm::host::hostFunction<&add>("env", "host_add"));
  env.registry.addFunction(faasm::host::hostFunction<&exitWith>("env", "host_exit"));
  if (buggyHost)
    env.registry.addFunction(faasm::host::hostFunction<&peekPastEnd>("env", "host_check"));
  else
    env.registry.addFunction(faasm::host::hostFunction<&sumChecked>("env", "host_check"));
  env.registry.addFunction(faasm::host::hostFunction<&reenter>("env", "host_reenter"));
  env.registry.addGlobal("env", "base", env.base);
  auto module = faasm::test::loadHandMade(artefact(name));
  if (!module) return nullptr;
  auto inst = rt::Instance::instantiate(module.value(), env.registry.resolver());
  return inst ? inst.value() : nullptr;
}

struct Mapping {
  uintptr_t start, end;
  std::string perms, path;
};

std::vector<Mapping> mappings() {
  std::vector<Mapping> out;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    Mapping m;
    std::istringstream in(line);
    std::string range, offset, dev, inode;
    in >> range >> m.perms >> offset >> dev >> inode;
    std::getline(in >> std::ws, m.path);
    m.start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
    m.end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    out.push_back(m);
  }
  return out;
}

} // namespace

TEST_CASE("explicit mode: only the guard region lies past a small memory") {
  // The attack: a 1-page explicit-mode memory used to be a 64 KiB
  // reservation with the host's own mappings right after it.
  for (uint64_t maxPages : {1, 2, 16}) {
    auto m = rt::Memory::create(abi::BoundsMode::Explicit, 1, maxPages);
    REQUIRE(m.ok());
    auto base = reinterpret_cast<uintptr_t>(m.value()->base());
    uintptr_t from = base + maxPages * abi::kWasmPageSize;
    uintptr_t to = base + abi::kGuardReservationBytes; // every address a guest can form
    uintptr_t covered = from;
    for (const Mapping& map : mappings()) {
      if (map.end <= from || map.start >= to) continue;
      CAPTURE(map.path);
      CHECK(map.perms == "---p"); // nothing readable, writable or executable
      CHECK(map.path.empty());    // and nothing of the host's: the reservation
      if (map.start <= covered) covered = std::max(covered, map.end);
    }
    // No hole, either, where a later mmap of the host could land.
    CHECK(covered >= to);
  }
}

TEST_CASE("explicit mode: an access the compiler forgot to check faults in the guard region") {
  // art-basic-explicit's memory is 1..2 pages; loadUnchecked has no check.
  for (int64_t eff : {int64_t(65536), int64_t(2) * 65536, int64_t(1) << 20, int64_t(1) << 31,
                      (int64_t(1) << 32) - 1, (int64_t(8) << 30) + 65535}) {
    CAPTURE(eff);
    ChildOutcome out = inChild([eff] {
      auto inst = instantiate("art-basic-explicit", false);
      if (!inst) return 10;
      abi::Value arg = i64(eff);
      rt::InvokeResult r = rt::invoke(inst->exportedFunction("loadUnchecked"), {&arg, 1});
      if (r.trap != abi::TrapCode::MemoryOutOfBounds) return 1; // it read something
      // Still usable afterwards.
      abi::Value zero = i64(0);
      r = rt::invoke(inst->exportedFunction("loadUnchecked"), {&zero, 1});
      return r.ok() ? 0 : 2;
    });
    CHECK_MESSAGE(out.exited(0), out.describe());
    // Reported as what it is: a missed check, stopped by the guard region.
    CHECK(out.err.find("a bounds check was missed") != std::string::npos);
  }
}

TEST_CASE("a host function's fault in linear memory crashes the host, it is no guest trap") {
  for (const char* name : {"art-basic", "art-basic-explicit"}) {
    CAPTURE(name);
    ChildOutcome out = inChild([name] {
      auto inst = instantiate(name, true);
      if (!inst) return 10;
      abi::Value args[] = {i32(0), i32(0)};
      rt::InvokeResult r = rt::invoke(inst->exportedFunction("checkPtr"), args);
      return r.trap == abi::TrapCode::MemoryOutOfBounds ? 3 : 4; // not reached if it crashed
    });
    CHECK_MESSAGE(out.killedBy(SIGSEGV), out.describe());
    CHECK(out.err.find("faasm runtime: fatal: SIGSEGV at address") != std::string::npos);
    CHECK(out.err.find("in host code touching a linear memory: a host bug") != std::string::npos);
  }
}

TEST_CASE("guard mode: generated code's faults anywhere in the reservation are traps") {
  // The other side of the rule above: the PC check must not stop real traps.
  for (int64_t eff : {int64_t(65536) * 3, (int64_t(1) << 32) - 1, (int64_t(8) << 30) + 65535}) {
    CAPTURE(eff);
    ChildOutcome out = inChild([eff] {
      auto inst = instantiate("art-basic", false);
      if (!inst) return 10;
      abi::Value arg = i64(eff);
      rt::InvokeResult r = rt::invoke(inst->exportedFunction("loadEff"), {&arg, 1});
      return r.trap == abi::TrapCode::MemoryOutOfBounds ? 0 : 1;
    });
    CHECK_MESSAGE(out.exited(0), out.describe());
    CHECK(out.err.empty());
  }
}
