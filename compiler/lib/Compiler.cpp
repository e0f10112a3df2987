#include "faasm/compiler/Compiler.h"

#include "Backend.h"
#include "EmitContext.h"
#include "WasmReader.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/raw_ostream.h>

namespace faasm::compiler {

const char* compilerVersion() { return "faasm-codegen " FAASM_VERSION " (LLVM " LLVM_VERSION_STRING ")"; }

CompileResult compileToSharedObject(std::span<const uint8_t> wasm, const CompileOptions& options,
                                    const std::string& outputPath) {
  ReadResult read = readAndValidate(wasm);
  if (!read.module)
    return read.status;

  uint64_t features = targetCpuFeatures(options);
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module;
  try {
    module = translateModule(context, *read.module, options, features);
  } catch (const UnsupportedError& error) {
    if (error.invalid)
      return {false, ErrorKind::Invalid, "invalid module: " + error.message};
    bool internal = error.message.find("internal error") != std::string::npos;
    return {false, internal ? ErrorKind::Internal : ErrorKind::Unsupported, error.message};
  }

  if (!options.irOutputPath.empty()) {
    std::error_code error;
    llvm::raw_fd_ostream out(options.irOutputPath, error);
    if (error)
      return {false, ErrorKind::Io, "cannot write " + options.irOutputPath + ": " + error.message()};
    module->print(out, nullptr);
  }

  llvm::SmallVector<char, 0> object;
  if (std::string error = emitObject(*module, options, features, object); !error.empty())
    return {false, ErrorKind::Internal, error};
  if (std::string error = linkSharedObject(object, outputPath); !error.empty())
    return {false, ErrorKind::Io, error};
  return {};
}

} // namespace faasm::compiler
