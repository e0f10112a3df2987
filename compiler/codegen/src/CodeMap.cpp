#include "CodeMap.h"

#include "WasmOffsets.h"

#include "wabt/cast.h"

#include <algorithm>
#include <functional>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/DebugInfo/DWARF/DWARFContext.h>
#include <llvm/DebugInfo/DWARF/DWARFDebugLine.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
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

Function* trapDeclaration(llvm::Module& module) {
  if (Function* existing = module.getFunction(kTrapFunction)) return existing;
  LLVMContext& ctx = module.getContext();
  Type* i32 = Type::getInt32Ty(ctx);
  FunctionType* type =
      FunctionType::get(Type::getVoidTy(ctx), {PointerType::get(ctx, 0), i32, i32}, false);
  Function* f = Function::Create(type, GlobalValue::ExternalLinkage, kTrapFunction, module);
  f->setDoesNotReturn();
  f->setDoesNotThrow();
  f->addFnAttr(Attribute::Cold);
  return f;
}

BasicBlock* makeTrapBlock(Function& function, Value* vmctx, abi::TrapCode code, PHINode*& site) {
  LLVMContext& ctx = function.getContext();
  BasicBlock* block = BasicBlock::Create(ctx, "trap", &function);
  IRBuilder<> at(block);
  // The call stands for every trapping instruction of its function: its
  // location is the function's, no instruction's (the site argument says
  // which), and it keeps the inlining of the instance it was cloned into.
  if (DISubprogram* subprogram = function.getSubprogram())
    at.SetCurrentDebugLocation(DILocation::get(ctx, 0, 0, subprogram));
  site = at.CreatePHI(at.getInt32Ty(), 4, "site");
  CallInst* call = at.CreateCall(trapDeclaration(*function.getParent()),
                                 {vmctx, at.getInt32(uint32_t(code)), site});
  call->setDoesNotReturn();
  call->setDoesNotThrow();
  at.CreateUnreachable();
  return block;
}

void lowerTrapCalls(llvm::Module& module) {
  Function* declaration = module.getFunction(kTrapFunction);
  if (!declaration) return;
  LLVMContext& ctx = module.getContext();
  Type* ptr = PointerType::get(ctx, 0);
  for (User* user : make_early_inc_range(declaration->users())) {
    auto* call = cast<CallInst>(user);
    IRBuilder<> at(call);
    Value* vmctx = call->getArgOperand(0);
    Value* calls = at.CreateLoad(
        ptr, at.CreateConstInBoundsGEP1_64(at.getInt8Ty(), vmctx, offsetof(abi::VMContext, rt)));
    Value* trap = at.CreateLoad(ptr, at.CreateConstInBoundsGEP1_64(
                                         at.getInt8Ty(), calls, offsetof(abi::RuntimeCalls, trap)));
    CallInst* lowered = at.CreateCall(declaration->getFunctionType(), trap,
                                      {vmctx, call->getArgOperand(1), call->getArgOperand(2)});
    lowered->setDoesNotReturn();
    lowered->setDoesNotThrow();
    call->eraseFromParent();
  }
  declaration->eraseFromParent();
}

