// A hand-made artefact that imports every host function reading a guest
// structure (and a few it needs around them) and re-exports each under its
// own name, so a test can call it with whatever guest memory it likes while
// another thread or process rewrites that memory. Guard mode, or explicit
// mode when built with TEST_EXPLICIT. Memory: 1 page, at most 16.
#include "../../../unit/runtime/data/TestArtefact.h"

using namespace testart;

namespace {

#ifdef TEST_EXPLICIT
constexpr BoundsMode kMode = BoundsMode::Explicit;
#else
constexpr BoundsMode kMode = BoundsMode::Guard;
#endif

using I = int32_t;
using L = int64_t;

constexpr FuncTypeDesc kTypes[] = {
    {"i:i", Thunk<I, I>::thunk},                                 // 0
    {"ii:i", Thunk<I, I, I>::thunk},                             // 1
    {"iii:i", Thunk<I, I, I, I>::thunk},                         // 2
    {"iiii:i", Thunk<I, I, I, I, I>::thunk},                     // 3
    {"iiiii:i", Thunk<I, I, I, I, I, I>::thunk},                 // 4
    {"iiiiii:i", Thunk<I, I, I, I, I, I, I>::thunk},             // 5
    {"iiiIi:i", Thunk<I, I, I, I, L, I>::thunk},                 // 6
    {"iiiiiIIii:i", Thunk<I, I, I, I, I, I, L, L, I, I>::thunk}, // 7
    {"iI:i", Thunk<I, I, L>::thunk},                             // 8
    {"iII:i", Thunk<I, I, L, L>::thunk},                         // 9
    {"iIIi:i", Thunk<I, I, L, L, I>::thunk},                     // 10
    {"iIii:i", Thunk<I, I, L, I, I>::thunk},                     // 11
    {"i:", Thunk<void, I>::thunk},                               // 12
    {"ii:", Thunk<void, I, I>::thunk},                           // 13
    {"iii:", Thunk<void, I, I, I>::thunk},                       // 14
    {"iiii:", Thunk<void, I, I, I, I>::thunk},                   // 15
    {"iiiii:", Thunk<void, I, I, I, I, I>::thunk},               // 16
    {"iiiiIIi:i", Thunk<I, I, I, I, I, L, L, I>::thunk},         // 17
    {"iiiiiii:i", Thunk<I, I, I, I, I, I, I, I>::thunk},         // 18
};

struct Import {
  const char* module;
  const char* name;
  uint32_t type;
};
constexpr const char* W = "wasi_snapshot_preview1";
constexpr const char* F = "faasm";
constexpr Import kList[] = {
    {W, "fd_write", 3},
    {W, "fd_read", 3},
    {W, "fd_pwrite", 6},
    {W, "fd_pread", 6},
    {W, "poll_oneoff", 3},
    {W, "path_open", 7},
    {W, "path_filestat_get", 4},
    {W, "path_create_directory", 2},
    {W, "path_unlink_file", 2},
    {W, "path_remove_directory", 2},
    {W, "path_rename", 5},
    {W, "path_readlink", 5},
    {W, "fd_filestat_get", 1},
    {W, "fd_filestat_set_size", 8},
    {W, "fd_allocate", 9},
    {W, "fd_advise", 10},
    {W, "fd_seek", 11},
    {W, "fd_tell", 1},
    {W, "fd_sync", 0},
    {W, "fd_datasync", 0},
    {W, "fd_fdstat_get", 1},
    {W, "fd_fdstat_set_flags", 1},
    {W, "fd_close", 0},
    {W, "fd_readdir", 6},
    {W, "fd_renumber", 1},
    {W, "fd_fdstat_set_rights", 9},
    {W, "fd_filestat_set_times", 10},
    {W, "path_filestat_set_times", 17},
    {W, "path_link", 18},
    {W, "path_symlink", 4},
    {W, "sock_accept", 2},
    {W, "sock_recv", 5},
    {W, "sock_send", 4},
    {W, "sock_shutdown", 1},
    {W, "proc_raise", 0},
    {F, "faasmReadStateSize", 0},
    {F, "faasmReadState", 2},
    {F, "faasmReadStateOffset", 16},
    {F, "faasmReadStatePtr", 1},
    {F, "faasmReadStateOffsetPtr", 3},
    {F, "faasmWriteState", 14},
    {F, "faasmWriteStateOffset", 16},
    {F, "faasmFlagStateDirty", 13},
    {F, "faasmPushState", 12},
    {F, "faasmPushStatePartial", 12},
    {F, "faasmPullState", 13},
    {F, "faasmLockStateRead", 12},
    {F, "faasmUnlockStateRead", 12},
    {F, "faasmLockStateWrite", 12},
    {F, "faasmUnlockStateWrite", 12},
    {F, "faasmAppendState", 14},
    {F, "faasmReadAppendedState", 15},
    {F, "faasmClearAppendedState", 12},
    {F, "faasmChainNamed", 2},
    {F, "faasmChain", 2},
    {F, "faasmFlagStateOffsetDirty", 15},
    {F, "faasmPushStatePartialMask", 13},
};
constexpr uint32_t kCount = sizeof(kList) / sizeof(kList[0]);

struct Tables {
  ImportDesc imports[kCount];
  ExportDesc exports[kCount + 1];
};

constexpr Tables makeTables() {
  Tables t{};
  for (uint32_t i = 0; i < kCount; ++i) {
    t.imports[i].module = kList[i].module;
    t.imports[i].name = kList[i].name;
    t.imports[i].typeIndex = kList[i].type;
    t.imports[i].kind = uint8_t(ExternKind::Func);
    t.exports[i] = ExportDesc{kList[i].name, i, uint8_t(ExternKind::Func), {}};
  }
  t.exports[kCount] = ExportDesc{"memory", 0, uint8_t(ExternKind::Memory), {}};
  return t;
}
constexpr Tables kTables = makeTables();

constexpr MemoryDesc kMemories[] = {{limits(1, 16)}};

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(kMode);
  d.types = arr(kTypes);
  d.imports = arr(kTables.imports);
  d.memories = arr(kMemories);
  d.exports = arr(kTables.exports);
  return d;
}
} // namespace

FAASM_TEST_DESCRIPTOR = make();
