#include "Backend.h"

#include "ArtefactSeal.h"
#include "BoundsVersioning.h"
#include "LoopReport.h"

#include <lld/Common/Driver.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Passes/StandardInstrumentations.h>
#include <llvm/Support/CommandLine.h>
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

namespace faasm::codegen {

namespace {

constexpr const char* kTriple = "x86_64-pc-linux-gnu";

constexpr const char* kLightPipeline =
    "function(sroa,early-cse<memssa>,instcombine<no-verify-fixpoint>,simplifycfg,gvn,"
    "loop-mssa(licm),simplifycfg)";

// LLVM feature names for each abi::CpuFeature bit.
struct FeatureName {
  uint64_t bit;
  const char* llvmName;
};
constexpr FeatureName kFeatureNames[] = {
    {abi::kCpuSse3, "sse3"},    {abi::kCpuSsse3, "ssse3"},   {abi::kCpuSse41, "sse4.1"},
    {abi::kCpuSse42, "sse4.2"}, {abi::kCpuPopcnt, "popcnt"}, {abi::kCpuAvx, "avx"},
    {abi::kCpuAvx2, "avx2"},    {abi::kCpuBmi1, "bmi"},      {abi::kCpuBmi2, "bmi2"},
    {abi::kCpuLzcnt, "lzcnt"},  {abi::kCpuFma, "fma"},       {abi::kCpuCx16, "cx16"},
};

void initialiseTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    // A function's frame is set up on entry, not only on the paths that
    // need it: a guard-mode fault on a fast path that shrink-wrapping left
    // without its frame would hide the caller's frame from the runtime's
    // walk (abi/Abi.h: frame pointers). There is no attribute for it, so
    // LLVM's option, set once for this process.
    if (llvm::cl::Option* shrinkWrap =
            llvm::cl::getRegisteredOptions().lookup("enable-shrink-wrap"))
      shrinkWrap->addOccurrence(0, "enable-shrink-wrap", "false");
  });
}

} // namespace

uint64_t targetCpuFeatures(const CompileOptions& options) {
  if (!options.cpuNative) return abi::kCpuBaseline;
  uint64_t bits = 0;
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  for (const FeatureName& feature : kFeatureNames)
    if (host.lookup(feature.llvmName)) bits |= feature.bit;
  return bits;
}

std::string emitObject(llvm::Module& module, const CompileOptions& options, uint64_t cpuFeatures,
                       llvm::SmallVectorImpl<char>& object, llvm::raw_ostream* optimisedIr,
                       PartitionSites* sites, LoopReport* loopReport) {
  initialiseTargets();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target) return "no x86-64 target in this LLVM: " + error;

  // The code may use exactly the features recorded in the artefact: the
  // x86-64 base plus each recorded bit, nothing implied by a CPU name.
  std::string features;
  for (const FeatureName& feature : kFeatureNames)
    features += std::string(cpuFeatures & feature.bit ? "+" : "-") + feature.llvmName + ",";
  if (!(cpuFeatures & abi::kCpuAvx)) features += "-avx512f,";
  features.pop_back();

  llvm::TargetOptions targetOptions;
  llvm::CodeGenOptLevel level = options.optLevel == 0   ? llvm::CodeGenOptLevel::None
                                : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                                        : llvm::CodeGenOptLevel::Aggressive;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(kTriple, "x86-64", features, targetOptions, llvm::Reloc::PIC_,
                                  llvm::CodeModel::Small, level));
  module.setTargetTriple(kTriple);
  module.setDataLayout(machine->createDataLayout());

  if (options.optLevel > 0) {
    llvm::LoopAnalysisManager loops;
    llvm::FunctionAnalysisManager functions;
    llvm::CGSCCAnalysisManager sccs;
    llvm::ModuleAnalysisManager modules;
    llvm::PipelineTuningOptions tuning;
    tuning.LoopVectorization = true;
    tuning.SLPVectorization = true;
    // The standard instrumentations make the pipeline honour optnone, which
    // the compiler's limits put on huge functions (ModuleEmitter.cpp).
    llvm::PassInstrumentationCallbacks instrumentation;
    llvm::StandardInstrumentations standard(module.getContext(), /*DebugLogging=*/false);
    standard.registerCallbacks(instrumentation, &modules);
    llvm::PassBuilder passes(machine.get(), tuning, std::nullopt, &instrumentation);
    // Right before the loop vectoriser: loops whose accesses are proven in
    // bounds up front run without per-access checks, so it can vectorise them.
    passes.registerVectorizerStartEPCallback(
        [&options, loopReport](llvm::FunctionPassManager& functionPasses, llvm::OptimizationLevel) {
          functionPasses.addPass(BoundsVersioningPass(options.bounds, loopReport));
        });
    passes.registerModuleAnalyses(modules);
    passes.registerCGSCCAnalyses(sccs);
    passes.registerFunctionAnalyses(functions);
    passes.registerLoopAnalyses(loops);
    passes.crossRegisterProxies(loops, functions, sccs, modules);
    llvm::ModulePassManager pipeline;
    if (options.optLevel == 1) {
      // The wasm was optimised by its own compiler already: promote locals to
      // registers, clean up what the translation leaves (repeated VMContext
      // loads, trap branches), hoist loop invariants. A quarter of -O2's time.
      if (llvm::Error error = passes.parsePassPipeline(pipeline, kLightPipeline))
        return "bad pass pipeline: " + llvm::toString(std::move(error));
    } else {
      pipeline = passes.buildPerModuleDefaultPipeline(
          options.optLevel == 2 ? llvm::OptimizationLevel::O2 : llvm::OptimizationLevel::O3);
    }
    // The vectoriser's remarks, for the report; the context's own handler
    // is put back before code generation.
    std::unique_ptr<llvm::DiagnosticHandler> previous;
    if (loopReport) {
      previous = module.getContext().getDiagnosticHandler();
      module.getContext().setDiagnosticHandler(LoopReport::handlerFor(*loopReport));
    }
    pipeline.run(module, modules);
    if (loopReport) module.getContext().setDiagnosticHandler(std::move(previous));
  }

  lowerBoundsChecks(module);
  if (optimisedIr) module.print(*optimisedIr, nullptr);
  if (sites) numberSites(module, *sites);
  lowerTrapCalls(module);

  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, stream, nullptr, llvm::CodeGenFileType::ObjectFile))
    return "this LLVM cannot emit x86-64 object files";
  codegen.run(module);
  return {};
}

