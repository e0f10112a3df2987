// Module-level translation: function declarations and bodies, the host-entry
// thunks, and the abi::ModuleDescriptor the loader reads. The descriptor is
// built field by field at the offsets of the ABI structs themselves, so the
// compiler cannot disagree with the loader about a layout.
#include "CodeMap.h"
#include "EmitContext.h"

#include <algorithm>
#include <llvm/IR/DIBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

using namespace llvm;

namespace faasm::codegen {

char valTypeChar(wabt::Type type) {
  switch (type) {
  case wabt::Type::I32: return (char)abi::ValType::I32;
  case wabt::Type::I64: return (char)abi::ValType::I64;
  case wabt::Type::F32: return (char)abi::ValType::F32;
  case wabt::Type::F64: return (char)abi::ValType::F64;
  case wabt::Type::V128: return (char)abi::ValType::V128;
  case wabt::Type::FuncRef: return (char)abi::ValType::FuncRef;
  case wabt::Type::ExternRef: return (char)abi::ValType::ExternRef;
  default: throw UnsupportedError{std::string("value type ") + type.GetName()};
  }
}

std::string signatureString(const wabt::FuncSignature& sig) {
  std::string s;
  for (wabt::Type type : sig.param_types)
    s += valTypeChar(type);
  s += ':';
  for (wabt::Type type : sig.result_types)
    s += valTypeChar(type);
  return s;
}

ModuleContext::ModuleContext(LLVMContext& llvmContext, const wabt::Module& wasm,
                             std::span<const uint8_t> wasmBytes, const CompileOptions& options)
    : ctx(llvmContext), llvmModule(std::make_unique<llvm::Module>("wasm", llvmContext)), wasm(wasm),
      wasmBytes(wasmBytes), options(options) {
  voidTy = Type::getVoidTy(ctx);
  i1Ty = Type::getInt1Ty(ctx);
  i8Ty = Type::getInt8Ty(ctx);
  i16Ty = Type::getInt16Ty(ctx);
  i32Ty = Type::getInt32Ty(ctx);
  i64Ty = Type::getInt64Ty(ctx);
  f32Ty = Type::getFloatTy(ctx);
  f64Ty = Type::getDoubleTy(ctx);
  v128Ty = FixedVectorType::get(i32Ty, 4);
  ptrTy = PointerType::get(ctx, 0);

  MDBuilder md(ctx);
  MDNode* root = md.createTBAARoot("faasm");
  auto tag = [&](const char* name) {
    MDNode* type = md.createTBAAScalarTypeNode(name, root);
    return md.createTBAAStructTagNode(type, type, 0);
  };
  tbaaMemory = tag("linear memory");
  tbaaContext = tag("vmcontext");
  tbaaGlobal = tag("global cell");
  tbaaTable = tag("table");
  emptyNode = MDNode::get(ctx, {});
  numImportedFuncs = wasm.num_func_imports;
}

Type* ModuleContext::wasmType(wabt::Type type) const {
  switch (type) {
  case wabt::Type::I32: return i32Ty;
  case wabt::Type::I64: return i64Ty;
  case wabt::Type::F32: return f32Ty;
  case wabt::Type::F64: return f64Ty;
  case wabt::Type::V128: return v128Ty;
  case wabt::Type::FuncRef:
  case wabt::Type::ExternRef: return ptrTy;
  default: throw UnsupportedError{std::string("value type ") + type.GetName()};
  }
}

Type* ModuleContext::resultType(const wabt::TypeVector& results) const {
  if (results.empty()) return voidTy;
  if (results.size() == 1) return wasmType(results[0]);
  std::vector<Type*> fields;
  for (wabt::Type type : results)
    fields.push_back(wasmType(type));
  return StructType::get(ctx, fields);
}

FunctionType* ModuleContext::functionType(const wabt::FuncSignature& sig) const {
  std::vector<Type*> params{ptrTy};
  for (wabt::Type type : sig.param_types)
    params.push_back(wasmType(type));
  if (resultsInMemory(sig)) {
    params.push_back(ptrTy);
    return FunctionType::get(voidTy, params, false);
  }
  return FunctionType::get(resultType(sig.result_types), params, false);
}

const wabt::FuncSignature& ModuleContext::typeSignature(uint32_t typeIndex) const {
  auto* type = wabt::cast<wabt::FuncType>(wasm.types.at(typeIndex));
  return type->sig;
}

const wabt::FuncSignature& ModuleContext::funcSignature(uint32_t funcIndex) const {
  const wabt::Func* func = wasm.funcs.at(funcIndex);
  if (func->decl.has_func_type) return typeSignature(wasm.GetFuncTypeIndex(func->decl.type_var));
  return func->decl.sig;
}

const wabt::FuncSignature& ModuleContext::blockSignature(const wabt::BlockDeclaration& decl) const {
  if (decl.has_func_type) return typeSignature(wasm.GetFuncTypeIndex(decl.type_var));
  return decl.sig;
}

namespace {

// Builds one packed constant struct with each field at an explicit offset.
class StructBuilder {
public:
  explicit StructBuilder(ModuleContext& m) : m(m) {}

