// An artefact shaped as faasm-codegen makes them (no libc, no constructors,
// a descriptor that needs only relative relocations), which a test seals with
// its own key to load it through Module::load. Each -D variant adds one thing
// the loader must refuse before dlopen, whatever its seal says.
#include "faasm/abi/Abi.h"

using namespace faasm::abi;

namespace {

int32_t answer(VMContext*) {
  return 42;
}
// An access with no bounds check at all, guard-mode style: the reservation
// must turn any address it forms into a trap.
int32_t loadAt(VMContext* vm, int64_t eff) {
  return *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + uint64_t(eff));
}

void answerThunk(VMContext* vm, const void* code, const Value*, Value* r) {
  r[0] = Value{uint32_t(reinterpret_cast<int32_t (*)(VMContext*)>(const_cast<void*>(code))(vm)), 0};
}
void loadAtThunk(VMContext* vm, const void* code, const Value* a, Value* r) {
  auto fn = reinterpret_cast<int32_t (*)(VMContext*, int64_t)>(const_cast<void*>(code));
  r[0] = Value{uint32_t(fn(vm, int64_t(a[0].lo))), 0};
}

constexpr FuncTypeDesc kTypes[] = {{":i", answerThunk}, {"I:i", loadAtThunk}};
const FuncDesc kFuncs[] = {{reinterpret_cast<const void*>(&answer), "answer", 0, 0},
                           {reinterpret_cast<const void*>(&loadAt), "loadAt", 1, 0}};
constexpr MemoryDesc kMemories[] = {{Limits{1, 1, 1, {}}}};
constexpr ExportDesc kExports[] = {{"answer", 0, uint8_t(ExternKind::Func), {}},
                                   {"loadAt", 1, uint8_t(ExternKind::Func), {}}};

} // namespace

#if defined(SEALABLE_CTOR)
extern "C" __attribute__((visibility("default"))) volatile int constructed;
extern "C" __attribute__((constructor)) void construct() {
  constructed = 1;
}
#elif defined(SEALABLE_TLS)
__thread int perThread;
extern "C" __attribute__((visibility("default"))) int* tlsAddress() {
  return &perThread;
}
#elif defined(SEALABLE_IFUNC)
extern "C" int chosen() {
  return 1;
}
extern "C" int (*resolveChosen())() {
  return &chosen;
}
extern "C" __attribute__((visibility("default"), ifunc("resolveChosen"))) int picked();
#elif defined(SEALABLE_IMPORT)
extern "C" int getpid();
extern "C" __attribute__((visibility("default"))) int callsHost() {
  return getpid();
}
#endif

extern "C" __attribute__((
    visibility("default"))) constinit const ModuleDescriptor faasm_module_descriptor = {
    .magic = kMagic,
    .abiVersion = kAbiVersion,
    .compilerVersion = "sealable-test-artefact",
    .boundsMode = uint32_t(
#if defined(SEALABLE_EXPLICIT)
        BoundsMode::Explicit
#else
        BoundsMode::Guard
#endif
        ),
    .startFunction = -1,
    .cpuFeatures = 0,
    .types = {kTypes, 2},
    .imports = {nullptr, 0},
    .functions = {kFuncs, 2},
    .tables = {nullptr, 0},
    .memories = {kMemories, 1},
    .globals = {nullptr, 0},
    .exports = {kExports, 2},
    .dataSegments = {nullptr, 0},
    .elemSegments = {nullptr, 0},
    .sourceName = "sealable",
    .dylink = nullptr,
    .codeMap = nullptr,
};
