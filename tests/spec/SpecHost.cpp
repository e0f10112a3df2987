#include "SpecHost.h"

#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Objects.h"

namespace faasm::spec {
namespace {

// The reference interpreter prints its arguments; the runner has no use for
// that output, so these only exist to be imported and called.
void print(abi::VMContext*) {}
void printI32(abi::VMContext*, int32_t) {}
void printI64(abi::VMContext*, int64_t) {}
void printF32(abi::VMContext*, float) {}
void printF64(abi::VMContext*, double) {}
void printI32F32(abi::VMContext*, int32_t, float) {}
void printF64F64(abi::VMContext*, double, double) {}

} // namespace

std::unique_ptr<runtime::HostModuleRegistry> makeSpectest(abi::BoundsMode bounds,
                                                          std::string& outError) {
  using host::hostFunction;
  using runtime::GlobalObject;
  auto r = std::make_unique<runtime::HostModuleRegistry>();
  r->addFunction(hostFunction<print>("spectest", "print"));
  r->addFunction(hostFunction<printI32>("spectest", "print_i32"));
  r->addFunction(hostFunction<printI64>("spectest", "print_i64"));
  r->addFunction(hostFunction<printF32>("spectest", "print_f32"));
  r->addFunction(hostFunction<printF64>("spectest", "print_f64"));
  r->addFunction(hostFunction<printI32F32>("spectest", "print_i32_f32"));
  r->addFunction(hostFunction<printF64F64>("spectest", "print_f64_f64"));
  r->addGlobal("spectest", "global_i32",
               GlobalObject::create(abi::ValType::I32, false, GlobalObject::i32(666)));
  r->addGlobal("spectest", "global_i64",
               GlobalObject::create(abi::ValType::I64, false, GlobalObject::i64(666)));
  r->addGlobal("spectest", "global_f32",
               GlobalObject::create(abi::ValType::F32, false, GlobalObject::f32(666.6f)));
  r->addGlobal("spectest", "global_f64",
               GlobalObject::create(abi::ValType::F64, false, GlobalObject::f64(666.6)));
  auto table = runtime::TableObject::create(abi::ValType::FuncRef, 10, 20);
  if (!table) {
    outError = "cannot create the spectest table: " + table.error().message;
    return nullptr;
  }
  r->addTable("spectest", "table", table.value());
  auto memory = runtime::Memory::create(bounds, 1, 2);
  if (!memory) {
    outError = "cannot create the spectest memory: " + memory.error().message;
    return nullptr;
  }
  r->addMemory("spectest", "memory", memory.value());
  return r;
}

} // namespace faasm::spec
