#include "faasm/runtime/Instance.h"

#include "faasm/runtime/Backtrace.h"

#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/StateMapping.h"
#include "faasm/runtime/TypeRegistry.h"

#include "RuntimePrivate.h"

#include <cstddef>
#include <cstring>
#include <new>

namespace faasm::runtime {
namespace {

std::string quoted(const abi::ImportDesc& imp) {
  return "\"" + std::string(imp.module.view()) + "\".\"" + std::string(imp.name.view()) + "\"";
}

const char* kindName(abi::ExternKind kind) {
  switch (kind) {
  case abi::ExternKind::Func: return "function";
  case abi::ExternKind::Table: return "table";
  case abi::ExternKind::Memory: return "memory";
  case abi::ExternKind::Global: return "global";
  }
  return "unknown";
}

std::string limitsText(uint64_t min, std::optional<uint64_t> max) {
  return max ? std::to_string(min) + ".." + std::to_string(*max) : std::to_string(min) + "..";
}

// Spec import matching for limits: the provided ones must lie inside the
// required ones.
bool limitsMatch(uint64_t providedMin, std::optional<uint64_t> providedMax,
                 const abi::Limits& required) {
  if (providedMin < required.min) return false;
  if (required.hasMax) return providedMax && *providedMax <= required.max;
  return true;
}

std::optional<uint64_t> maxOf(const abi::Limits& l) {
  return l.hasMax ? std::optional<uint64_t>(l.max) : std::nullopt;
}

Error trapError(abi::TrapCode code, int32_t exitCode = 0) {
  return Error{abi::trapMessage(code), code, exitCode, {}};
}

} // namespace

Expected<std::shared_ptr<Instance>> Instance::instantiate(std::shared_ptr<Module> module,
                                                          const ImportResolver& resolver,
                                                          InstantiateOptions options) {
  std::shared_ptr<Instance> inst(new Instance);
  inst->module_ = std::move(module);
  inst->hostState_ = std::move(options.hostState);
  if (Error e = inst->link(resolver); !e.message.empty()) return e;
  if (Error e = inst->build(); !e.message.empty()) return e;

  Error e = inst->applySegments();
  const abi::ModuleDescriptor& d = inst->module_->descriptor();
  if (e.message.empty() && d.startFunction >= 0) {
    InvokeResult r = invoke(inst->funcPtrs_[d.startFunction], {});
    if (!r.ok()) {
      e = trapError(r.trap, r.exitCode);
      if (r.trap != abi::TrapCode::Exit) e.backtrace = formatBacktrace(lastTrapTrace());
    }
  }
  if (!e.message.empty()) {
    if (options.outFailedInstance) *options.outFailedInstance = inst;
    return e;
  }
  return inst;
}

Error Instance::link(const ImportResolver& resolver) {
  const abi::ModuleDescriptor& d = module_->descriptor();
  for (uint64_t i = 0; i < d.imports.count; ++i) {
    const abi::ImportDesc& imp = d.imports[i];
    std::optional<Extern> ext = resolver ? resolver(imp.module, imp.name) : std::nullopt;
    if (!ext) return makeError("unknown import: " + quoted(imp));
    auto incompatible = [&](const std::string& why) {
      return makeError("incompatible import type: " + quoted(imp) + " (" + why + ")");
    };
    abi::ExternKind want = abi::ExternKind(imp.kind);
    if (ext->kind != want)
      return incompatible(std::string("expected ") + kindName(want) + ", got " +
                          kindName(ext->kind));
    switch (want) {
    case abi::ExternKind::Func: {
      std::string wantSig = d.types[imp.typeIndex].signature;
      if (ext->host) {
        if (ext->host->signature != wantSig)
          return incompatible("expected " + wantSig + ", got " + ext->host->signature);
      } else if (ext->func) {
        if (ext->func->typeId != module_->typeIds()[imp.typeIndex])
          return incompatible("expected " + wantSig + ", got " + signatureOf(ext->func->typeId));
      } else {
        return incompatible("function extern without a function");
      }
      hostImports_.push_back(ext->host);
      importedFuncs_.push_back(ext->func);
      break;
    }
    case abi::ExternKind::Table: {
      if (!ext->table) return incompatible("table extern without a table");
      if (uint8_t(ext->table->elemType()) != imp.valType)
        return incompatible("element type mismatch");
      if (!limitsMatch(ext->table->size(), ext->table->declaredMax(), imp.limits))
        return incompatible("expected limits " + limitsText(imp.limits.min, maxOf(imp.limits)) +
                            ", got " + limitsText(ext->table->size(), ext->table->declaredMax()));
      tables_.push_back(ext->table);
      break;
    }
    case abi::ExternKind::Memory: {
      if (!ext->memory) return incompatible("memory extern without a memory");
      if (!limitsMatch(ext->memory->pages(), ext->memory->declaredMax(), imp.limits))
        return incompatible("expected limits " + limitsText(imp.limits.min, maxOf(imp.limits)) +
                            ", got " +
                            limitsText(ext->memory->pages(), ext->memory->declaredMax()));
      // A guard-mode module relies on the reservation, not on checks; every
      // memory has one now, but the fault handler reports a fault in an
      // explicit-mode memory as a missed check, which guard-mode code's
      // faults are not.
      if (module_->boundsMode() == abi::BoundsMode::Guard &&
          (ext->memory->mode() != abi::BoundsMode::Guard ||
           ext->memory->reservationBytes() < abi::kGuardReservationBytes))
        return incompatible("an explicit-mode memory for a guard-mode module");
      memory_ = ext->memory;
      break;
    }
    case abi::ExternKind::Global: {
      if (!ext->global) return incompatible("global extern without a global");
      if (uint8_t(ext->global->type()) != imp.valType ||
          ext->global->isMutable() != bool(imp.isMutable))
        return incompatible("global type or mutability mismatch");
      globals_.push_back(ext->global);
      break;
    }
    }
    if (ext->owner) importOwners_.push_back(ext->owner);
  }
  return Error{};
}

abi::Value Instance::evalInit(const abi::InitExpr& expr) const {
  abi::Value v{};
  switch (abi::InitKind(expr.kind)) {
  case abi::InitKind::Const: v = expr.value; break;
  case abi::InitKind::GlobalGet:
    if (expr.index < globalPtrs_.size()) v = *globalPtrs_[expr.index];
    break;
  case abi::InitKind::RefNull: break;
  case abi::InitKind::RefFunc:
    if (expr.index < funcCount_) v.lo = reinterpret_cast<uint64_t>(funcPtrs_[expr.index]);
    break;
  }
  return v;
}

Error Instance::build() {
  const abi::ModuleDescriptor& d = module_->descriptor();
  const std::vector<uint32_t>& typeIds = module_->typeIds();
  uint32_t nImports = module_->importedFunctionCount();
  size_t blockBytes = abi::kImportCallsOffset + size_t(nImports) * sizeof(abi::ImportCall);
  size_t blockUnits = (blockBytes + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  contextBlock_.reset(new std::max_align_t[blockUnits]());
  vmctx_ = new (contextBlock_.get()) abi::VMContext{};
  auto* importCalls = reinterpret_cast<abi::ImportCall*>(reinterpret_cast<std::byte*>(vmctx_) +
                                                         abi::kImportCallsOffset);
  vmctx_->instance = static_cast<host::GuestInstance*>(this);
  vmctx_->rt = &detail::kRuntimeCalls;
  vmctx_->typeIds = typeIds.data();

  // Function references. Imports of another instance's function use its
  // FuncRef as is; host functions get one bound to this instance's vmctx.
  // Each import's call target is its FuncRef's code and vmctx, copied once:
  // link() checked the signature, and the FuncRef never changes.
  funcCount_ = uint32_t(nImports + d.functions.count);
  ownFuncRefs_.reset(new abi::FuncRef[funcCount_ ? funcCount_ : 1]{});
  funcPtrs_.reset(new abi::FuncRef* [funcCount_ ? funcCount_ : 1] {});
  uint32_t fi = 0;
  for (uint64_t i = 0; i < d.imports.count; ++i) {
    const abi::ImportDesc& imp = d.imports[i];
    if (abi::ExternKind(imp.kind) != abi::ExternKind::Func) continue;
    if (const host::HostFunction* h = hostImports_[fi]) {
      ownFuncRefs_[fi] = abi::FuncRef{h->code, vmctx_, typeIds[imp.typeIndex], 0};
      funcPtrs_[fi] = &ownFuncRefs_[fi];
    } else {
      funcPtrs_[fi] = const_cast<abi::FuncRef*>(importedFuncs_[fi]);
    }
    new (&importCalls[fi]) abi::ImportCall{funcPtrs_[fi]->code, funcPtrs_[fi]->vmctx};
    ++fi;
  }
  for (uint64_t i = 0; i < d.functions.count; ++i, ++fi) {
    ownFuncRefs_[fi] =
        abi::FuncRef{d.functions[i].code, vmctx_, typeIds[d.functions[i].typeIndex], 0};
    funcPtrs_[fi] = &ownFuncRefs_[fi];
  }
  vmctx_->funcs = funcPtrs_.get();

  // Globals: imported first, then defined ones in order (an initializer may
  // read any global before it).
  for (auto& g : globals_)
    globalPtrs_.push_back(g->cell());
  for (uint64_t i = 0; i < d.globals.count; ++i) {
    const abi::GlobalDesc& gd = d.globals[i];
    auto g = GlobalObject::create(abi::ValType(gd.type), gd.isMutable, evalInit(gd.init));
    globals_.push_back(g);
    globalPtrs_.push_back(g->cell());
  }
  vmctx_->globals = globalPtrs_.data();

  for (uint64_t i = 0; i < d.tables.count; ++i) {
    const abi::TableDesc& td = d.tables[i];
    auto t = TableObject::create(abi::ValType(td.elemType), td.limits.min, maxOf(td.limits));
    if (!t) return t.error();
    tables_.push_back(t.value());
  }
  for (auto& t : tables_)
    tablePtrs_.push_back(t->abiTable());
  vmctx_->tables = tablePtrs_.data();

  if (d.memories.count) {
    auto m = Memory::create(module_->boundsMode(), d.memories[0].limits.min,
                            maxOf(d.memories[0].limits));
    if (!m) return m.error();
    memory_ = m.value();
  }
  if (memory_) {
    memory_->attach(vmctx_);
    attachedToMemory_ = true;
  }

  // Segments: element items are evaluated once, here (spec: at instantiation).
  dataDropped_.assign(d.dataSegments.count, false);
  elemDropped_.assign(d.elemSegments.count, false);
  for (uint64_t i = 0; i < d.elemSegments.count; ++i) {
    const abi::ElemSegmentDesc& s = d.elemSegments[i];
    std::vector<void*> items(s.count);
    for (uint32_t j = 0; j < s.count; ++j)
      items[j] = reinterpret_cast<void*>(evalInit(s.items[j]).lo);
    elemItems_.push_back(std::move(items));
  }

  detail::registerVmctx(vmctx_);
  return Error{};
}

Error Instance::applySegments() {
  const abi::ModuleDescriptor& d = module_->descriptor();
  for (uint64_t i = 0; i < d.elemSegments.count; ++i) {
    const abi::ElemSegmentDesc& s = d.elemSegments[i];
    if (s.mode == uint8_t(abi::SegmentMode::Active)) {
      uint64_t offset = uint32_t(evalInit(s.offset).lo);
      TableObject& t = *tables_[s.tableIndex];
      const std::vector<void*>& items = elemItems_[i];
      if (offset > t.size() || items.size() > t.size() - offset)
        return trapError(abi::TrapCode::TableOutOfBounds);
      for (size_t j = 0; j < items.size(); ++j)
        t.set(uint32_t(offset + j), items[j]);
      dropElemSegment(uint32_t(i));
    } else if (s.mode == uint8_t(abi::SegmentMode::Declared)) {
      dropElemSegment(uint32_t(i));
    }
  }
  for (uint64_t i = 0; i < d.dataSegments.count; ++i) {
    const abi::DataSegmentDesc& s = d.dataSegments[i];
    if (s.mode != uint8_t(abi::SegmentMode::Active)) continue;
    uint64_t offset = uint32_t(evalInit(s.offset).lo);
    uint64_t size = memory_ ? memory_->sizeBytes() : 0;
    if (offset > size || s.size > size - offset) return trapError(abi::TrapCode::MemoryOutOfBounds);
    if (s.size) std::memcpy(memory_->base() + offset, s.bytes, s.size);
    dropDataSegment(uint32_t(i));
  }
  return Error{};
}

Instance::~Instance() {
  if (vmctx_ && vmctx_->rt) detail::unregisterVmctx(vmctx_);
  if (attachedToMemory_) memory_->detach(vmctx_);
}

std::optional<Extern> Instance::getExport(std::string_view name) {
  const abi::ModuleDescriptor& d = module_->descriptor();
  for (const abi::ExportDesc& e : d.exports) {
    if (name != e.name.view()) continue;
    Extern ext;
    ext.kind = abi::ExternKind(e.kind);
    ext.owner = shared_from_this();
    switch (ext.kind) {
    case abi::ExternKind::Func: ext.func = funcPtrs_[e.index]; break;
    case abi::ExternKind::Table: ext.table = tables_[e.index]; break;
    case abi::ExternKind::Memory: ext.memory = memory_; break;
    case abi::ExternKind::Global: ext.global = globals_[e.index]; break;
    }
    return ext;
  }
  return std::nullopt;
}

const abi::FuncRef* Instance::exportedFunction(std::string_view name) {
  const abi::ModuleDescriptor& d = module_->descriptor();
  for (const abi::ExportDesc& e : d.exports)
    if (name == e.name.view() && e.kind == uint8_t(abi::ExternKind::Func))
      return funcPtrs_[e.index];
  return nullptr;
}

void* Instance::hostState(const void* tag) const {
  for (const auto& [t, state] : hostState_)
    if (t == tag) return state.get();
  return nullptr;
}

host::SharedMapping Instance::mapSharedIntoMemory(int fd, uint64_t fileOffset, uint64_t length) {
  if (!memory_) return {0, "the instance has no memory to map state into"};
  auto mapped = runtime::mapSharedIntoMemory(*memory_, fd, fileOffset, length);
  if (!mapped) return {0, mapped.error().message};
  return {mapped.value(), {}};
}

void Instance::raiseTrap(abi::TrapCode code, int32_t exitCode) {
  if (code == abi::TrapCode::Exit) exitGuest(exitCode);
  runtime::raiseTrap(code);
}

Expected<InvokeResult> Instance::invokeExport(std::string_view name,
                                              std::span<const abi::Value> args) {
  const abi::FuncRef* f = exportedFunction(name);
  if (!f) return makeError("no exported function named \"" + std::string(name) + "\"");
  std::string_view params, results;
  std::string sig = signatureOf(f->typeId);
  if (!parseSignature(sig, params, results)) return makeError("bad signature " + sig);
  if (params.size() != args.size())
    return makeError("\"" + std::string(name) + "\" takes " + std::to_string(params.size()) +
                     " arguments, got " + std::to_string(args.size()));
  return invoke(f, args);
}

std::span<const uint8_t> Instance::dataSegment(uint32_t index) const {
  const abi::ModuleDescriptor& d = module_->descriptor();
  if (index >= d.dataSegments.count || dataDropped_[index]) return {};
  return {d.dataSegments[index].bytes, d.dataSegments[index].size};
}

void Instance::dropDataSegment(uint32_t index) {
  if (index < dataDropped_.size()) dataDropped_[index] = true;
}

std::span<void* const> Instance::elemSegment(uint32_t index) const {
  if (index >= elemItems_.size() || elemDropped_[index]) return {};
  return elemItems_[index];
}

void Instance::dropElemSegment(uint32_t index) {
  if (index < elemDropped_.size()) elemDropped_[index] = true;
}

bool Instance::setDroppedSegments(const std::vector<bool>& data, const std::vector<bool>& elem) {
  if (data.size() != dataDropped_.size() || elem.size() != elemDropped_.size()) return false;
  // Written only if changed: a warm reset after a call that dropped nothing
  // must not dirty the page (a copy in a forked Faaslet).
  if (dataDropped_ != data) dataDropped_ = data;
  if (elemDropped_ != elem) elemDropped_ = elem;
  return true;
}

} // namespace faasm::runtime
