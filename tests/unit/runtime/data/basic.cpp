// The main hand-made artefact: a guard-mode module (or explicit-mode, when
// built with TEST_EXPLICIT) with host imports, memory, a table, globals,
// segments, a start function and one function per runtime feature.
#include "TestArtefact.h"

using namespace testart;

namespace {

#ifdef TEST_EXPLICIT
constexpr BoundsMode kMode = BoundsMode::Explicit;
// Explicit mode: generated code compares every access with memorySize.
inline void check(VMContext* vm, uint64_t addr, uint64_t size) {
  if (addr + size > vm->memorySize) vm->rt->trap(vm, uint32_t(TrapCode::MemoryOutOfBounds), 0);
}
#else
constexpr BoundsMode kMode = BoundsMode::Guard;
inline void check(VMContext*, uint64_t, uint64_t) {}
#endif

template <typename R, typename... A> R callFunc(VMContext* vm, uint32_t index, A... a) {
  FuncRef* f = vm->funcs[index];
  return reinterpret_cast<R (*)(VMContext*, A...)>(const_cast<void*>(f->code))(f->vmctx, a...);
}

int32_t load8(VMContext* vm, int32_t addr) {
  uint64_t a = uint32_t(addr); // zero-extend: a sign extension would escape the sandbox
  check(vm, a, 1);
  return *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + a);
}
int32_t loadEff(VMContext* vm, int64_t eff) {
  check(vm, uint64_t(eff), 1);
  return *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + uint64_t(eff));
}
void store8(VMContext* vm, int32_t addr, int32_t v) {
  uint64_t a = uint32_t(addr);
  check(vm, a, 1);
  *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + a) = uint8_t(v);
}
int32_t grow(VMContext* vm, int32_t d) {
  return vm->rt->memoryGrow(vm, uint32_t(d));
}
int32_t size(VMContext* vm) {
  return int32_t(vm->memorySize / kWasmPageSize);
}
void memInit(VMContext* vm, int32_t seg, int32_t dst, int32_t src, int32_t len) {
  vm->rt->memoryInit(vm, seg, dst, src, len);
}
void dataDrop(VMContext* vm, int32_t seg) {
  vm->rt->dataDrop(vm, seg);
}
void memCopy(VMContext* vm, int32_t d, int32_t s, int32_t n) {
  vm->rt->memoryCopy(vm, d, s, n);
}
void memFill(VMContext* vm, int32_t d, int32_t v, int32_t n) {
  vm->rt->memoryFill(vm, d, v, n);
}
int32_t callAdd(VMContext* vm, int32_t a, int32_t b) {
  return callFunc<int32_t>(vm, 0, a, b);
}
void exitWith(VMContext* vm, int32_t code) {
  callFunc<void>(vm, 1, code);
}
void unreachable(VMContext* vm) {
  vm->rt->trap(vm, uint32_t(TrapCode::Unreachable), 0);
}
int32_t recurse(VMContext* vm, int32_t n) {
  volatile char pad[512];
  pad[0] = char(n);
  if (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < vm->stackLimit)
    vm->rt->trap(vm, uint32_t(TrapCode::StackExhausted), 0);
  if (n <= 0) return 0;
  pad[1] = char(recurse(vm, n - 1)); // keeps the frame live across the call
  return (pad[0] == char(n) ? n : -1);
}
int32_t callIndirect(VMContext* vm, int32_t elem, int32_t x) {
  Table* t = vm->tables[0];
  if (uint32_t(elem) >= t->size) vm->rt->trap(vm, uint32_t(TrapCode::UndefinedElement), 0);
  auto* f = static_cast<FuncRef*>(t->elements[elem]);
  if (!f) vm->rt->trap(vm, uint32_t(TrapCode::UninitializedElement), 0);
  if (f->typeId != vm->typeIds[1])
    vm->rt->trap(vm, uint32_t(TrapCode::IndirectCallTypeMismatch), 0);
  return reinterpret_cast<int32_t (*)(VMContext*, int32_t)>(const_cast<void*>(f->code))(f->vmctx,
                                                                                        x);
}
int32_t twice(VMContext*, int32_t x) {
  return x * 2;
}
int32_t checkPtr(VMContext* vm, int32_t p, int32_t n) {
  return callFunc<int32_t>(vm, 2, p, n);
}
int32_t reenter(VMContext* vm, int32_t x) {
  return callFunc<int32_t>(vm, 3, x);
}
int32_t tableGrow(VMContext* vm, int32_t d) {
  return vm->rt->tableGrow(vm, 0, nullptr, d);
}
int32_t tableSize(VMContext* vm) {
  return int32_t(vm->tables[0]->size);
}
void tableFill(VMContext* vm, int32_t dst, int32_t func, int32_t n) {
  vm->rt->tableFill(vm, 0, dst, func < 0 ? nullptr : vm->funcs[func], n);
}
void tableCopy(VMContext* vm, int32_t d, int32_t s, int32_t n) {
  vm->rt->tableCopy(vm, 0, 0, d, s, n);
}
void tableInit(VMContext* vm, int32_t seg, int32_t d, int32_t s, int32_t n) {
  vm->rt->tableInit(vm, 0, seg, d, s, n);
}
void elemDrop(VMContext* vm, int32_t seg) {
  vm->rt->elemDrop(vm, seg);
}
void start(VMContext* vm) {
  int32_t v;
  std::memcpy(&v, &vm->globals[1]->lo, 4);
  v += 1;
  std::memcpy(&vm->globals[1]->lo, &v, 4);
}
int32_t getGlobal(VMContext* vm) {
  int32_t v;
  std::memcpy(&v, &vm->globals[1]->lo, 4);
  return v;
}
void trapWith(VMContext* vm, int32_t code) {
  vm->rt->trap(vm, uint32_t(code), 0);
}
// No bounds check in either mode: what explicit-mode code would do if the
// compiler had dropped a check (the guard region past the memory stops it).
int32_t loadUnchecked(VMContext* vm, int64_t eff) {
  return *reinterpret_cast<volatile uint8_t*>(vm->memoryBase + uint64_t(eff));
}

