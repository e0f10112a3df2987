#include "faasm/runtime/Objects.h"

#include <algorithm>
#include <cstring>

namespace faasm::runtime {

Expected<std::shared_ptr<TableObject>> TableObject::create(abi::ValType elemType, uint64_t minSize,
                                                           std::optional<uint64_t> maxSize) {
  if (elemType != abi::ValType::FuncRef && elemType != abi::ValType::ExternRef)
    return makeError("table element type must be a reference type");
  if (maxSize && *maxSize < minSize)
    return makeError("size minimum must not be greater than maximum");
  uint64_t cap = maxSize ? std::min<uint64_t>(*maxSize, kTableSizeCap) : kTableSizeCap;
  if (minSize > cap) return makeError("table too large");
  std::shared_ptr<TableObject> t(new TableObject);
  t->declaredMax_ = maxSize;
  t->storage_.assign(minSize, nullptr);
  t->table_.elements = t->storage_.data();
  t->table_.size = uint32_t(minSize);
  t->table_.maxSize = uint32_t(cap);
  t->table_.elemType = uint8_t(elemType);
  return t;
}

int64_t TableObject::grow(uint64_t delta, void* init) {
  uint64_t old = table_.size;
  if (delta > table_.maxSize || old + delta > table_.maxSize) return -1;
  // After a snapshot's reset the storage may be longer than the table
  // (Snapshot.cpp shrinks the size only): the new slots must read `init`,
  // never what a call before the reset left there (a function of a library
  // linked in by that call, runtime/DynamicLinker.h).
  storage_.resize(std::max<uint64_t>(storage_.size(), old + delta), nullptr);
  std::fill(storage_.begin() + old, storage_.begin() + old + delta, init);
  table_.elements = storage_.data();
  table_.size = uint32_t(old + delta);
  return int64_t(old);
}

std::shared_ptr<GlobalObject> GlobalObject::create(abi::ValType type, bool isMutable,
                                                   abi::Value init) {
  auto g = std::make_shared<GlobalObject>();
  g->type_ = type;
  g->mutable_ = isMutable;
  g->cell_ = init;
  return g;
}

abi::Value GlobalObject::i32(int32_t v) {
  abi::Value out{};
  uint32_t u = uint32_t(v);
  std::memcpy(&out.lo, &u, 4);
  return out;
}
abi::Value GlobalObject::i64(int64_t v) {
  abi::Value out{};
  std::memcpy(&out.lo, &v, 8);
  return out;
}
abi::Value GlobalObject::f32(float v) {
  abi::Value out{};
  std::memcpy(&out.lo, &v, 4);
  return out;
}
abi::Value GlobalObject::f64(double v) {
  abi::Value out{};
  std::memcpy(&out.lo, &v, 8);
  return out;
}

} // namespace faasm::runtime