void numberSites(llvm::Module& module, PartitionSites& partition) {
  SiteTable& sites = partition.sites;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> index;
  auto intern = [&](uint32_t wasmOffset, uint32_t inlinedAt) {
    auto [it, added] = index.try_emplace({wasmOffset, inlinedAt}, uint32_t(sites.size()));
    if (added) sites.push_back({wasmOffset, inlinedAt});
    return it->second;
  };
  // Innermost first.
  auto internChain = [&](const SmallVectorImpl<uint32_t>& chain) {
    uint32_t site = abi::kNoSite;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
      if (*it) site = intern(*it, site);
    return site;
  };
  // A level's offset; where the optimiser merged code from several places
  // of one function (line 0), the function's body start, which is no
  // instruction's: "somewhere in this function" (abi::CodeSite).
  auto offsetOf = [](const DILocation* l) {
    return l->getLine() ? l->getLine() : l->getScope()->getSubprogram()->getLine();
  };
  // The start of the body of the function an instruction lies in; a
  // function's DISubprogram has its body start as its line.
  auto bodyOf = [&](uint32_t wasmOffset) -> uint32_t {
    const std::vector<uint32_t>& b = partition.bodyOffsets;
    auto after = std::upper_bound(b.begin(), b.end(), wasmOffset);
    return after == b.begin() ? UINT32_MAX : *std::prev(after);
  };

  // 1. Trap calls, while the locations still carry their inlining. An
  // offset reaches the call as a constant on an edge of the site phi, or
  // through phis and selects the optimiser made of it; the chain above it
  // is that of a location near it in the same inlined instance of the
  // offset's function: the call's own (a trap block is cloned with each
  // inlining of its function, and its location with it), else the edge's
  // branch or its condition.
  Type* i32 = Type::getInt32Ty(module.getContext());
  const DILocation* trapCall = nullptr;
  auto chainNear = [&](uint32_t wasmOffset, std::initializer_list<const DILocation*> near) {
    SmallVector<uint32_t, 4> chain{wasmOffset};
    uint32_t body = bodyOf(wasmOffset);
    SmallVector<const DILocation*, 3> candidates{trapCall};
    candidates.append(near.begin(), near.end());
    for (const DILocation* candidate : candidates)
      for (const DILocation* l = candidate; l; l = l->getInlinedAt())
        if (l->getScope()->getSubprogram()->getLine() == body) {
          for (const DILocation* a = l->getInlinedAt(); a; a = a->getInlinedAt())
            chain.push_back(offsetOf(a));
          return chain;
        }
    return chain;
  };
  auto near = [](BasicBlock* from) -> std::pair<const DILocation*, const DILocation*> {
    if (!from) return {nullptr, nullptr};
    Instruction* branch = from->getTerminator();
    const DILocation* condition = nullptr;
    if (auto* b = dyn_cast<BranchInst>(branch); b && b->isConditional())
      if (auto* c = dyn_cast<Instruction>(b->getCondition())) condition = c->getDebugLoc().get();
    return {branch->getDebugLoc().get(), condition};
  };
  SmallPtrSet<Value*, 32> rewritten;
  uint32_t trapFunction = 0, trapCode = 0; // of the call being rewritten, for the listing
  std::function<Value*(Value*, std::pair<const DILocation*, const DILocation*>)> toSite =
      [&](Value* v, std::pair<const DILocation*, const DILocation*> around) -> Value* {
    if (auto* offset = dyn_cast<ConstantInt>(v)) {
      auto wasmOffset = uint32_t(offset->getZExtValue());
      if (wasmOffset == 0) return ConstantInt::get(i32, 0);
      uint32_t site = internChain(chainNear(wasmOffset, {around.first, around.second}));
      partition.traps.push_back({trapFunction, trapCode, site});
      return ConstantInt::get(i32, site + 1);
    }
    if (!rewritten.insert(v).second) return v;
    if (auto* phi = dyn_cast<PHINode>(v)) {
      for (unsigned i = 0; i < phi->getNumIncomingValues(); ++i)
        phi->setIncomingValue(i, toSite(phi->getIncomingValue(i), near(phi->getIncomingBlock(i))));
    } else if (auto* select = dyn_cast<SelectInst>(v)) {
      std::pair<const DILocation*, const DILocation*> own{select->getDebugLoc().get(), nullptr};
      select->setTrueValue(toSite(select->getTrueValue(), own));
      select->setFalseValue(toSite(select->getFalseValue(), own));
    }
    return v; // anything else is left: the runtime checks the number it gets
  };
  if (Function* declaration = module.getFunction(kTrapFunction))
    for (User* user : declaration->users()) {
      auto* call = cast<CallInst>(user);
      trapCall = call->getDebugLoc().get();
      trapFunction =
          uint32_t(std::max<int64_t>(0, functionIndexOf(call->getFunction()->getName())));
      auto* code = dyn_cast<ConstantInt>(call->getArgOperand(1));
      trapCode = code ? uint32_t(code->getZExtValue()) : 0;
      call->setArgOperand(
          2, toSite(call->getArgOperand(2), near(call->getParent()->getSinglePredecessor())));
    }

  // 2. Every location becomes its site's number.
  for (Function& function : module) {
    DISubprogram* subprogram = function.getSubprogram();
    if (!subprogram) continue;
    for (BasicBlock& block : function)
      for (Instruction& inst : block) {
        const DILocation* loc = inst.getDebugLoc().get();
        if (!loc) continue;
        SmallVector<uint32_t, 4> chain;
        for (const DILocation* l = loc; l; l = l->getInlinedAt())
          chain.push_back(offsetOf(l));
        uint32_t site = internChain(chain);
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

std::vector<uint32_t> CodeMapBuilder::bodyOffsets() const {
  std::vector<uint32_t> out;
  for (const Function& f : functions_)
    out.push_back(f.bodyOffset);
  return out;
}

uint32_t CodeMapBuilder::internSite(uint32_t wasmOffset, uint32_t inlinedAt) {
  auto [it, added] = siteIndex_.try_emplace({wasmOffset, inlinedAt}, uint32_t(sites_.size()));
  if (added) sites_.push_back({wasmOffset, inlinedAt});
  return it->second;
}

std::string CodeMapBuilder::addObject(const SmallVectorImpl<char>& object,
                                      const PartitionSites& partition) {
  const SiteTable& sites = partition.sites;
  // The partition's sites in the module's table (a parent before its child).
  std::vector<uint32_t> global(sites.size(), abi::kNoSite);
  for (size_t i = 0; i < sites.size(); ++i) {
    uint32_t parent = sites[i].inlinedAt;
    if (parent != abi::kNoSite && parent >= i) return "code map: a site inlined at a later one";
    global[i] = internSite(sites[i].wasmOffset, parent == abi::kNoSite ? parent : global[parent]);
  }
  for (const PartitionSites::Trap& trap : partition.traps)
    if (trap.function >= wasm_.num_func_imports && trap.function < wasm_.funcs.size() &&
        trap.site < global.size())
      functions_[trap.function - wasm_.num_func_imports].traps.push_back(
          {trap.code, global[trap.site]});

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
    if (found != instructions_.end()) return hex(offset) + " " + found->second;
    for (size_t i = 0; i < functions_.size(); ++i)
      if (functions_[i].bodyOffset == offset)
        return "somewhere in func[" + std::to_string(i + wasm_.num_func_imports) + "]";
    return hex(offset) + " ?";
  };
  std::string out;
  for (size_t i = 0; i < functions_.size(); ++i) {
    const Function& f = functions_[i];
    const wabt::Func& func = *wasm_.funcs[i + wasm_.num_func_imports];
    out += "func[" + std::to_string(i + wasm_.num_func_imports) + "]" +
           (func.name.empty() ? "" : " " + func.name) + ": body " + hex(f.bodyOffset) + ".." +
           hex(f.bodyEnd) + (f.codeBytes ? "" : ", no code") + "\n";
    std::map<uint32_t, std::vector<std::string>> lines; // by innermost offset
    auto chain = [&](uint32_t site) {
      std::string text = describe(sites_[site].wasmOffset);
      for (uint32_t s = sites_[site].inlinedAt; s != abi::kNoSite; s = sites_[s].inlinedAt)
        text += " < " + describe(sites_[s].wasmOffset);
      return text;
    };
    auto add = [&](uint32_t site, std::string text) {
      auto& at = lines[sites_[site].wasmOffset];
      if (std::find(at.begin(), at.end(), text) == at.end()) at.push_back(std::move(text));
    };
    for (const abi::CodeLocation& l : f.locations)
      if (l.site != abi::kNoSite) add(l.site, chain(l.site));
    for (const auto& [code, site] : f.traps)
      add(site, std::string("trap: ") + abi::trapMessage(abi::TrapCode(code)) + ": " + chain(site));
    for (auto& [offset, texts] : lines) {
      std::sort(texts.begin(), texts.end());
      for (const std::string& text : texts)
        out += "  " + text + "\n";
    }
  }
  return out;
}

} // namespace faasm::codegen