  void u8(uint64_t at, uint8_t value) { add(at, ConstantInt::get(m.i8Ty, value), 1); }
  void u32(uint64_t at, uint32_t value) { add(at, ConstantInt::get(m.i32Ty, value), 4); }
  void u64(uint64_t at, uint64_t value) { add(at, ConstantInt::get(m.i64Ty, value), 8); }
  void ptr(uint64_t at, Constant* value) {
    add(at, value ? value : ConstantPointerNull::get(m.ptrTy), 8);
  }
  void nested(uint64_t at, Constant* value, uint64_t size) { add(at, value, size); }

  Constant* finish(uint64_t size) {
    pad(size);
    return ConstantStruct::getAnon(m.ctx, fields, /*Packed=*/true);
  }

private:
  void pad(uint64_t to) {
    assert(to >= offset && "fields must be added in offset order");
    if (to > offset)
      fields.push_back(ConstantAggregateZero::get(ArrayType::get(m.i8Ty, to - offset)));
    offset = to;
  }
  void add(uint64_t at, Constant* value, uint64_t size) {
    pad(at);
    fields.push_back(value);
    offset += size;
  }

  ModuleContext& m;
  std::vector<Constant*> fields;
  uint64_t offset = 0;
};

abi::SegmentMode segmentMode(wabt::SegmentKind kind) {
  switch (kind) {
  case wabt::SegmentKind::Active: return abi::SegmentMode::Active;
  case wabt::SegmentKind::Passive: return abi::SegmentMode::Passive;
  case wabt::SegmentKind::Declared: return abi::SegmentMode::Declared;
  }
  return abi::SegmentMode::Passive;
}

// The abi::ModuleDescriptor and the arrays it points to. emit() builds the
// sections in the order of the descriptor's fields, then the descriptor;
// strings, arrays and segment data become private globals in that order, so
// reordering the calls changes the artefact's bytes (though not its meaning).
class DescriptorEmitter {
public:
  explicit DescriptorEmitter(ModuleContext& m) : m(m), wasm(m.wasm) {}

  void emit();

private:
  std::vector<Constant*> typeDescs();
  std::vector<Constant*> importDescs();
  Constant* importDesc(const wabt::Import& import);
  std::vector<Constant*> functionDescs();
  std::vector<Constant*> tableDescs();
  std::vector<Constant*> memoryDescs();
  std::vector<Constant*> globalDescs();
  std::vector<Constant*> exportDescs();
  std::vector<Constant*> dataSegmentDescs();
  std::vector<Constant*> elemSegmentDescs();
  Constant* dylinkDesc();

  Constant* string(const std::string& text) {
    auto found = strings.find(text);
    if (found != strings.end()) return found->second;
    Constant* data = ConstantDataArray::getString(m.ctx, text, /*AddNull=*/true);
    auto* global = new GlobalVariable(*m.llvmModule, data->getType(), true,
                                      GlobalValue::PrivateLinkage, data, "str");
    global->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    strings[text] = global;
    return global;
  }

  // An abi::Name: {chars (NUL-terminated too), length}.
  Constant* name(const std::string& text) {
    StructBuilder out(m);
    out.ptr(offsetof(abi::Name, chars), string(text));
    out.u32(offsetof(abi::Name, length), (uint32_t)text.size());
    return out.finish(sizeof(abi::Name));
  }

  // An abi::Array<T>: {pointer to the elements, count}.
  Constant* array(const std::vector<Constant*>& elements, const char* name) {
    StructBuilder out(m);
    if (elements.empty()) {
      out.ptr(0, nullptr);
      out.u64(8, 0);
      return out.finish(16);
    }
    ArrayType* type = ArrayType::get(elements[0]->getType(), elements.size());
    auto* global = new GlobalVariable(*m.llvmModule, type, true, GlobalValue::PrivateLinkage,
                                      ConstantArray::get(type, elements), name);
    global->setAlignment(Align(16));
    out.ptr(0, global);
    out.u64(8, elements.size());
    return out.finish(16);
  }

