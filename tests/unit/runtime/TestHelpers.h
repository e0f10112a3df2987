// Shared by the runtime tests: artefact paths, the "env" host module the
// hand-made artefacts import, and value helpers.
#pragma once

#include "faasm/host/GuestMemory.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Module.h"
#include "faasm/test/HandMade.h"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace rt = faasm::runtime;
namespace abi = faasm::abi;

inline std::string artefact(const std::string& name) {
  return std::string(FAASM_TEST_ARTEFACT_DIR) + "/" + name + ".so";
}

inline abi::Value i32(int32_t v) {
  return rt::GlobalObject::i32(v);
}
inline abi::Value i64(int64_t v) {
  return rt::GlobalObject::i64(v);
}
inline int32_t asI32(const abi::Value& v) {
  int32_t out;
  std::memcpy(&out, &v.lo, 4);
  return out;
}

namespace testhost {
inline int32_t add(abi::VMContext*, int32_t a, int32_t b) {
  return a + b;
}
inline void exit(abi::VMContext*, int32_t code) {
  faasm::host::exitGuest(code);
}
// Sums the guest bytes [p, p + n): validates before reading.
inline int32_t check(abi::VMContext* vm, int32_t p, int32_t n) {
  uint8_t* bytes = faasm::host::guestSpan(vm, uint32_t(p), uint32_t(n)).data();
  int32_t sum = 0;
  for (uint32_t i = 0; i < uint32_t(n); ++i)
    sum += bytes[i];
  return sum;
}
// Calls back into the calling instance: "double"(x), or "unreachable" if x < 0
// (then returns -100 if that nested call trapped as it should).
inline int32_t reenter(abi::VMContext* vm, int32_t x) {
  int32_t out;
  {
    rt::Instance* inst = rt::Instance::fromVmctx(vm);
    if (x < 0) {
      rt::InvokeResult r = rt::invoke(inst->exportedFunction("unreachable"), {});
      out = r.trap == abi::TrapCode::Unreachable ? -100 : -1;
    } else {
      abi::Value arg = i32(x);
      rt::InvokeResult r = rt::invoke(inst->exportedFunction("double"), {&arg, 1});
      out = r.ok() ? asI32(r.results[0]) + 1 : -1;
    }
  }
  return out;
}
} // namespace testhost

struct EnvHost {
  rt::HostModuleRegistry registry;
  std::shared_ptr<rt::GlobalObject> base =
      rt::GlobalObject::create(abi::ValType::I32, false, i32(41));
  EnvHost() {
    registry.addFunction(faasm::host::hostFunction<&testhost::add>("env", "host_add"));
    registry.addFunction(faasm::host::hostFunction<&testhost::exit>("env", "host_exit"));
    registry.addFunction(faasm::host::hostFunction<&testhost::check>("env", "host_check"));
    registry.addFunction(faasm::host::hostFunction<&testhost::reenter>("env", "host_reenter"));
    registry.addGlobal("env", "base", base);
  }
};

// A hand-made artefact (data/): loaded as faasm/test/HandMade.h says.
inline std::shared_ptr<rt::Module> loadOk(const std::string& name) {
  auto m = faasm::test::loadHandMade(artefact(name));
  if (!m) FAIL("load failed: " << m.error().message);
  return m.value();
}

inline std::shared_ptr<rt::Instance> instantiateBasic(EnvHost& host,
                                                      const std::string& name = "art-basic") {
  auto inst = rt::Instance::instantiate(loadOk(name), host.registry.resolver());
  if (!inst) FAIL("instantiate failed: " << inst.error().message);
  return inst.value();
}

inline rt::InvokeResult call(rt::Instance& inst, const char* name,
                             std::vector<abi::Value> args = {}) {
  auto r = inst.invokeExport(name, args);
  if (!r) FAIL("invokeExport failed: " << r.error().message);
  return r.value();
}

inline int32_t callI32(rt::Instance& inst, const char* name, std::vector<abi::Value> args = {}) {
  rt::InvokeResult r = call(inst, name, std::move(args));
  REQUIRE_MESSAGE(r.ok(), "trap: " << abi::trapMessage(r.trap));
  REQUIRE(r.results.size() == 1);
  return asI32(r.results[0]);
}
