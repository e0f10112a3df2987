#include "faasm/runtime/HostModule.h"

#include "faasm/runtime/TypeRegistry.h"

namespace faasm::runtime {

void HostModuleRegistry::addFunction(host::HostFunction function) {
  // Host code lives as long as the process: its thunk may serve any caller.
  offerThunk(internSignature(function.signature), function.thunk, nullptr);
  auto key = std::make_pair(function.module, function.name);
  auto shared = std::make_shared<host::HostFunction>(std::move(function));
  Extern e;
  e.kind = abi::ExternKind::Func;
  e.host = shared.get();
  e.owner = shared;
  functions_[key] = shared;
  externs_[key] = std::move(e);
}

void HostModuleRegistry::addFunctions(const std::vector<host::HostFunction>& functions) {
  for (const auto& f : functions)
    addFunction(f);
}

void HostModuleRegistry::addMemory(const std::string& module, const std::string& name,
                                   std::shared_ptr<Memory> m) {
  Extern e;
  e.kind = abi::ExternKind::Memory;
  e.memory = std::move(m);
  externs_[{module, name}] = std::move(e);
}

void HostModuleRegistry::addTable(const std::string& module, const std::string& name,
                                  std::shared_ptr<TableObject> t) {
  Extern e;
  e.kind = abi::ExternKind::Table;
  e.table = std::move(t);
  externs_[{module, name}] = std::move(e);
}

void HostModuleRegistry::addGlobal(const std::string& module, const std::string& name,
                                   std::shared_ptr<GlobalObject> g) {
  Extern e;
  e.kind = abi::ExternKind::Global;
  e.global = std::move(g);
  externs_[{module, name}] = std::move(e);
}

void HostModuleRegistry::addExtern(const std::string& module, const std::string& name, Extern e) {
  externs_[{module, name}] = std::move(e);
}

std::optional<Extern> HostModuleRegistry::resolve(std::string_view module,
                                                  std::string_view name) const {
  auto it = externs_.find(std::make_pair(std::string(module), std::string(name)));
  if (it == externs_.end()) return std::nullopt;
  return it->second;
}

ImportResolver HostModuleRegistry::resolver() const {
  return [this](std::string_view module, std::string_view name) { return resolve(module, name); };
}

ImportResolver chainResolvers(ImportResolver first, ImportResolver second) {
  return [first = std::move(first), second = std::move(second)](
             std::string_view module, std::string_view name) -> std::optional<Extern> {
    if (first)
      if (auto e = first(module, name)) return e;
    if (second) return second(module, name);
    return std::nullopt;
  };
}

} // namespace faasm::runtime