  Constant* limits(const wabt::Limits& limits) {
    StructBuilder out(m);
    out.u64(offsetof(abi::Limits, min), limits.initial);
    out.u64(offsetof(abi::Limits, max), limits.has_max ? limits.max : 0);
    out.u8(offsetof(abi::Limits, hasMax), limits.has_max ? 1 : 0);
    return out.finish(sizeof(abi::Limits));
  }

  Constant* initExpr(const wabt::ExprList& exprs, wabt::Type type) {
    StructBuilder out(m);
    uint64_t lo = 0, hi = 0;
    uint32_t index = 0;
    abi::InitKind kind = abi::InitKind::Const;
    if (exprs.size() != 1)
      throw UnsupportedError{"constant expression of more than one instruction (type mismatch)",
                             /*invalid=*/true};
    const wabt::Expr& expr = exprs.front();
    switch (expr.type()) {
    case wabt::ExprType::Const: {
      const wabt::Const& value = wabt::cast<wabt::ConstExpr>(&expr)->const_;
      switch (value.type()) {
      case wabt::Type::I32: lo = value.u32(); break;
      case wabt::Type::F32: lo = value.f32_bits(); break;
      case wabt::Type::I64: lo = value.u64(); break;
      case wabt::Type::F64: lo = value.f64_bits(); break;
      case wabt::Type::V128:
        lo = value.vec128().u64(0);
        hi = value.vec128().u64(1);
        break;
      default: throw UnsupportedError{"constant of an unsupported type"};
      }
      break;
    }
    case wabt::ExprType::GlobalGet:
      kind = abi::InitKind::GlobalGet;
      index = wasm.GetGlobalIndex(wabt::cast<wabt::GlobalGetExpr>(&expr)->var);
      break;
    case wabt::ExprType::RefNull: kind = abi::InitKind::RefNull; break;
    case wabt::ExprType::RefFunc:
      kind = abi::InitKind::RefFunc;
      index = wasm.GetFuncIndex(wabt::cast<wabt::RefFuncExpr>(&expr)->var);
      break;
    default:
      throw UnsupportedError{std::string("constant expression ") + wabt::GetExprTypeName(expr)};
    }
    out.u64(offsetof(abi::InitExpr, value) + offsetof(abi::Value, lo), lo);
    out.u64(offsetof(abi::InitExpr, value) + offsetof(abi::Value, hi), hi);
    out.u32(offsetof(abi::InitExpr, index), index);
    out.u8(offsetof(abi::InitExpr, kind), (uint8_t)kind);
    out.u8(offsetof(abi::InitExpr, type), (uint8_t)valTypeChar(type));
    return out.finish(sizeof(abi::InitExpr));
  }

  Constant* zeroInitExpr() {
    wabt::ExprList exprs;
    exprs.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I32(0)));
    return initExpr(exprs, wabt::Type::I32);
  }

  ModuleContext& m;
  const wabt::Module& wasm;
  std::map<std::string, Constant*> strings;
};

void DescriptorEmitter::emit() {
  std::vector<Constant*> types = typeDescs();
  std::vector<Constant*> imports = importDescs();
  std::vector<Constant*> functions = functionDescs();
  std::vector<Constant*> tables = tableDescs();
  std::vector<Constant*> memories = memoryDescs();
  std::vector<Constant*> globals = globalDescs();
  std::vector<Constant*> exports = exportDescs();
  std::vector<Constant*> dataSegments = dataSegmentDescs();
  std::vector<Constant*> elemSegments = elemSegmentDescs();

  int32_t start = wasm.starts.empty() ? -1 : (int32_t)wasm.GetFuncIndex(*wasm.starts[0]);
  uint64_t features = m.cpuFeatures;

  StructBuilder out(m);
  using D = abi::ModuleDescriptor;
  out.u32(offsetof(D, magic), abi::kMagic);
  out.u32(offsetof(D, abiVersion), abi::kAbiVersion);
  out.ptr(offsetof(D, compilerVersion), string(compilerVersion()));
  out.u32(offsetof(D, boundsMode), (uint32_t)m.options.bounds);
  out.u32(offsetof(D, startFunction), (uint32_t)start);
  out.u64(offsetof(D, cpuFeatures), features);
  out.nested(offsetof(D, types), array(types, "types"), 16);
  out.nested(offsetof(D, imports), array(imports, "imports"), 16);
  out.nested(offsetof(D, functions), array(functions, "functions"), 16);
  out.nested(offsetof(D, tables), array(tables, "tables"), 16);
  out.nested(offsetof(D, memories), array(memories, "memories"), 16);
  out.nested(offsetof(D, globals), array(globals, "globals"), 16);
  out.nested(offsetof(D, exports), array(exports, "exports"), 16);
  out.nested(offsetof(D, dataSegments), array(dataSegments, "data.segments"), 16);
  out.nested(offsetof(D, elemSegments), array(elemSegments, "elem.segments"), 16);
  out.ptr(offsetof(D, sourceName), string(m.options.sourceName));
  out.ptr(offsetof(D, dylink), dylinkDesc());
  // Made once every partition's code is known (CodeMap.cpp), and linked in.
  auto* codeMap = new GlobalVariable(*m.llvmModule, m.i8Ty, true, GlobalValue::ExternalLinkage,
                                     nullptr, kCodeMapSymbol);
  codeMap->setVisibility(GlobalValue::HiddenVisibility);
  out.ptr(offsetof(D, codeMap), codeMap);
  Constant* descriptor = out.finish(sizeof(D));
  auto* global =
      new GlobalVariable(*m.llvmModule, descriptor->getType(), true, GlobalValue::ExternalLinkage,
                         descriptor, abi::kDescriptorSymbol);
  global->setAlignment(Align(16));
  global->setVisibility(GlobalValue::DefaultVisibility);
}

