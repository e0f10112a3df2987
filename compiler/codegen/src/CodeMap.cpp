#include "CodeMap.h"

#include "WasmOffsets.h"

#include "wabt/cast.h"

#include <algorithm>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugLine.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/Object/ELFObjectFile.h>
#include <llvm/Object/ObjectFile.h>

using namespace llvm;

namespace faasm::codegen {
namespace {

// The defined function index of a symbol named by sanitizedName()
// ("wasm.<index>[.<name>]"), counting imports; -1 for any other symbol.
int64_t functionIndexOf(StringRef name) {
  if (!name.consume_front("wasm.")) return -1;
  StringRef digits = name.take_until([](char c) { return c == '.'; });
  uint64_t index = 0;
  if (digits.getAsInteger(10, index) || index > UINT32_MAX) return -1;
  return int64_t(index);
}

void collectInstructions(const wabt::Module& wasm, const wabt::ExprList& exprs,
                         const FunctionOffsets& offsets, std::map<uint32_t, std::string>& out) {
  for (const wabt::Expr& expr : exprs) {
    if (auto found = offsets.starts.find(&expr); found != offsets.starts.end())
      out[found->second] = instructionText(wasm, expr);
    if (auto* block = wabt::dyn_cast<wabt::BlockExpr>(&expr))
      collectInstructions(wasm, block->block.exprs, offsets, out);
    else if (auto* loop = wabt::dyn_cast<wabt::LoopExpr>(&expr))
      collectInstructions(wasm, loop->block.exprs, offsets, out);
    else if (auto* ifExpr = wabt::dyn_cast<wabt::IfExpr>(&expr)) {
      collectInstructions(wasm, ifExpr->true_.exprs, offsets, out);
      collectInstructions(wasm, ifExpr->false_, offsets, out);
    }
  }
}

std::string hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%llx", (unsigned long long)value);
  return text;
}

} // namespace

void numberSites(llvm::Module& module, SiteTable& sites) {
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> index;
  auto intern = [&](uint32_t wasmOffset, uint32_t inlinedAt) {
    auto [it, added] = index.try_emplace({wasmOffset, inlinedAt}, uint32_t(sites.size()));
    if (added) sites.push_back({wasmOffset, inlinedAt});
    return it->second;
  };
  for (Function& function : module) {
    DISubprogram* subprogram = function.getSubprogram();
    if (!subprogram) continue;
    for (BasicBlock& block : function)
      for (Instruction& inst : block) {
        const DILocation* loc = inst.getDebugLoc().get();
        if (!loc) continue;
        // Innermost first; an unknown offset (0: code the optimiser merged
        // from several places) is left out, so the site is the call it was
        // inlined at, or none.
        SmallVector<uint32_t, 4> chain;
        for (const DILocation* l = loc; l; l = l->getInlinedAt())
          if (l->getLine() != 0) chain.push_back(l->getLine());
        uint32_t site = abi::kNoSite;
        for (auto it = chain.rbegin(); it != chain.rend(); ++it)
          site = intern(*it, site);
        inst.setDebugLoc(DILocation::get(module.getContext(), site == abi::kNoSite ? 0 : site + 1,
                                         0, subprogram));
      }
  }
}

CodeMapBuilder::CodeMapBuilder(const wabt::Module& wasm, std::span<const uint8_t> bytes)
    : wasm_(wasm) {
  for (uint32_t i = wasm.num_func_imports; i < wasm.funcs.size(); ++i) {
    FunctionOffsets offsets = functionOffsets(*wasm.funcs[i], bytes);
    Function f;
    // Bodies in file order; one whose offsets are unknown holds nothing.
    f.bodyOffset = f.bodyEnd = functions_.empty() ? 0 : functions_.back().bodyEnd;
    if (offsets.known) {
      f.bodyOffset = offsets.bodyOffset;
      f.bodyEnd = offsets.bodyEnd;
      collectInstructions(wasm, wasm.funcs[i]->exprs, offsets, instructions_);
    }
    functions_.push_back(std::move(f));
  }
}

