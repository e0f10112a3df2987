// Executes wast2json commands in this process. Used by runWastFile inside a
// child process, so a crash here costs one command, not the run.
#pragma once

#include "Json.h"
#include "SpecRunner.h"

#include "faasm/codegen/Compiler.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace faasm::spec {

enum class CommandStatus : uint8_t { Passed, Failed, Skipped, NotCounted };

class ScriptExecutor {
public:
  // `dir` holds the files wast2json wrote; `displayName` prefixes messages.
  ScriptExecutor(std::string dir, std::string displayName, const RunOptions& options);

  // Runs one command, printing a line if it fails or is skipped.
  CommandStatus run(const Json& command);
  // Re-establishes the state a command leaves (modules, registrations)
  // without checking or printing anything; used to resume after a crash.
  void replay(const Json& command);

private:
  struct ActionOutcome {
    std::string error; // the action could not be performed at all
    abi::TrapCode trap = abi::TrapCode::None;
    std::string resultTypes; // abi::ValType chars
    std::vector<abi::Value> results;
  };
  struct ModuleOutcome {
    enum Stage { Ok, CompileFailed, LoadFailed, LinkFailed, Trapped } stage = Ok;
    codegen::ErrorKind compileKind{};
    std::string message;
    abi::TrapCode trap = abi::TrapCode::None;
    std::shared_ptr<runtime::Instance> instance;
  };

  ModuleOutcome instantiateFile(const std::string& wasmFile);
  ActionOutcome perform(const Json& action);
  runtime::ImportResolver resolver();
  CommandStatus fail(const Json& command, const std::string& expected, const std::string& got);
  CommandStatus skip(const Json& command, const std::string& reason);
  CommandStatus runModuleAssertion(const Json& command, const std::string& type);
  CommandStatus runAssertReturn(const Json& command);
  CommandStatus runAssertTrap(const Json& command, abi::TrapCode requiredTrap);
  bool textRejectedByWabt(const std::string& watFile);
  bool ensureSpectest(std::string& outError);

  std::string dir_;
  std::string name_;
  RunOptions options_;
  std::unique_ptr<runtime::HostModuleRegistry> spectest_;
  std::shared_ptr<runtime::Instance> current_;
  std::map<std::string, std::shared_ptr<runtime::Instance>> named_;
  std::map<std::string, std::shared_ptr<runtime::Instance>> registered_;
  // Instances whose instantiation failed after writing into imported tables:
  // their functions may still be reachable (spec 2.0 keeps those writes).
  std::vector<std::shared_ptr<runtime::Instance>> failedInstances_;
};

} // namespace faasm::spec
