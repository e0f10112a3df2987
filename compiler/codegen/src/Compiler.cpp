#include "faasm/codegen/Compiler.h"

#include "ArtefactSeal.h"
#include "Backend.h"
#include "CodeMap.h"
#include "EmitContext.h"
#include "LoopReport.h"
#include "WasmReader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <llvm/IR/LLVMContext.h>
#include <llvm/Support/raw_ostream.h>
#include <thread>

namespace faasm::codegen {

namespace {

// The file an IR listing goes to; null, with `result` saying why, if it
// cannot be written.
std::unique_ptr<llvm::raw_fd_ostream> openIrFile(const std::string& path, CompileResult& result) {
  std::error_code error;
  auto out = std::make_unique<llvm::raw_fd_ostream>(path, error);
  if (error) {
    result = {false, ErrorKind::Io, "cannot write " + path + ": " + error.message()};
    return nullptr;
  }
  return out;
}

} // namespace

const char* compilerVersion() {
  return "faasm-codegen " FAASM_VERSION " (LLVM " LLVM_VERSION_STRING ")";
}

CompileResult compileToSharedObject(std::span<const uint8_t> wasm, const CompileOptions& options,
                                    const std::string& outputPath) {
  ReadResult read = readAndValidate(wasm);
  if (!read.module) return read.status;
  // The key first: without one, nothing is worth compiling.
  abi::ArtefactKey key;
  if (std::string error = loadOrCreateArtefactKey(key); !error.empty())
    return {false, ErrorKind::Io, error};
  struct Wipe {
    abi::ArtefactKey& key;
    ~Wipe() { explicit_bzero(key.data(), key.size()); }
  } wipe{key};

  uint64_t features = targetCpuFeatures(options);
  unsigned threads =
      options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (!options.irOutputPath.empty() || !options.optimisedIrOutputPath.empty())
    threads = 1; // one module to print
  std::vector<Partition> partitions = partitionFunctions(*read.module, threads);

  // Each partition: its own LLVMContext, translated, optimised and compiled
  // to an object on its own thread. The WABT module is only read.
  std::vector<llvm::SmallVector<char, 0>> objects(partitions.size());
  CodeMapBuilder codeMap(*read.module, wasm);
  std::vector<PartitionSites> sites(partitions.size(),
                                    PartitionSites{codeMap.bodyOffsets(), {}, {}});
  std::vector<CompileResult> results(partitions.size());
  bool reportLoops = !options.loopReportPath.empty();
  std::vector<std::vector<LoopRecord>> loopRecords(partitions.size());
  auto compilePartition = [&](size_t index) {
    llvm::LLVMContext context;
    std::unique_ptr<llvm::Module> module;
    try {
      module = translatePartition(context, *read.module, wasm, options, features, partitions[index],
                                  read.dylink ? &*read.dylink : nullptr);
    } catch (const UnsupportedError& error) {
      bool internal = error.message.find("internal error") != std::string::npos;
      results[index] = {false,
                        error.invalid ? ErrorKind::Invalid
                        : internal    ? ErrorKind::Internal
                                      : ErrorKind::Unsupported,
                        error.invalid ? "invalid module: " + error.message : error.message};
      return;
    }
    if (!options.irOutputPath.empty()) {
      std::unique_ptr<llvm::raw_fd_ostream> out = openIrFile(options.irOutputPath, results[index]);
      if (!out) return;
      module->print(*out, nullptr);
    }
    std::unique_ptr<llvm::raw_fd_ostream> optimisedIr;
    if (!options.optimisedIrOutputPath.empty()) {
      optimisedIr = openIrFile(options.optimisedIrOutputPath, results[index]);
      if (!optimisedIr) return;
    }
    LoopReport loopReport;
    if (std::string error =
            emitObject(*module, options, features, objects[index], optimisedIr.get(), &sites[index],
                       reportLoops ? &loopReport : nullptr);
        !error.empty())
      results[index] = {false, ErrorKind::Internal, error};
    loopRecords[index] = loopReport.take();
  };
  std::vector<std::thread> workers;
  for (size_t i = 1; i < partitions.size(); ++i)
    workers.emplace_back(compilePartition, i);
  compilePartition(0);
  for (std::thread& worker : workers)
    worker.join();
  for (const CompileResult& result : results)
    if (!result.ok) return result;
  if (reportLoops) {
    std::vector<LoopRecord> all;
    for (auto& records : loopRecords)
      std::move(records.begin(), records.end(), std::back_inserter(all));
    std::string text = formatLoopReport(std::move(all));
    if (options.loopReportPath == "-") {
      std::fwrite(text.data(), 1, text.size(), stderr);
    } else {
      std::error_code error;
      llvm::raw_fd_ostream out(options.loopReportPath, error);
      if (error)
        return {false, ErrorKind::Io,
                "cannot write " + options.loopReportPath + ": " + error.message()};
      out << text;
    }
  }

  // The code map, from what code generation made of each partition.
  for (size_t i = 0; i < objects.size(); ++i)
    if (std::string error = codeMap.addObject(objects[i], sites[i]); !error.empty())
      return {false, ErrorKind::Internal, "internal error: " + error};
  {
    llvm::LLVMContext context;
    std::unique_ptr<llvm::Module> module = codeMap.emit(context);
    objects.emplace_back();
    if (std::string error = emitObject(*module, options, features, objects.back()); !error.empty())
      return {false, ErrorKind::Internal, error};
  }
  if (!options.codeMapOutputPath.empty()) {
    CompileResult result;
    std::unique_ptr<llvm::raw_fd_ostream> out = openIrFile(options.codeMapOutputPath, result);
    if (!out) return result;
    *out << codeMap.listing();
  }

  if (std::string error = linkSharedObject(objects, outputPath, abi::Sha256::of(wasm), key);
      !error.empty())
    return {false, ErrorKind::Io, error};
  return {};
}

} // namespace faasm::codegen