uint32_t CodeMapBuilder::internSite(uint32_t wasmOffset, uint32_t inlinedAt) {
  auto [it, added] = siteIndex_.try_emplace({wasmOffset, inlinedAt}, uint32_t(sites_.size()));
  if (added) sites_.push_back({wasmOffset, inlinedAt});
  return it->second;
}

std::string CodeMapBuilder::addObject(const SmallVectorImpl<char>& object, const SiteTable& sites) {
  // The partition's sites in the module's table (a parent before its child).
  std::vector<uint32_t> global(sites.size(), abi::kNoSite);
  for (size_t i = 0; i < sites.size(); ++i) {
    uint32_t parent = sites[i].inlinedAt;
    if (parent != abi::kNoSite && parent >= i) return "code map: a site inlined at a later one";
    global[i] = internSite(sites[i].wasmOffset, parent == abi::kNoSite ? parent : global[parent]);
  }

  auto file = object::ObjectFile::createObjectFile(
      MemoryBufferRef(StringRef(object.data(), object.size()), "partition"));
  if (!file) return "code map: cannot read an object: " + toString(file.takeError());
  struct Symbol {
    uint64_t section, address, size;
    uint32_t function; // defined index
  };
  std::vector<Symbol> symbols;
  for (const object::SymbolRef& symbol : (*file)->symbols()) {
    Expected<object::SymbolRef::Type> type = symbol.getType();
    Expected<StringRef> name = symbol.getName();
    Expected<uint64_t> address = symbol.getAddress();
    Expected<object::section_iterator> section = symbol.getSection();
    if (!type || !name || !address || !section) {
      consumeError(type.takeError());
      consumeError(name.takeError());
      consumeError(address.takeError());
      consumeError(section.takeError());
      continue;
    }
    int64_t index = functionIndexOf(*name);
    if (*type != object::SymbolRef::ST_Function || index < int64_t(wasm_.num_func_imports) ||
        index >= int64_t(wasm_.funcs.size()) || *section == (*file)->section_end())
      continue;
    uint64_t size = object::ELFSymbolRef(symbol).getSize();
    if (size > UINT32_MAX) return "code map: a function of more than 4 GiB";
    symbols.push_back(
        {(*section)->getIndex(), *address, size, uint32_t(index - wasm_.num_func_imports)});
  }

  struct Row {
    uint64_t section, address;
    uint32_t site;
  };
  std::vector<Row> rows;
  std::unique_ptr<DWARFContext> dwarf = DWARFContext::create(**file);
  for (const std::unique_ptr<DWARFUnit>& unit : dwarf->compile_units()) {
    const DWARFDebugLine::LineTable* table = dwarf->getLineTableForUnit(unit.get());
    if (!table) continue;
    for (const DWARFDebugLine::Row& row : table->Rows) {
      uint32_t line = row.Line;
      // Past a sequence's end, or a line no site has: no instruction.
      uint32_t site =
          row.EndSequence || line == 0 || line > global.size() ? abi::kNoSite : global[line - 1];
      rows.push_back({row.Address.SectionIndex, row.Address.Address, site});
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return std::tie(a.section, a.address) < std::tie(b.section, b.address);
  });

  for (const Symbol& symbol : symbols) {
    Function& f = functions_[symbol.function];
    f.codeBytes = uint32_t(symbol.size);
    f.locations.clear();
    auto first =
        std::upper_bound(rows.begin(), rows.end(), std::make_pair(symbol.section, symbol.address),
                         [](const std::pair<uint64_t, uint64_t>& key, const Row& row) {
                           return key < std::make_pair(row.section, row.address);
                         });
    // The row in force at the function's first byte, then each in its code.
    uint32_t current = abi::kNoSite;
    if (first != rows.begin() && std::prev(first)->section == symbol.section)
      current = std::prev(first)->site;
    f.locations.push_back({0, current});
    for (auto row = first; row != rows.end() && row->section == symbol.section &&
                           row->address < symbol.address + symbol.size;
         ++row) {
      uint32_t offset = uint32_t(row->address - symbol.address);
      if (row->site == f.locations.back().site) continue;
      if (f.locations.back().nativeOffset == offset)
        f.locations.back().site = row->site;
      else
        f.locations.push_back({offset, row->site});
    }
  }
  return {};
}

