// Artefacts the loader must refuse: wrong magic, another ABI version, a CPU
// feature no host has. Built once per -D variant.
#include "TestArtefact.h"

using namespace testart;

namespace {
int32_t answer(VMContext*) {
  return 42;
}
void trapNow(VMContext* vm) {
  vm->rt->trap(vm, uint32_t(TrapCode::Unreachable), 0);
}
constexpr FuncTypeDesc kTypes[] = {{":i", Thunk<int32_t>::thunk}, {":", Thunk<void>::thunk}};
const FuncDesc kFuncs[] = {{reinterpret_cast<const void*>(&answer), "answer", 0, 0},
                           {reinterpret_cast<const void*>(&trapNow), "trapNow", 1, 0}};
constexpr ExportDesc kExports[] = {{"answer", 0, uint8_t(ExternKind::Func), {}}};

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(BoundsMode::Guard);
  d.types = arr(kTypes);
  d.functions = arr(kFuncs);
  d.exports = arr(kExports);
#if defined(BAD_MAGIC)
  d.magic = 0x12345678;
#elif defined(BAD_ABI)
  static_assert(kAbiVersion != 99, "pick another foreign ABI version for this artefact");
  d.abiVersion = 99;
  d.compilerVersion = "9.9.9";
#elif defined(BAD_CPU)
  d.cpuFeatures = kCpuBaseline | (1ull << 63);
#elif defined(START_TRAP)
  d.startFunction = 1;
#elif defined(BAD_BOUNDS)
  d.boundsMode = 7;
#endif
  return d;
}
} // namespace

FAASM_TEST_DESCRIPTOR = make();
