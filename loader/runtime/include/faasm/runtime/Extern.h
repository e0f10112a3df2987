// What an import resolves to and an export yields.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Objects.h"

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace faasm::host {
struct HostFunction;
}

namespace faasm::runtime {

struct Extern {
  abi::ExternKind kind = abi::ExternKind::Func;
  // Func: exactly one of these. `func` is another instance's function (its
  // FuncRef is put directly into the importer's function table); `host` is a
  // host function (the importer makes a FuncRef with its own vmctx).
  const abi::FuncRef* func = nullptr;
  const host::HostFunction* host = nullptr;
  std::shared_ptr<Memory> memory;
  std::shared_ptr<TableObject> table;
  std::shared_ptr<GlobalObject> global;
  // Keeps whatever owns `func`/`host` alive while an importer uses it.
  std::shared_ptr<const void> owner;
};

// (module name, field name) -> extern, or nullopt for "unknown import".
using ImportResolver =
    std::function<std::optional<Extern>(std::string_view module, std::string_view name)>;

} // namespace faasm::runtime