// A side module's dylink.0 as a private constant, or null.
Constant* DescriptorEmitter::dylinkDesc() {
  if (!m.dylink) return nullptr;
  std::vector<Constant*> needed;
  for (const std::string& library : m.dylink->needed)
    needed.push_back(name(library));
  StructBuilder out(m);
  using D = abi::DylinkDesc;
  out.u32(offsetof(D, memorySize), m.dylink->memorySize);
  out.u32(offsetof(D, memoryAlign), m.dylink->memoryAlign);
  out.u32(offsetof(D, tableSize), m.dylink->tableSize);
  out.u32(offsetof(D, tableAlign), m.dylink->tableAlign);
  out.nested(offsetof(D, needed), array(needed, "dylink.needed"), 16);
  Constant* value = out.finish(sizeof(D));
  auto* global = new GlobalVariable(*m.llvmModule, value->getType(), true,
                                    GlobalValue::PrivateLinkage, value, "dylink");
  global->setAlignment(Align(16));
  return global;
}

// Types, each with the thunk the host calls functions of that type through.
std::vector<Constant*> DescriptorEmitter::typeDescs() {
  std::vector<Constant*> types;
  for (uint32_t i = 0; i < wasm.types.size(); ++i) {
    StructBuilder out(m);
    std::string sig = signatureString(m.typeSignature(i));
    out.ptr(offsetof(abi::FuncTypeDesc, signature), string(sig));
    out.ptr(offsetof(abi::FuncTypeDesc, thunk), m.thunks.at(sig));
    types.push_back(out.finish(sizeof(abi::FuncTypeDesc)));
  }
  return types;
}

std::vector<Constant*> DescriptorEmitter::importDescs() {
  std::vector<Constant*> imports;
  for (const wabt::Import* import : wasm.imports)
    imports.push_back(importDesc(*import));
  return imports;
}

Constant* DescriptorEmitter::importDesc(const wabt::Import& import) {
  StructBuilder out(m);
  out.nested(offsetof(abi::ImportDesc, module), name(import.module_name), sizeof(abi::Name));
  out.nested(offsetof(abi::ImportDesc, name), name(import.field_name), sizeof(abi::Name));
  wabt::Limits noLimits;
  uint32_t typeIndex = 0;
  uint8_t valType = 0, isMutable = 0;
  const wabt::Limits* importLimits = &noLimits;
  abi::ExternKind kind;
  switch (import.kind()) {
  case wabt::ExternalKind::Func: {
    auto* func = wabt::cast<wabt::FuncImport>(&import);
    kind = abi::ExternKind::Func;
    typeIndex = wasm.GetFuncTypeIndex(func->func.decl);
    break;
  }
  case wabt::ExternalKind::Table: {
    auto* table = wabt::cast<wabt::TableImport>(&import);
    kind = abi::ExternKind::Table;
    importLimits = &table->table.elem_limits;
    valType = (uint8_t)valTypeChar(table->table.elem_type);
    break;
  }
  case wabt::ExternalKind::Memory: {
    auto* memory = wabt::cast<wabt::MemoryImport>(&import);
    kind = abi::ExternKind::Memory;
    importLimits = &memory->memory.page_limits;
    break;
  }
  case wabt::ExternalKind::Global: {
    auto* global = wabt::cast<wabt::GlobalImport>(&import);
    kind = abi::ExternKind::Global;
    valType = (uint8_t)valTypeChar(global->global.type);
    isMutable = global->global.mutable_ ? 1 : 0;
    break;
  }
  default: throw UnsupportedError{"import of a kind outside WebAssembly 2.0"};
  }
  out.nested(offsetof(abi::ImportDesc, limits), limits(*importLimits), sizeof(abi::Limits));
  out.u32(offsetof(abi::ImportDesc, typeIndex), typeIndex);
  out.u8(offsetof(abi::ImportDesc, kind), (uint8_t)kind);
  out.u8(offsetof(abi::ImportDesc, valType), valType);
  out.u8(offsetof(abi::ImportDesc, isMutable), isMutable);
  return out.finish(sizeof(abi::ImportDesc));
}