std::unique_ptr<llvm::Module> CodeMapBuilder::emit(LLVMContext& ctx) const {
  auto module = std::make_unique<llvm::Module>("codemap", ctx);
  Type* i32 = Type::getInt32Ty(ctx);
  Type* i64 = Type::getInt64Ty(ctx);
  Type* ptr = PointerType::get(ctx, 0);
  std::vector<uint32_t> functions, locations, sites;
  for (const Function& f : functions_) {
    functions.insert(functions.end(), {f.codeBytes, uint32_t(locations.size() / 2),
                                       uint32_t(f.locations.size()), f.bodyOffset, f.bodyEnd, 0});
    for (const abi::CodeLocation& l : f.locations)
      locations.insert(locations.end(), {l.nativeOffset, l.site});
  }
  for (const abi::CodeSite& s : sites_)
    sites.insert(sites.end(), {s.wasmOffset, s.inlinedAt});
  static_assert(sizeof(abi::FunctionCode) == 6 * 4 && sizeof(abi::CodeLocation) == 2 * 4 &&
                sizeof(abi::CodeSite) == 2 * 4);
  // An abi::Array: {items, count}, the items a private array of u32 words.
  auto array = [&](const std::vector<uint32_t>& words, size_t wordsPerItem, const char* name) {
    Constant* items = ConstantPointerNull::get(PointerType::get(ctx, 0));
    if (!words.empty()) {
      auto* global = new GlobalVariable(
          *module, ArrayType::get(i32, words.size()), true, GlobalValue::PrivateLinkage,
          ConstantDataArray::get(ctx, ArrayRef<uint32_t>(words)), name);
      global->setAlignment(Align(8));
      items = global;
    }
    return std::vector<Constant*>{items, ConstantInt::get(i64, words.size() / wordsPerItem)};
  };
  std::vector<Constant*> fields;
  for (auto part : {array(functions, 6, "code.functions"), array(locations, 2, "code.locations"),
                    array(sites, 2, "code.sites")})
    fields.insert(fields.end(), part.begin(), part.end());
  StructType* type = StructType::get(ctx, {ptr, i64, ptr, i64, ptr, i64});
  static_assert(sizeof(abi::CodeMap) == 48 && offsetof(abi::CodeMap, locations) == 16 &&
                offsetof(abi::CodeMap, sites) == 32);
  auto* map = new GlobalVariable(*module, type, true, GlobalValue::ExternalLinkage,
                                 ConstantStruct::get(type, fields), kCodeMapSymbol);
  map->setVisibility(GlobalValue::HiddenVisibility);
  map->setAlignment(Align(16));
  return module;
}

std::string CodeMapBuilder::listing() const {
  auto describe = [&](uint32_t offset) {
    auto found = instructions_.find(offset);
    return hex(offset) + " " + (found == instructions_.end() ? "?" : found->second);
  };
  std::string out;
  for (size_t i = 0; i < functions_.size(); ++i) {
    const Function& f = functions_[i];
    const wabt::Func& func = *wasm_.funcs[i + wasm_.num_func_imports];
    out += "func[" + std::to_string(i + wasm_.num_func_imports) + "]" +
           (func.name.empty() ? "" : " " + func.name) + ": body " + hex(f.bodyOffset) + ".." +
           hex(f.bodyEnd) + (f.codeBytes ? "" : ", no code") + "\n";
    std::map<uint32_t, std::vector<std::string>> lines; // by innermost offset
    for (const abi::CodeLocation& l : f.locations) {
      if (l.site == abi::kNoSite) continue;
      std::string text = describe(sites_[l.site].wasmOffset);
      for (uint32_t s = sites_[l.site].inlinedAt; s != abi::kNoSite; s = sites_[s].inlinedAt)
        text += " < " + describe(sites_[s].wasmOffset);
      auto& at = lines[sites_[l.site].wasmOffset];
      if (std::find(at.begin(), at.end(), text) == at.end()) at.push_back(text);
    }
    for (auto& [offset, texts] : lines) {
      std::sort(texts.begin(), texts.end());
      for (const std::string& text : texts)
        out += "  " + text + "\n";
    }
  }
  return out;
}

} // namespace faasm::codegen
