// The runtime calls generated code makes (abi::RuntimeCalls). Every bounds
// check covers the whole range in 64-bit arithmetic before anything is
// written, so a trapping bulk operation leaves memory and tables untouched.
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"

#include "RuntimePrivate.h"

#include <cstring>

namespace faasm::runtime {
namespace {

Instance& instanceOf(abi::VMContext* vmctx) {
  return *Instance::fromVmctx(vmctx);
}

bool inRange(uint64_t offset, uint64_t len, uint64_t size) {
  return offset <= size && len <= size - offset;
}

TableObject& tableOf(abi::VMContext* vmctx, uint32_t index) {
  TableObject* t = instanceOf(vmctx).table(index);
  if (!t) raiseTrap(abi::TrapCode::TableOutOfBounds);
  return *t;
}

// Called by generated code from a trap block: its own frame (kept, since
// it asks for its address) returns there; `site` says which instruction.
__attribute__((noreturn, noinline)) void rtTrap(abi::VMContext*, uint32_t code, uint32_t site) {
  detail::raiseTrapFrom(abi::TrapCode(code),
                        reinterpret_cast<uintptr_t>(__builtin_frame_address(0)), site);
}

int32_t rtMemoryGrow(abi::VMContext* vmctx, uint32_t deltaPages) {
  Memory* m = instanceOf(vmctx).memory();
  if (!m) return -1;
  return int32_t(m->grow(deltaPages));
}

void rtMemoryInit(abi::VMContext* vmctx, uint32_t segment, uint32_t dst, uint32_t src,
                  uint32_t len) {
  std::span<const uint8_t> data = instanceOf(vmctx).dataSegment(segment);
  if (!inRange(src, len, data.size()) || !inRange(dst, len, vmctx->memorySize))
    raiseTrap(abi::TrapCode::MemoryOutOfBounds);
  if (len) std::memcpy(vmctx->memoryBase + dst, data.data() + src, len);
}

void rtDataDrop(abi::VMContext* vmctx, uint32_t segment) {
  instanceOf(vmctx).dropDataSegment(segment);
}

void rtMemoryCopy(abi::VMContext* vmctx, uint32_t dst, uint32_t src, uint32_t len) {
  if (!inRange(src, len, vmctx->memorySize) || !inRange(dst, len, vmctx->memorySize))
    raiseTrap(abi::TrapCode::MemoryOutOfBounds);
  if (len) std::memmove(vmctx->memoryBase + dst, vmctx->memoryBase + src, len);
}

void rtMemoryFill(abi::VMContext* vmctx, uint32_t dst, uint32_t value, uint32_t len) {
  if (!inRange(dst, len, vmctx->memorySize)) raiseTrap(abi::TrapCode::MemoryOutOfBounds);
  if (len) std::memset(vmctx->memoryBase + dst, int(value & 0xff), len);
}

int32_t rtTableGrow(abi::VMContext* vmctx, uint32_t table, void* init, uint32_t delta) {
  TableObject* t = instanceOf(vmctx).table(table);
  if (!t) return -1;
  return int32_t(t->grow(delta, init));
}

void rtTableFill(abi::VMContext* vmctx, uint32_t table, uint32_t dst, void* value, uint32_t len) {
  TableObject& t = tableOf(vmctx, table);
  if (!inRange(dst, len, t.size())) raiseTrap(abi::TrapCode::TableOutOfBounds);
  abi::Table* at = t.abiTable();
  for (uint32_t i = 0; i < len; ++i)
    at->elements[dst + i] = value;
}

void rtTableCopy(abi::VMContext* vmctx, uint32_t dstTable, uint32_t srcTable, uint32_t dst,
                 uint32_t src, uint32_t len) {
  TableObject& d = tableOf(vmctx, dstTable);
  TableObject& s = tableOf(vmctx, srcTable);
  if (!inRange(src, len, s.size()) || !inRange(dst, len, d.size()))
    raiseTrap(abi::TrapCode::TableOutOfBounds);
  if (len)
    std::memmove(d.abiTable()->elements + dst, s.abiTable()->elements + src, len * sizeof(void*));
}

void rtTableInit(abi::VMContext* vmctx, uint32_t table, uint32_t segment, uint32_t dst,
                 uint32_t src, uint32_t len) {
  TableObject& t = tableOf(vmctx, table);
  std::span<void* const> items = instanceOf(vmctx).elemSegment(segment);
  if (!inRange(src, len, items.size()) || !inRange(dst, len, t.size()))
    raiseTrap(abi::TrapCode::TableOutOfBounds);
  if (len) std::memcpy(t.abiTable()->elements + dst, items.data() + src, len * sizeof(void*));
}

void rtElemDrop(abi::VMContext* vmctx, uint32_t segment) {
  instanceOf(vmctx).dropElemSegment(segment);
}

} // namespace

namespace detail {
const abi::RuntimeCalls kRuntimeCalls = {
    rtTrap,      rtMemoryGrow, rtMemoryInit, rtDataDrop,  rtMemoryCopy, rtMemoryFill,
    rtTableGrow, rtTableFill,  rtTableCopy,  rtTableInit, rtElemDrop,
};
} // namespace detail

} // namespace faasm::runtime