std::vector<Constant*> DescriptorEmitter::functionDescs() {
  std::vector<Constant*> functions;
  for (uint32_t i = m.numImportedFuncs; i < wasm.funcs.size(); ++i) {
    const wabt::Func* func = wasm.funcs[i];
    StructBuilder out(m);
    out.ptr(offsetof(abi::FuncDesc, code), m.definedFunctions[i - m.numImportedFuncs]);
    out.ptr(offsetof(abi::FuncDesc, name), func->name.empty() ? nullptr : string(func->name));
    out.u32(offsetof(abi::FuncDesc, typeIndex), wasm.GetFuncTypeIndex(func->decl));
    functions.push_back(out.finish(sizeof(abi::FuncDesc)));
  }
  return functions;
}

std::vector<Constant*> DescriptorEmitter::tableDescs() {
  std::vector<Constant*> tables;
  for (uint32_t i = wasm.num_table_imports; i < wasm.tables.size(); ++i) {
    StructBuilder out(m);
    out.nested(offsetof(abi::TableDesc, limits), limits(wasm.tables[i]->elem_limits),
               sizeof(abi::Limits));
    out.u8(offsetof(abi::TableDesc, elemType), (uint8_t)valTypeChar(wasm.tables[i]->elem_type));
    tables.push_back(out.finish(sizeof(abi::TableDesc)));
  }
  return tables;
}

std::vector<Constant*> DescriptorEmitter::memoryDescs() {
  std::vector<Constant*> memories;
  for (uint32_t i = wasm.num_memory_imports; i < wasm.memories.size(); ++i) {
    StructBuilder out(m);
    out.nested(offsetof(abi::MemoryDesc, limits), limits(wasm.memories[i]->page_limits),
               sizeof(abi::Limits));
    memories.push_back(out.finish(sizeof(abi::MemoryDesc)));
  }
  return memories;
}

std::vector<Constant*> DescriptorEmitter::globalDescs() {
  std::vector<Constant*> globals;
  for (uint32_t i = wasm.num_global_imports; i < wasm.globals.size(); ++i) {
    const wabt::Global* global = wasm.globals[i];
    StructBuilder out(m);
    out.nested(offsetof(abi::GlobalDesc, init), initExpr(global->init_expr, global->type),
               sizeof(abi::InitExpr));
    out.u8(offsetof(abi::GlobalDesc, type), (uint8_t)valTypeChar(global->type));
    out.u8(offsetof(abi::GlobalDesc, isMutable), global->mutable_ ? 1 : 0);
    globals.push_back(out.finish(sizeof(abi::GlobalDesc)));
  }
  return globals;
}

std::vector<Constant*> DescriptorEmitter::exportDescs() {
  std::vector<Constant*> exports;
  for (const wabt::Export* exp : wasm.exports) {
    StructBuilder out(m);
    uint32_t index;
    abi::ExternKind kind;
    switch (exp->kind) {
    case wabt::ExternalKind::Func:
      kind = abi::ExternKind::Func;
      index = wasm.GetFuncIndex(exp->var);
      break;
    case wabt::ExternalKind::Table:
      kind = abi::ExternKind::Table;
      index = wasm.GetTableIndex(exp->var);
      break;
    case wabt::ExternalKind::Memory:
      kind = abi::ExternKind::Memory;
      index = wasm.GetMemoryIndex(exp->var);
      break;
    case wabt::ExternalKind::Global:
      kind = abi::ExternKind::Global;
      index = wasm.GetGlobalIndex(exp->var);
      break;
    default: throw UnsupportedError{"export of a kind outside WebAssembly 2.0"};
    }
    out.nested(offsetof(abi::ExportDesc, name), name(exp->name), sizeof(abi::Name));
    out.u32(offsetof(abi::ExportDesc, index), index);
    out.u8(offsetof(abi::ExportDesc, kind), (uint8_t)kind);
    exports.push_back(out.finish(sizeof(abi::ExportDesc)));
  }
  return exports;
}

