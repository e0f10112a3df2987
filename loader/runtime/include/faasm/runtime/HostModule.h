// Host modules: functions (and memories, tables, globals) the embedder
// provides to instances by (module name, field name).
//
// Host functions are described by the host interface
// (faasm/host/HostFunction.h): generated code calls their boundary wrapper
// directly through its FuncRef, exactly like generated code.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"
#include "faasm/runtime/Extern.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faasm::runtime {

// A set of host modules, and the resolver instantiate() wants. Later
// additions replace earlier ones of the same (module, name).
class HostModuleRegistry {
public:
  void addFunction(host::HostFunction function);
  void addFunctions(const std::vector<host::HostFunction>& functions);
  void addMemory(const std::string& module, const std::string& name, std::shared_ptr<Memory> m);
  void addTable(const std::string& module, const std::string& name, std::shared_ptr<TableObject> t);
  void addGlobal(const std::string& module, const std::string& name,
                 std::shared_ptr<GlobalObject> g);
  // Any extern, e.g. another instance's export registered under a name.
  void addExtern(const std::string& module, const std::string& name, Extern e);

  std::optional<Extern> resolve(std::string_view module, std::string_view name) const;
  // A resolver that refers to this registry (which must outlive its use).
  ImportResolver resolver() const;

private:
  std::map<std::pair<std::string, std::string>, Extern, std::less<>> externs_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<host::HostFunction>> functions_;
};

// Tries `first`, then `second`.
ImportResolver chainResolvers(ImportResolver first, ImportResolver second);

} // namespace faasm::runtime
