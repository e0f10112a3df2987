// Tables, globals: the other things an instance defines or imports. All of
// them can be created standalone by a host (the spec test module "spectest"
// exports a table, globals and a memory) and are shared by shared_ptr.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace faasm::runtime {

// Upper bound on table sizes when the module declares no maximum.
inline constexpr uint32_t kTableSizeCap = 10'000'000;

class TableObject {
public:
  // elemType is abi::ValType::FuncRef or ExternRef; entries start null.
  static Expected<std::shared_ptr<TableObject>> create(abi::ValType elemType, uint64_t minSize,
                                                       std::optional<uint64_t> maxSize);
  TableObject(const TableObject&) = delete;
  TableObject& operator=(const TableObject&) = delete;

  // What generated code reads: stable address for the life of the table.
  abi::Table* abiTable() { return &table_; }
  uint32_t size() const { return table_.size; }
  std::optional<uint64_t> declaredMax() const { return declaredMax_; }
  abi::ValType elemType() const { return abi::ValType(table_.elemType); }
  void* get(uint32_t i) const { return table_.elements[i]; }
  void set(uint32_t i, void* v) { table_.elements[i] = v; }

  // table.grow: returns the old size or -1; new entries are `init`.
  int64_t grow(uint64_t delta, void* init);

private:
  TableObject() = default;
  abi::Table table_{};
  std::vector<void*> storage_;
  std::optional<uint64_t> declaredMax_;
};

// A global's cell: 16-byte aligned, stable address.
class GlobalObject {
public:
  static std::shared_ptr<GlobalObject> create(abi::ValType type, bool isMutable, abi::Value init);
  abi::Value* cell() { return &cell_; }
  abi::ValType type() const { return type_; }
  bool isMutable() const { return mutable_; }

  static abi::Value i32(int32_t v);
  static abi::Value i64(int64_t v);
  static abi::Value f32(float v);
  static abi::Value f64(double v);

private:
  alignas(16) abi::Value cell_{};
  abi::ValType type_ = abi::ValType::I32;
  bool mutable_ = false;
};

} // namespace faasm::runtime
