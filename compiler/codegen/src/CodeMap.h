// The artefact's code map (abi::CodeMap): from native code back to the wasm
// instructions it came from, so that a trap can say where it happened.
//
// How it is made: every instruction the translator emits carries its wasm
// offset as its debug location (line = offset, in a line-tables-only compile
// unit), which the optimiser keeps through inlining (a location inlined from
// another function keeps the call it was inlined at). Right before code
// generation numberSites() interns each location's chain of offsets as a
// site and replaces the location by one whose line is that site's number, so
// the object's DWARF line table maps native addresses straight to sites.
// After code generation CodeMapBuilder reads each partition's object (its
// function symbols, with their sizes, and its line table) and builds the map,
// which becomes one more object, linked in under kCodeMapSymbol.
#pragma once

#include "faasm/abi/Abi.h"

#include "wabt/ir.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace faasm::codegen {

// The descriptor's codeMap points here (a hidden symbol of the artefact).
inline constexpr const char* kCodeMapSymbol = "faasm_code_map";

// One partition's sites; a location's line is 1 + its index (0: none).
using SiteTable = std::vector<abi::CodeSite>;

// A trap block of `function`: one call of kTrapFunction(vmctx, code, site),
// shared by every instruction of the function that traps with `code`, whose
// `site` is a phi: each edge into the block brings the wasm offset of the
// instruction it comes from. numberSites() turns each offset into the site
// number the runtime receives, and lowerTrapCalls() the call into the call
// of RuntimeCalls::trap through the VMContext. One call per function and
// code, not per instruction: per-instruction calls (kept apart by
// `nomerge`) made explicit-mode code 24% larger and its compile 40% slower.
// The call is a named declaration until then, so that no pass can lose
// what it is (an indirect call with metadata lost the metadata).
inline constexpr const char* kTrapFunction = "faasm.trap";
llvm::Function* trapDeclaration(llvm::Module& module);
llvm::BasicBlock* makeTrapBlock(llvm::Function& function, llvm::Value* vmctx, abi::TrapCode code,
                                llvm::PHINode*& site);
// Replaces every call of kTrapFunction by the call through the VMContext.
void lowerTrapCalls(llvm::Module& module);

struct PartitionSites {
  std::vector<uint32_t> bodyOffsets; // every defined function's body start, ascending (given)
  SiteTable sites;                   // what numberSites() made
  struct Trap {
    uint32_t function; // function index (imports counted)
    uint32_t code;     // abi::TrapCode
    uint32_t site;     // in `sites`
  };
  std::vector<Trap> traps; // the sites trap calls name, for the listing
};

// Replaces each trap call's offsets by the sites of the instructions they
// name, and every debug location of the module's functions by its site's
// number (see above), filling `sites`. A trap block's edge carries only the
// innermost offset; the calls it was inlined at come from a location near
// the edge (its branch, or the branch's condition) in the same function.
void numberSites(llvm::Module& module, PartitionSites& partition);

class CodeMapBuilder {
public:
  // `bytes` is the binary `wasm` was read from (function bodies' offsets).
  CodeMapBuilder(const wabt::Module& wasm, std::span<const uint8_t> bytes);

  // Each defined function's body start, ascending (PartitionSites).
  std::vector<uint32_t> bodyOffsets() const;

  // One partition's object and its sites. Returns an error message, empty
  // on success.
  std::string addObject(const llvm::SmallVectorImpl<char>& object, const PartitionSites& sites);

  // The map as a module defining kCodeMapSymbol.
  std::unique_ptr<llvm::Module> emit(llvm::LLVMContext& ctx) const;

  // A listing that does not depend on where code generation put things: for
  // each function, its body's range and every wasm instruction some native
  // code is attributed to (with the calls it was inlined at), in wasm order.
  std::string listing() const;

private:
  struct Function {
    uint32_t codeBytes = 0;
    uint32_t bodyOffset = 0, bodyEnd = 0;
    std::vector<abi::CodeLocation> locations;
    std::vector<std::pair<uint32_t, uint32_t>> traps; // (trap code, site), for the listing
  };
  uint32_t internSite(uint32_t wasmOffset, uint32_t inlinedAt);

  const wabt::Module& wasm_;
  std::vector<Function> functions_; // by defined function index
  std::vector<abi::CodeSite> sites_;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> siteIndex_;
  std::map<uint32_t, std::string> instructions_; // wasm offset -> instruction text
};

} // namespace faasm::codegen
