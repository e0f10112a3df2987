// LLVM IR -> optimised x86-64 object code -> shared object (lld, in-process).
#pragma once

#include "CodeMap.h"

#include "faasm/abi/Artefact.h"
#include "faasm/codegen/Compiler.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <string>
#include <vector>

namespace faasm::codegen {

// The abi::CpuFeature bits the code will be allowed to use.
uint64_t targetCpuFeatures(const CompileOptions& options);

// Optimises the module and emits an ELF object into `object`; if
// `optimisedIr` is given, prints the module there as code generation receives
// it; if `sites` is given, numbers the code's sites into it first
// (CodeMap.h); `loopReport`, if given, receives the loops' records
// (--report-loops). Returns an error message, empty on success.
class LoopReport;

std::string emitObject(llvm::Module& module, const CompileOptions& options, uint64_t cpuFeatures,
                       llvm::SmallVectorImpl<char>& object,
                       llvm::raw_ostream* optimisedIr = nullptr, PartitionSites* sites = nullptr,
                       LoopReport* loopReport = nullptr);

// Links the objects into one shared object and seals it (faasm/abi/Artefact.h:
// its SHA-256, the source's, the MAC under `key`) at outputPath, atomically.
std::string linkSharedObject(const std::vector<llvm::SmallVector<char, 0>>& objects,
                             const std::string& outputPath, const abi::Digest& sourceDigest,
                             const abi::ArtefactKey& key);

} // namespace faasm::codegen
