#include "Backend.h"

#include <lld/Common/Driver.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>

#include <cstdio>
#include <mutex>
#include <unistd.h>

LLD_HAS_DRIVER(elf)

namespace faasm::compiler {

namespace {

constexpr const char* kTriple = "x86_64-pc-linux-gnu";

// LLVM feature names for each abi::CpuFeature bit.
struct FeatureName {
  uint64_t bit;
  const char* llvmName;
};
constexpr FeatureName kFeatureNames[] = {
    {abi::kCpuSse3, "sse3"},     {abi::kCpuSsse3, "ssse3"}, {abi::kCpuSse41, "sse4.1"},
    {abi::kCpuSse42, "sse4.2"},  {abi::kCpuPopcnt, "popcnt"}, {abi::kCpuAvx, "avx"},
    {abi::kCpuAvx2, "avx2"},     {abi::kCpuBmi1, "bmi"},    {abi::kCpuBmi2, "bmi2"},
    {abi::kCpuLzcnt, "lzcnt"},   {abi::kCpuFma, "fma"},     {abi::kCpuCx16, "cx16"},
};

void initialiseTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
}

} // namespace

uint64_t targetCpuFeatures(const CompileOptions& options) {
  if (!options.cpuNative)
    return abi::kCpuBaseline;
  uint64_t bits = 0;
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  for (const FeatureName& feature : kFeatureNames)
    if (host.lookup(feature.llvmName))
      bits |= feature.bit;
  return bits;
}

std::string emitObject(llvm::Module& module, const CompileOptions& options, uint64_t cpuFeatures,
                       llvm::SmallVectorImpl<char>& object) {
  initialiseTargets();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target)
    return "no x86-64 target in this LLVM: " + error;

  // The code may use exactly the features recorded in the artefact: the
  // x86-64 base plus each recorded bit, nothing implied by a CPU name.
  std::string features;
  for (const FeatureName& feature : kFeatureNames)
    features += std::string(cpuFeatures & feature.bit ? "+" : "-") + feature.llvmName + ",";
  if (!(cpuFeatures & abi::kCpuAvx))
    features += "-avx512f,";
  features.pop_back();

  llvm::TargetOptions targetOptions;
  llvm::CodeGenOptLevel level = options.optLevel == 0   ? llvm::CodeGenOptLevel::None
                                : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                        : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      kTriple, "x86-64", features, targetOptions, llvm::Reloc::PIC_, llvm::CodeModel::Small,
      level));
  module.setTargetTriple(kTriple);
  module.setDataLayout(machine->createDataLayout());

  if (options.optLevel > 0) {
    llvm::LoopAnalysisManager loops;
    llvm::FunctionAnalysisManager functions;
    llvm::CGSCCAnalysisManager sccs;
    llvm::ModuleAnalysisManager modules;
    llvm::PipelineTuningOptions tuning;
    llvm::PassBuilder passes(machine.get(), tuning);
    passes.registerModuleAnalyses(modules);
    passes.registerCGSCCAnalyses(sccs);
    passes.registerFunctionAnalyses(functions);
    passes.registerLoopAnalyses(loops);
    passes.crossRegisterProxies(loops, functions, sccs, modules);
    llvm::OptimizationLevel optLevel = options.optLevel == 1   ? llvm::OptimizationLevel::O1
                                       : options.optLevel == 2 ? llvm::OptimizationLevel::O2
                                                               : llvm::OptimizationLevel::O3;
    llvm::ModulePassManager pipeline = passes.buildPerModuleDefaultPipeline(optLevel);
    pipeline.run(module, modules);
  }

  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile))
    return "this LLVM cannot emit x86-64 object files";
  codegen.run(module);
  return {};
}

std::string linkSharedObject(const llvm::SmallVectorImpl<char>& object,
                             const std::string& outputPath) {
  std::string objectPath = outputPath + ".o.XXXXXX";
  std::string linkedPath = outputPath + ".so.XXXXXX";
  int objectFd = mkstemp(objectPath.data());
  if (objectFd < 0)
    return "cannot create a temporary file next to the output: " + std::string(strerror(errno));
  int linkedFd = mkstemp(linkedPath.data());
  if (linkedFd < 0) {
    ::close(objectFd);
    ::unlink(objectPath.c_str());
    return "cannot create a temporary file next to the output: " + std::string(strerror(errno));
  }
  ::close(linkedFd);
  struct Cleanup {
    std::string object, linked;
    ~Cleanup() {
      ::unlink(object.c_str());
      if (!linked.empty())
        ::unlink(linked.c_str());
    }
  } cleanup{objectPath, linkedPath};

  for (size_t written = 0; written < object.size();) {
    ssize_t n = ::write(objectFd, object.data() + written, object.size() - written);
    if (n < 0) {
      ::close(objectFd);
      return "cannot write the object file: " + std::string(strerror(errno));
    }
    written += (size_t)n;
  }
  ::close(objectFd);

  std::string diagnostics;
  llvm::raw_string_ostream out(diagnostics), err(diagnostics);
  const char* args[] = {"ld.lld",      "-shared",       "-o",         linkedPath.c_str(),
                        objectPath.c_str(), "-z",        "noexecstack", "-z",
                        "relro",       "-z",            "now",        "--hash-style=gnu",
                        "--build-id=none"};
  // lld keeps global state while it runs; one link at a time per process.
  static std::mutex linkerLock;
  lld::Result result;
  {
    std::lock_guard<std::mutex> guard(linkerLock);
    result = lld::lldMain(args, out, err, {{lld::Gnu, &lld::elf::link}});
  }
  if (result.retCode != 0) {
    err.flush();
    return "linking failed: " + diagnostics.substr(0, diagnostics.find('\n'));
  }
  if (::rename(linkedPath.c_str(), outputPath.c_str()) != 0)
    return "cannot write " + outputPath + ": " + strerror(errno);
  cleanup.linked.clear();
  return {};
}

} // namespace faasm::compiler
