// A hand-made artefact importing WASI functions and re-exporting them, so
// tests can call them with guest pointers; "_start" prints "hi\n" through
// fd_write. UNKNOWN_IMPORT adds an import the host does not provide.
#include "../../runtime/data/TestArtefact.h"

using namespace testart;

namespace {

template <typename R, typename... A> R callFunc(VMContext* vm, uint32_t index, A... a) {
  FuncRef* f = vm->funcs[index];
  return reinterpret_cast<R (*)(VMContext*, A...)>(const_cast<void*>(f->code))(f->vmctx, a...);
}

void start(VMContext* vm) {
  uint32_t iov[2] = {16, 3};
  std::memcpy(vm->memoryBase, iov, 8);
  callFunc<int32_t>(vm, 6, int32_t(1), int32_t(0), int32_t(1), int32_t(8));
}
void unreachable(VMContext* vm) {
  vm->rt->trap(vm, uint32_t(TrapCode::Unreachable), 0);
}

constexpr FuncTypeDesc kTypes[] = {
    {"ii:i", Thunk<int32_t, int32_t, int32_t>::thunk},                     // 0
    {"iIi:i", Thunk<int32_t, int32_t, int64_t, int32_t>::thunk},           // 1
    {"iiii:i", Thunk<int32_t, int32_t, int32_t, int32_t, int32_t>::thunk}, // 2
    {"iIii:i", Thunk<int32_t, int32_t, int64_t, int32_t, int32_t>::thunk}, // 3
    {"i:", Thunk<void, int32_t>::thunk},                                   // 4
    {"i:i", Thunk<int32_t, int32_t>::thunk},                               // 5
    {":", Thunk<void>::thunk},                                             // 6
    {"iii:i", Thunk<int32_t, int32_t, int32_t, int32_t>::thunk},           // 7
};

constexpr ImportDesc wasi(const char* name, uint32_t type) {
  ImportDesc d{};
  d.module = "wasi_snapshot_preview1";
  d.name = name;
  d.typeIndex = type;
  d.kind = uint8_t(ExternKind::Func);
  return d;
}
constexpr ImportDesc kImports[] = {
    wasi("args_sizes_get", 0), wasi("args_get", 0),       wasi("environ_sizes_get", 0),
    wasi("environ_get", 0),    wasi("clock_time_get", 1), wasi("random_get", 0),
    wasi("fd_write", 2),       wasi("fd_seek", 3),        wasi("fd_fdstat_get", 0),
    wasi("fd_prestat_get", 0), wasi("proc_exit", 4),      wasi("poll_oneoff", 2),
    wasi("fd_close", 5),
#ifdef UNKNOWN_IMPORT
    wasi("sock_open", 7), // not in preview1 (some runtimes add it)
#endif
};
constexpr uint32_t kNumImports = sizeof(kImports) / sizeof(kImports[0]);

const FuncDesc kFuncs[] = {{reinterpret_cast<const void*>(&start), "_start", 6, 0},
                           {reinterpret_cast<const void*>(&unreachable), "unreachable", 6, 0}};
constexpr MemoryDesc kMemories[] = {{limits(1, 1)}};
constexpr uint8_t kHi[] = {'h', 'i', '\n'};
constexpr DataSegmentDesc hiSegment() {
  DataSegmentDesc s{};
  s.offset = i32Const(16);
  s.bytes = kHi;
  s.size = 3;
  s.mode = uint8_t(SegmentMode::Active);
  return s;
}
constexpr DataSegmentDesc kData[] = {hiSegment()};

constexpr ExportDesc exportFunc(const char* name, uint32_t index) {
  return ExportDesc{name, index, uint8_t(ExternKind::Func), {}};
}
constexpr ExportDesc kExports[] = {
    exportFunc("args_sizes_get", 0),
    exportFunc("args_get", 1),
    exportFunc("environ_sizes_get", 2),
    exportFunc("environ_get", 3),
    exportFunc("clock_time_get", 4),
    exportFunc("random_get", 5),
    exportFunc("fd_write", 6),
    exportFunc("fd_seek", 7),
    exportFunc("fd_fdstat_get", 8),
    exportFunc("fd_prestat_get", 9),
    exportFunc("proc_exit", 10),
    exportFunc("poll_oneoff", 11),
    exportFunc("fd_close", 12),
    exportFunc("_start", kNumImports),
    exportFunc("unreachable", kNumImports + 1),
    ExportDesc{"memory", 0, uint8_t(ExternKind::Memory), {}},
};

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(BoundsMode::Guard);
  d.types = arr(kTypes);
  d.imports = arr(kImports);
  d.functions = arr(kFuncs);
  d.memories = arr(kMemories);
  d.exports = arr(kExports);
  d.dataSegments = arr(kData);
  return d;
}
} // namespace

FAASM_TEST_DESCRIPTOR = make();
