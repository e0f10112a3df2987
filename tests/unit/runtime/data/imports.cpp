// An artefact importing one of each kind, for import matching.
#include "TestArtefact.h"

using namespace testart;

namespace {
int32_t callF(VMContext* vm, int32_t x) {
  FuncRef* f = vm->funcs[0];
  return reinterpret_cast<int32_t (*)(VMContext*, int32_t)>(const_cast<void*>(f->code))(f->vmctx,
                                                                                        x);
}
int32_t getG(VMContext* vm) {
  return int32_t(vm->globals[0]->lo);
}
int32_t memPages(VMContext* vm) {
  return int32_t(vm->memorySize / kWasmPageSize);
}
int32_t grow(VMContext* vm, int32_t d) {
  return vm->rt->memoryGrow(vm, uint32_t(d));
}

constexpr FuncTypeDesc kTypes[] = {{"i:i", Thunk<int32_t, int32_t>::thunk},
                                   {":i", Thunk<int32_t>::thunk}};

constexpr ImportDesc imp(const char* name, ExternKind kind) {
  ImportDesc d{};
  d.module = "env";
  d.name = name;
  d.kind = uint8_t(kind);
  return d;
}
constexpr ImportDesc makeFunc() {
  ImportDesc d = imp("f", ExternKind::Func);
  d.typeIndex = 0;
  return d;
}
constexpr ImportDesc makeMem() {
  ImportDesc d = imp("mem", ExternKind::Memory);
  d.limits = limits(1, 2);
  return d;
}
constexpr ImportDesc makeTab() {
  ImportDesc d = imp("tab", ExternKind::Table);
  d.limits = limits(10, 20);
  d.valType = uint8_t(ValType::FuncRef);
  return d;
}
constexpr ImportDesc makeGlobal(const char* name, ValType t, bool mut) {
  ImportDesc d = imp(name, ExternKind::Global);
  d.valType = uint8_t(t);
  d.isMutable = mut;
  return d;
}
constexpr ImportDesc kImports[] = {makeFunc(), makeMem(), makeTab(),
                                   makeGlobal("g", ValType::I32, false),
                                   makeGlobal("gm", ValType::I64, true)};
const FuncDesc kFuncs[] = {{reinterpret_cast<const void*>(&callF), "callF", 0, 0},
                           {reinterpret_cast<const void*>(&getG), "getG", 1, 0},
                           {reinterpret_cast<const void*>(&memPages), "memPages", 1, 0},
                           {reinterpret_cast<const void*>(&grow), "grow", 0, 0}};
constexpr ExportDesc kExports[] = {{"callF", 1, uint8_t(ExternKind::Func), {}},
                                   {"getG", 2, uint8_t(ExternKind::Func), {}},
                                   {"memPages", 3, uint8_t(ExternKind::Func), {}},
                                   {"grow", 4, uint8_t(ExternKind::Func), {}}};

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(BoundsMode::Guard);
  d.types = arr(kTypes);
  d.imports = arr(kImports);
  d.functions = arr(kFuncs);
  d.exports = arr(kExports);
  return d;
}
} // namespace

FAASM_TEST_DESCRIPTOR = make();