std::vector<Constant*> DescriptorEmitter::dataSegmentDescs() {
  std::vector<Constant*> dataSegments;
  for (const wabt::DataSegment* segment : wasm.data_segments) {
    StructBuilder out(m);
    bool active = segment->kind == wabt::SegmentKind::Active;
    out.nested(offsetof(abi::DataSegmentDesc, offset),
               active ? initExpr(segment->offset, wabt::Type::I32) : zeroInitExpr(),
               sizeof(abi::InitExpr));
    Constant* bytes = nullptr;
    if (!segment->data.empty()) {
      Constant* data = ConstantDataArray::get(m.ctx, ArrayRef<uint8_t>(segment->data));
      bytes = new GlobalVariable(*m.llvmModule, data->getType(), true, GlobalValue::PrivateLinkage,
                                 data, "data");
    }
    out.ptr(offsetof(abi::DataSegmentDesc, bytes), bytes);
    out.u32(offsetof(abi::DataSegmentDesc, size), (uint32_t)segment->data.size());
    out.u32(offsetof(abi::DataSegmentDesc, memoryIndex),
            active ? wasm.GetMemoryIndex(segment->memory_var) : 0);
    out.u8(offsetof(abi::DataSegmentDesc, mode), (uint8_t)segmentMode(segment->kind));
    dataSegments.push_back(out.finish(sizeof(abi::DataSegmentDesc)));
  }
  return dataSegments;
}

std::vector<Constant*> DescriptorEmitter::elemSegmentDescs() {
  std::vector<Constant*> elemSegments;
  for (const wabt::ElemSegment* segment : wasm.elem_segments) {
    StructBuilder out(m);
    bool active = segment->kind == wabt::SegmentKind::Active;
    std::vector<Constant*> items;
    for (const wabt::ExprList& item : segment->elem_exprs)
      items.push_back(initExpr(item, segment->elem_type));
    Constant* itemArray = array(items, "elem.items");
    out.nested(offsetof(abi::ElemSegmentDesc, offset),
               active ? initExpr(segment->offset, wabt::Type::I32) : zeroInitExpr(),
               sizeof(abi::InitExpr));
    out.ptr(offsetof(abi::ElemSegmentDesc, items), itemArray->getAggregateElement(0u));
    out.u32(offsetof(abi::ElemSegmentDesc, count), (uint32_t)items.size());
    out.u32(offsetof(abi::ElemSegmentDesc, tableIndex),
            active ? wasm.GetTableIndex(segment->table_var) : 0);
    out.u8(offsetof(abi::ElemSegmentDesc, mode), (uint8_t)segmentMode(segment->kind));
    out.u8(offsetof(abi::ElemSegmentDesc, elemType), (uint8_t)valTypeChar(segment->elem_type));
    elemSegments.push_back(out.finish(sizeof(abi::ElemSegmentDesc)));
  }
  return elemSegments;
}

// void thunk(VMContext*, code, const Value* args, Value* results)
Function* emitThunk(ModuleContext& m, const wabt::FuncSignature& sig, const std::string& name) {
  FunctionType* thunkType =
      FunctionType::get(m.voidTy, {m.ptrTy, m.ptrTy, m.ptrTy, m.ptrTy}, false);
  Function* thunk =
      Function::Create(thunkType, GlobalValue::InternalLinkage, "thunk." + name, *m.llvmModule);
  thunk->addFnAttr(Attribute::NoUnwind);
  thunk->addFnAttr("frame-pointer", "all");
  IRBuilder<> builder(BasicBlock::Create(m.ctx, "entry", thunk));
  auto arg = thunk->arg_begin();
  Value* vmctx = &*arg++;
  Value* code = &*arg++;
  Value* args = &*arg++;
  Value* results = &*arg++;
  std::vector<Value*> callArgs{vmctx};
  for (size_t i = 0; i < sig.param_types.size(); ++i) {
    Value* slot = builder.CreateConstInBoundsGEP1_64(m.i8Ty, args, i * sizeof(abi::Value));
    callArgs.push_back(builder.CreateAlignedLoad(m.wasmType(sig.param_types[i]), slot, Align(16)));
  }
  FunctionType* calleeType = m.functionType(sig);
  if (ModuleContext::resultsInMemory(sig)) {
    // The callee writes each result's value into its slot; zero the slots
    // first so narrow values leave no stale high bytes.
    builder.CreateMemSet(results, builder.getInt8(0), sig.result_types.size() * sizeof(abi::Value),
                         Align(16));
    callArgs.push_back(results);
    builder.CreateCall(calleeType, code, callArgs);
    builder.CreateRetVoid();
    return thunk;
  }
  Value* call = builder.CreateCall(calleeType, code, callArgs);
  for (size_t i = 0; i < sig.result_types.size(); ++i) {
    Value* value =
        sig.result_types.size() == 1 ? call : builder.CreateExtractValue(call, (unsigned)i);
    Value* slot = builder.CreateConstInBoundsGEP1_64(m.i8Ty, results, i * sizeof(abi::Value));
    // Zero the whole slot first so narrow values leave no stale high bytes.
    builder.CreateAlignedStore(Constant::getNullValue(m.v128Ty), slot, Align(16));
    builder.CreateAlignedStore(value, slot, Align(16));
  }
  builder.CreateRetVoid();
  return thunk;
}

