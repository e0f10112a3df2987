// Instantiation that fails in a segment after earlier segments wrote into an
// imported table and memory (spec 2.0: those writes stay). ELEM_OOB makes the
// second element segment fail instead of the second data segment.
#include "TestArtefact.h"

using namespace testart;

namespace {
int32_t seven(VMContext*) {
  return 7;
}
constexpr FuncTypeDesc kTypes[] = {{":i", Thunk<int32_t>::thunk}};
constexpr ImportDesc imp(const char* name, ExternKind kind) {
  ImportDesc d{};
  d.module = "env";
  d.name = name;
  d.kind = uint8_t(kind);
  d.limits = limits(1);
  d.valType = uint8_t(ValType::FuncRef);
  return d;
}
constexpr ImportDesc kImports[] = {imp("tab", ExternKind::Table), imp("mem", ExternKind::Memory)};
const FuncDesc kFuncs[] = {{reinterpret_cast<const void*>(&seven), "seven", 0, 0}};
constexpr uint8_t kAB[] = {'A', 'B'};
constexpr DataSegmentDesc dataSeg(int32_t offset) {
  DataSegmentDesc s{};
  s.offset = i32Const(offset);
  s.bytes = kAB;
  s.size = 2;
  s.mode = uint8_t(SegmentMode::Active);
  return s;
}
constexpr DataSegmentDesc kData[] = {dataSeg(0), dataSeg(65535)};
constexpr InitExpr kItems[] = {refFunc(0)};
constexpr ElemSegmentDesc elemSeg(int32_t offset) {
  ElemSegmentDesc s{};
  s.offset = i32Const(offset);
  s.items = kItems;
  s.count = 1;
  s.mode = uint8_t(SegmentMode::Active);
  s.elemType = uint8_t(ValType::FuncRef);
  return s;
}
#ifdef ELEM_OOB
constexpr ElemSegmentDesc kElems[] = {elemSeg(0), elemSeg(1000)};
#else
constexpr ElemSegmentDesc kElems[] = {elemSeg(0)};
#endif

constexpr ModuleDescriptor make() {
  ModuleDescriptor d = header(BoundsMode::Guard);
  d.types = arr(kTypes);
  d.imports = arr(kImports);
  d.functions = arr(kFuncs);
  d.dataSegments = arr(kData);
  d.elemSegments = arr(kElems);
  return d;
}
} // namespace

FAASM_TEST_DESCRIPTOR = make();