namespace {

// Temporary files next to the output, removed however the link ends.
struct TemporaryFiles {
  std::vector<std::string> paths;
  ~TemporaryFiles() {
    for (const std::string& path : paths)
      ::unlink(path.c_str());
  }
  // Creates an empty file from `pattern` (ending in XXXXXX); empty on failure.
  std::string create(std::string pattern, int* outFd) {
    int fd = mkstemp(pattern.data());
    if (fd < 0) return {};
    paths.push_back(pattern);
    if (outFd)
      *outFd = fd;
    else
      ::close(fd);
    return pattern;
  }
};

bool writeAll(int fd, const llvm::SmallVectorImpl<char>& bytes) {
  for (size_t written = 0; written < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    written += (size_t)n;
  }
  return true;
}

} // namespace

std::string linkSharedObject(const std::vector<llvm::SmallVector<char, 0>>& objects,
                             const std::string& outputPath, const abi::Digest& sourceDigest,
                             const abi::ArtefactKey& key) {
  TemporaryFiles temporaries;
  std::vector<std::string> objectPaths;
  for (const auto& object : objects) {
    int fd = -1;
    std::string path = temporaries.create(outputPath + ".o.XXXXXX", &fd);
    if (path.empty())
      return "cannot create a temporary file next to the output: " + std::string(strerror(errno));
    bool written = writeAll(fd, object);
    int savedErrno = errno;
    ::close(fd);
    if (!written) return "cannot write the object file: " + std::string(strerror(savedErrno));
    objectPaths.push_back(path);
  }
  std::string linkedPath = temporaries.create(outputPath + ".so.XXXXXX", nullptr);
  if (linkedPath.empty())
    return "cannot create a temporary file next to the output: " + std::string(strerror(errno));

  std::string diagnostics;
  llvm::raw_string_ostream out(diagnostics), err(diagnostics);
  std::vector<const char*> args = {"ld.lld", "-shared", "-o", linkedPath.c_str(), "-z",
                                   "noexecstack", "-z", "relro", "-z", "now", "--hash-style=gnu",
                                   "--build-id=none",
                                   // The line tables were for the code map,
                                   // which is made by now (CodeMap.h).
                                   "--strip-debug"};
  for (const std::string& path : objectPaths)
    args.push_back(path.c_str());
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
  // Sealed before it gets its name: no unsealed artefact is ever visible.
  if (std::string error = sealArtefact(linkedPath, sourceDigest, key); !error.empty()) return error;
  if (::rename(linkedPath.c_str(), outputPath.c_str()) != 0)
    return "cannot write " + outputPath + ": " + strerror(errno);
  temporaries.paths.pop_back(); // renamed: nothing left to remove
  return {};
}

} // namespace faasm::codegen