constexpr FuncTypeDesc kTypes[] = {
    {":", Thunk<void>::thunk},                                         // 0
    {"i:i", Thunk<int32_t, int32_t>::thunk},                           // 1
    {"ii:i", Thunk<int32_t, int32_t, int32_t>::thunk},                 // 2
    {"iii:", Thunk<void, int32_t, int32_t, int32_t>::thunk},           // 3
    {":i", Thunk<int32_t>::thunk},                                     // 4
    {"i:", Thunk<void, int32_t>::thunk},                               // 5
    {"I:i", Thunk<int32_t, int64_t>::thunk},                           // 6
    {"iiii:", Thunk<void, int32_t, int32_t, int32_t, int32_t>::thunk}, // 7
    {"ii:", Thunk<void, int32_t, int32_t>::thunk},                     // 8
};

constexpr ImportDesc importFunc(const char* name, uint32_t type) {
  ImportDesc d{};
  d.module = "env";
  d.name = name;
  d.typeIndex = type;
  d.kind = uint8_t(ExternKind::Func);
  return d;
}
constexpr ImportDesc importGlobal(const char* name) {
  ImportDesc d{};
  d.module = "env";
  d.name = name;
  d.kind = uint8_t(ExternKind::Global);
  d.valType = uint8_t(ValType::I32);
  return d;
}

constexpr ImportDesc kImports[] = {
    importFunc("host_add", 2),     importFunc("host_exit", 5), importFunc("host_check", 2),
    importFunc("host_reenter", 1), importGlobal("base"),
};

#define FN(f, t) {reinterpret_cast<const void*>(&f), #f, t, 0}
const FuncDesc kFuncs[] = {
    FN(load8, 1),     FN(loadEff, 6),      FN(store8, 8),        FN(grow, 1),        // 4..7
    FN(size, 4),      FN(memInit, 7),      FN(dataDrop, 5),      FN(memCopy, 3),     // 8..11
    FN(memFill, 3),   FN(callAdd, 2),      FN(exitWith, 5),      FN(unreachable, 0), // 12..15
    FN(recurse, 1),   FN(callIndirect, 2), FN(twice, 1),         FN(checkPtr, 2),    // 16..19
    FN(reenter, 1),   FN(tableGrow, 1),    FN(tableSize, 4),     FN(tableFill, 3),   // 20..23
    FN(tableCopy, 3), FN(tableInit, 7),    FN(elemDrop, 5),      FN(start, 0),       // 24..27
    FN(getGlobal, 4), FN(trapWith, 5),     FN(loadUnchecked, 6),                     // 28..30
};
#undef FN

constexpr TableDesc kTables[] = {{limits(4, 10), uint8_t(ValType::FuncRef), {}}};
#ifdef TEST_EXPLICIT
constexpr MemoryDesc kMemories[] = {{limits(1, 2)}};
#else
constexpr MemoryDesc kMemories[] = {{limits(1, 3)}};
#endif