std::string sanitizedName(const std::string& name, uint32_t index) {
  std::string out = "wasm." + std::to_string(index);
  if (!name.empty()) {
    out += '.';
    for (char c : name)
      out += (std::isalnum((unsigned char)c) || c == '_') ? c : '_';
  }
  return out;
}

} // namespace

std::unique_ptr<llvm::Module> translatePartition(LLVMContext& ctx, const wabt::Module& wasm,
                                                 std::span<const uint8_t> wasmBytes,
                                                 const CompileOptions& options,
                                                 uint64_t cpuFeatures, const Partition& partition,
                                                 const DylinkInfo* dylink) {
  ModuleContext m(ctx, wasm, wasmBytes, options);
  m.cpuFeatures = cpuFeatures;
  m.dylink = dylink;
  if (wasm.memories.size() > 1) throw UnsupportedError{"more than one memory"};

  // Every partition declares every function so direct calls can name it; the
  // bodies live in exactly one. With one partition they are internal; across
  // partitions they are hidden symbols that the linker resolves in the .so.
  std::vector<bool> ownBody(wasm.funcs.size(), false);
  for (uint32_t index : partition.functions)
    ownBody[index] = true;
  for (uint32_t i = m.numImportedFuncs; i < wasm.funcs.size(); ++i) {
    FunctionType* type = m.functionType(m.funcSignature(i));
    GlobalValue::LinkageTypes linkage =
        partition.whole ? GlobalValue::InternalLinkage : GlobalValue::ExternalLinkage;
    Function* function =
        Function::Create(type, linkage, sanitizedName(wasm.funcs[i]->name, i), *m.llvmModule);
    if (!partition.whole) function->setVisibility(GlobalValue::HiddenVisibility);
    function->addFnAttr(Attribute::NoUnwind);
    // Recursion must use stack so unbounded recursion traps as the spec says;
    // tail-recursion elimination would turn it into a loop that never ends.
    function->addFnAttr("disable-tail-calls", "true");
    // Each function starts a cache line, so where its loops fall relative to
    // line and fetch-window boundaries depends on its own code alone, not on
    // the sizes of the functions before it. With LLVM's 16 bytes, a change
    // elsewhere that moved interp's untouched main loop by 16 bytes made it
    // 1.3x slower.
    function->setAlignment(Align(64));
    // The runtime walks a trap's frames by their frame pointers (abi/Abi.h).
    function->addFnAttr("frame-pointer", "all");
    m.definedFunctions.push_back(function);
  }
  // Line tables only: each instruction's line is the wasm offset it came
  // from (FunctionEmitter::locate), and nothing else is described.
  m.llvmModule->addModuleFlag(llvm::Module::Warning, "Debug Info Version", DEBUG_METADATA_VERSION);
  m.llvmModule->addModuleFlag(llvm::Module::Warning, "Dwarf Version", 4);
  DIBuilder debugInfo(*m.llvmModule);
  std::string source = options.sourceName.empty() ? "module.wasm" : options.sourceName;
  DIFile* file = debugInfo.createFile(source.substr(source.rfind('/') + 1), ".");
  DICompileUnit* unit =
      debugInfo.createCompileUnit(dwarf::DW_LANG_C99, file, "faasm-codegen", /*isOptimized=*/true,
                                  "", 0, "", DICompileUnit::LineTablesOnly);
  DISubroutineType* noType = debugInfo.createSubroutineType(debugInfo.getOrCreateTypeArray({}));
  for (uint32_t i : partition.functions) {
    Function* function = m.definedFunctions[i - m.numImportedFuncs];
    uint32_t line = uint32_t(wasm.funcs[i]->loc.offset);
    function->setSubprogram(debugInfo.createFunction(
        unit, function->getName(), function->getName(), file, line, noType, line, DINode::FlagZero,
        DISubprogram::SPFlagDefinition | DISubprogram::SPFlagOptimized));
  }
  for (uint32_t i : partition.functions) {
    Function* function = m.definedFunctions[i - m.numImportedFuncs];
    FunctionEmitter emitter(m, *wasm.funcs[i], function);
    try {
      emitter.emit();
    } catch (UnsupportedError& error) {
      error.message = "function " + std::to_string(i) + ": " + error.message;
      throw;
    }
    // A huge function is compiled without optimisation, as engines leave
    // their largest functions to a baseline tier: parts of LLVM's optimiser
    // and of its code generation (the machine scheduler over long basic
    // blocks of memory accesses) take time superlinear in a function's size
    // (100,000 stores in one block: 16 s; ten times fewer: 0.7 s).
    if (function->getInstructionCount() > kMaxOptimisedInstructions) {
      function->addFnAttr(Attribute::OptimizeNone);
      function->addFnAttr(Attribute::NoInline);
    }
  }
  if (partition.primary) {
    for (uint32_t i = 0; i < wasm.types.size(); ++i) {
      const wabt::FuncSignature& sig = m.typeSignature(i);
      std::string key = signatureString(sig);
      if (!m.thunks.count(key)) m.thunks[key] = emitThunk(m, sig, std::to_string(m.thunks.size()));
    }
    DescriptorEmitter(m).emit();
  }
  debugInfo.finalize();

  std::string problems;
  raw_string_ostream stream(problems);
  if (verifyModule(*m.llvmModule, &stream)) {
    stream.flush();
    throw UnsupportedError{"internal error: generated IR does not verify: " +
                           problems.substr(0, problems.find('\n'))};
  }
  return std::move(m.llvmModule);
}