constexpr GlobalDesc counterGlobal() {
  GlobalDesc g{};
  g.init = globalGet(0);
  g.type = uint8_t(ValType::I32);
  g.isMutable = 1;
  return g;
}
// Reference globals, null at first (what snapshots must carry without host
// pointers).
constexpr GlobalDesc refGlobal(ValType t) {
  GlobalDesc g{};
  g.init = refNull();
  g.init.type = uint8_t(t);
  g.type = uint8_t(t);
  g.isMutable = 1;
  return g;
}
constexpr GlobalDesc kGlobals[] = {counterGlobal(), refGlobal(ValType::FuncRef),
                                   refGlobal(ValType::ExternRef)};

constexpr ExportDesc exportFunc(const char* name, uint32_t index) {
  return ExportDesc{name, index, uint8_t(ExternKind::Func), {}};
}
constexpr ExportDesc kExports[] = {
    exportFunc("load8", 4),
    exportFunc("loadEff", 5),
    exportFunc("store8", 6),
    exportFunc("grow", 7),
    exportFunc("size", 8),
    exportFunc("memInit", 9),
    exportFunc("dataDrop", 10),
    exportFunc("memCopy", 11),
    exportFunc("memFill", 12),
    exportFunc("callAdd", 13),
    exportFunc("exitWith", 14),
    exportFunc("unreachable", 15),
    exportFunc("recurse", 16),
    exportFunc("callIndirect", 17),
    exportFunc("double", 18),
    exportFunc("checkPtr", 19),
    exportFunc("reenter", 20),
    exportFunc("tableGrow", 21),
    exportFunc("tableSize", 22),
    exportFunc("tableFill", 23),
    exportFunc("tableCopy", 24),
    exportFunc("tableInit", 25),
    exportFunc("elemDrop", 26),
    exportFunc("getGlobal", 28),
    exportFunc("trapWith", 29),
    exportFunc("loadUnchecked", 30),
    ExportDesc{"memory", 0, uint8_t(ExternKind::Memory), {}},
    ExportDesc{"table", 0, uint8_t(ExternKind::Table), {}},
    ExportDesc{"counter", 1, uint8_t(ExternKind::Global), {}},
    ExportDesc{"funcref", 2, uint8_t(ExternKind::Global), {}},
    ExportDesc{"externref", 3, uint8_t(ExternKind::Global), {}},
};

constexpr uint8_t kHello[] = {'h', 'e', 'l', 'l', 'o'};
constexpr uint8_t kPassive[] = {'P', 'A', 'S', 'S', 'I', 'V', 'E', '-', 'D', 'A', 'T', 'A'};

constexpr DataSegmentDesc dataSeg(SegmentMode mode, int32_t offset, const uint8_t* b, uint32_t n) {
  DataSegmentDesc s{};
  s.offset = i32Const(offset);
  s.bytes = b;
  s.size = n;
  s.mode = uint8_t(mode);
  return s;
}
constexpr DataSegmentDesc kData[] = {
    dataSeg(SegmentMode::Active, 16, kHello, sizeof(kHello)),
    dataSeg(SegmentMode::Passive, 0, kPassive, sizeof(kPassive)),
};

constexpr InitExpr kElem0[] = {refFunc(18), refFunc(4), refNull()};
constexpr InitExpr kElem1[] = {refFunc(18), refFunc(16)};
constexpr InitExpr kElem2[] = {refFunc(18)};
constexpr ElemSegmentDesc elemSeg(SegmentMode mode, int32_t offset, const InitExpr* items,
                                  uint32_t n) {
  ElemSegmentDesc s{};
  s.offset = i32Const(offset);
  s.items = items;
  s.count = n;
  s.mode = uint8_t(mode);
  s.elemType = uint8_t(ValType::FuncRef);
  return s;
}
constexpr ElemSegmentDesc kElems[] = {
    elemSeg(SegmentMode::Active, 0, kElem0, 3),
    elemSeg(SegmentMode::Passive, 0, kElem1, 2),
    elemSeg(SegmentMode::Declared, 0, kElem2, 1),
};

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(kMode);
  d.startFunction = 27;
  d.types = arr(kTypes);
  d.imports = arr(kImports);
  d.functions = arr(kFuncs);
  d.tables = arr(kTables);
  d.memories = arr(kMemories);
  d.globals = arr(kGlobals);
  d.exports = arr(kExports);
  d.dataSegments = arr(kData);
  d.elemSegments = arr(kElems);
  return d;
}

} // namespace

FAASM_TEST_DESCRIPTOR = make();