namespace {

// A loop over an explicit stack of sequences: the nesting depth is the
// input's to choose.
size_t countInstructions(const wabt::ExprList& body) {
  size_t count = 0;
  std::vector<const wabt::ExprList*> pending{&body};
  while (!pending.empty()) {
    const wabt::ExprList* exprs = pending.back();
    pending.pop_back();
    for (const wabt::Expr& expr : *exprs) {
      ++count;
      if (auto* block = wabt::dyn_cast<wabt::BlockExpr>(&expr)) {
        pending.push_back(&block->block.exprs);
      } else if (auto* loop = wabt::dyn_cast<wabt::LoopExpr>(&expr)) {
        pending.push_back(&loop->block.exprs);
      } else if (auto* ifExpr = wabt::dyn_cast<wabt::IfExpr>(&expr)) {
        pending.push_back(&ifExpr->true_.exprs);
        pending.push_back(&ifExpr->false_);
      }
    }
  }
  return count;
}

} // namespace

std::vector<Partition> partitionFunctions(const wabt::Module& wasm, unsigned maxPartitions) {
  // Below this many instructions a second partition costs more than it saves.
  constexpr size_t kMinInstructionsPerPartition = 20000;
  std::vector<std::pair<size_t, uint32_t>> sizes; // (instructions, function index)
  size_t total = 0;
  for (uint32_t i = wasm.num_func_imports; i < wasm.funcs.size(); ++i) {
    size_t count = countInstructions(wasm.funcs[i]->exprs) + 1;
    sizes.push_back({count, i});
    total += count;
  }
  size_t wanted = std::max<size_t>(1, total / kMinInstructionsPerPartition);
  size_t count = std::min<size_t>(std::max(1u, maxPartitions), wanted);
  std::vector<Partition> partitions(count);
  partitions[0].primary = true;
  for (Partition& partition : partitions)
    partition.whole = count == 1;
  // Largest first, each to the lightest partition so far.
  std::sort(sizes.begin(), sizes.end(), std::greater<>());
  std::vector<size_t> load(count, 0);
  for (auto [size, index] : sizes) {
    size_t lightest = std::min_element(load.begin(), load.end()) - load.begin();
    partitions[lightest].functions.push_back(index);
    load[lightest] += size;
  }
  for (Partition& partition : partitions)
    std::sort(partition.functions.begin(), partition.functions.end());
  return partitions;
}

} // namespace faasm::codegen
