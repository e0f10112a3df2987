// ---------------------------------------------------------------------------
// SANDBOX-CRITICAL: a library is untrusted wasm, and so is its dylink.0
// section. Every number in it (memory size and alignment, table size and
// alignment) is checked before anything grows, in 64-bit arithmetic, so no
// base or size wraps around 2^32; memory grows only through Memory::grow
// (the instance's own limits) and the table only through TableObject::grow.
// What a library can reach is what any wasm module can: the memory and table
// it imports (the instance's own), the main module's exports, earlier
// libraries' exports and the host functions every guest may call. Its data
// relocations and constructors run as ordinary, bounds-checked guest code.
// Symbols resolve main module first, then libraries in load order: a library
// never interposes a name the main module or an earlier library defines.
// ---------------------------------------------------------------------------
#include "faasm/runtime/DynamicLinker.h"

#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"
#include "faasm/host/HostFunction.h"
#include "faasm/runtime/TypeRegistry.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm::runtime {
namespace {

std::string lastComponent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* modeName(abi::BoundsMode mode) {
  return mode == abi::BoundsMode::Guard ? "guard" : "explicit";
}

host::LinkResult failed(std::string error) {
  return {0, std::move(error)};
}

// Reads [offset, offset + n) of `fd` into `out`; false on a short read.
bool readAt(int fd, uint64_t offset, void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  while (n) {
    ssize_t got = pread(fd, p, n, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got, offset += uint64_t(got), n -= size_t(got);
  }
  return true;
}

} // namespace

DynamicLinker::DynamicLinker(ImportResolver hostResolver,
                             std::vector<std::shared_ptr<Module>> libraries)
    : hostResolver_(std::move(hostResolver)), available_(std::move(libraries)) {}

std::shared_ptr<Instance> DynamicLinker::mainOf(abi::VMContext* caller, std::string& error) {
  Instance* callerInstance = Instance::fromVmctx(caller);
  std::shared_ptr<Instance> main = main_.lock();
  if (!main) {
    main = callerInstance->shared_from_this();
    main_ = main;
    return main;
  }
  if (callerInstance == main.get()) return main;
  for (const Library& l : libraries_)
    if (l.instance.get() == callerInstance) return main;
  error = "dynamic loading: called from an instance this linker does not serve";
  return nullptr;
}

// The granted library whose image the file behind `fd` is, byte for byte:
// its size is the image plus a seal, and its first image bytes hash to the
// digest the library's verified seal recorded. The file's own seal is not
// trusted, nor needed: the code that runs is the library's, checked when it
// was loaded.
const std::shared_ptr<Module>* DynamicLinker::identify(int fd, const std::string& name,
                                                       std::string& error) {
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = name + ": not a regular file";
    return nullptr;
  }
  uint64_t size = uint64_t(st.st_size);
  uint8_t head[4] = {};
  if (size >= 4 && readAt(fd, 0, head, 4) && std::memcmp(head, "\0asm", 4) == 0) {
    error = name + ": a WebAssembly file, not an artefact: compile it with faasm-codegen and "
                   "grant the artefact to the function (faasm-run --lib)";
    return nullptr;
  }
  abi::ArtefactSeal seal{};
  if (size < sizeof seal || !readAt(fd, size - sizeof seal, &seal, sizeof seal) ||
      std::memcmp(seal.magic, abi::kSealMagic, sizeof seal.magic) != 0) {
    error = name + ": not a sealed artefact of faasm-codegen";
    return nullptr;
  }
  uint64_t imageBytes = size - sizeof seal;
  abi::Sha256 hash;
  std::vector<uint8_t> buffer(1 << 16);
  for (uint64_t at = 0; at < imageBytes;) {
    size_t n = size_t(std::min<uint64_t>(buffer.size(), imageBytes - at));
    if (!readAt(fd, at, buffer.data(), n)) {
      error = name + ": cannot read: " + std::strerror(errno ? errno : EIO);
      return nullptr;
    }
    hash.update(buffer.data(), n);
    at += n;
  }
  abi::Digest digest = hash.finish();
  for (const std::shared_ptr<Module>& m : available_)
    if (m->sealed() && m->imageDigest() == digest) return &m;
  error = name + ": not a library this function may load (modified since it was compiled, or "
                 "not granted with faasm-run --lib)";
  return nullptr;
}

host::LinkResult DynamicLinker::open(abi::VMContext* caller, int fd, const std::string& name) {
  std::string error;
  std::shared_ptr<Instance> main = mainOf(caller, error);
  if (!main) return failed(error);
  const std::shared_ptr<Module>* module = identify(fd, name, error);
  if (!module) return failed(error);
  for (size_t i = 0; i < libraries_.size(); ++i)
    if (libraries_[i].module == *module) {
      if (libraries_[i].refs == UINT32_MAX) return failed(name + ": opened too many times");
      ++libraries_[i].refs;
      return {uint32_t(i + 1), {}};
    }
  return link(*main, *module, name);
}

host::LinkResult DynamicLinker::link(Instance& main, const std::shared_ptr<Module>& module,
                                     const std::string& name) {
  const abi::ModuleDescriptor& d = module->descriptor();
  if (!d.dylink)
    return failed(name + ": not a side module (no dylink.0 section): build it with -fPIC -shared");
  const abi::DylinkDesc& info = *d.dylink;
  if (module->boundsMode() != main.module().boundsMode())
    return failed(name + ": compiled with --bounds=" + modeName(module->boundsMode()) +
                  ", the function with --bounds=" + modeName(main.module().boundsMode()) +
                  ": compile both alike");
  if (d.memories.count)
    return failed(name + ": defines a memory of its own; a library imports env.memory");
  Memory* memory = main.memory();
  std::shared_ptr<TableObject> table = main.tablePtr(0);
  if (!memory) return failed(name + ": the main module has no memory");
  if (!table || table->elemType() != abi::ValType::FuncRef)
    return failed(name + ": the main module has no function table");
  for (const abi::Name& needed : d.dylink->needed) {
    bool loaded = false;
    for (const Library& l : libraries_)
      loaded |= l.refs && l.soname == needed.view();
    if (!loaded)
      return failed(name + ": needs " + std::string(needed.view()) + ": dlopen it first");
  }
  // Both alignments are at most a wasm page: data goes at the start of
  // fresh pages (any alignment up to 64 KiB holds), and a table alignment
  // beyond it is never needed by real code.
  if (info.memoryAlign > 16)
    return failed(name + ": dylink.0 memory alignment 2^" + std::to_string(info.memoryAlign) +
                  " is above 64 KiB");
  if (info.tableAlign > 16)
    return failed(name + ": dylink.0 table alignment 2^" + std::to_string(info.tableAlign) +
                  " is too large");
  if (info.tableSize > kMaxLibraryTableSlots)
    return failed(name + ": dylink.0 table size " + std::to_string(info.tableSize) +
                  " is above the limit of " + std::to_string(kMaxLibraryTableSlots));

  // Data: fresh pages at the end of memory, grown as memory.grow would (the
  // guest's malloc takes later pages as it takes any others).
  uint64_t memoryBase = memory->sizeBytes();
  uint64_t pages = (uint64_t(info.memorySize) + abi::kWasmPageSize - 1) / abi::kWasmPageSize;
  if (memoryBase + uint64_t(info.memorySize) > (1ull << 32) - 1)
    return failed(name + ": no room in the 4 GiB address space for its data");
  if (pages && memory->grow(pages) < 0)
    return failed(name + ": memory cannot grow by " + std::to_string(pages) +
                  " pages for its data");
  // Functions: slots at the end of the table, aligned.
  uint64_t tableAlign = 1ull << info.tableAlign;
  uint64_t tableBase = (uint64_t(table->size()) + tableAlign - 1) / tableAlign * tableAlign;
  uint64_t tableGrowth = tableBase - table->size() + info.tableSize;
  if (tableGrowth && table->grow(tableGrowth, nullptr) < 0)
    return failed(name + ": the function table cannot grow by " + std::to_string(tableGrowth) +
                  " slots (link the main module with -Wl,--growable-table)");

  struct Got {
    std::shared_ptr<GlobalObject> global;
    std::string symbol;
    bool function;
  };
  std::vector<Got> gots;
  std::shared_ptr<Instance> mainPtr = main.shared_from_this();
  auto constant = [](uint64_t value) {
    Extern e;
    e.kind = abi::ExternKind::Global;
    e.global = GlobalObject::create(abi::ValType::I32, false, GlobalObject::i32(int32_t(value)));
    return e;
  };
  ImportResolver resolver = [&](std::string_view mod,
                                std::string_view field) -> std::optional<Extern> {
    if (mod == "GOT.mem" || mod == "GOT.func") {
      Extern e;
      e.kind = abi::ExternKind::Global;
      e.global = GlobalObject::create(abi::ValType::I32, true, GlobalObject::i32(0));
      gots.push_back({e.global, std::string(field), mod == "GOT.func"});
      return e;
    }
    if (mod != "env") return hostResolver_ ? hostResolver_(mod, field) : std::nullopt;
    if (field == "memory") {
      Extern e;
      e.kind = abi::ExternKind::Memory;
      e.memory = main.memoryPtr();
      return e;
    }
    if (field == "__indirect_function_table") {
      Extern e;
      e.kind = abi::ExternKind::Table;
      e.table = table;
      return e;
    }
    if (field == "__memory_base") return constant(memoryBase);
    if (field == "__table_base") return constant(tableBase);
    if (field == "__stack_pointer") {
      std::optional<Extern> e = mainPtr->getExport("__stack_pointer");
      if (e && e->kind == abi::ExternKind::Global) return e;
      return std::nullopt;
    }
    // Functions: the main module's, then open libraries' in load order.
    std::optional<Extern> e = mainPtr->getExport(field);
    if (e && e->kind == abi::ExternKind::Func) return e;
    for (const Library& l : libraries_) {
      if (!l.refs) continue;
      e = l.instance->getExport(field);
      if (e && e->kind == abi::ExternKind::Func) return e;
    }
    return std::nullopt;
  };

  InstantiateOptions options;
  options.hostState = main.hostStates();
  std::shared_ptr<Instance> failedInstance;
  options.outFailedInstance = &failedInstance;
  auto made = Instance::instantiate(module, resolver, options);
  if (failedInstance) keepAlive_.push_back(failedInstance);
  if (!made) {
    std::string why = made.error().message;
    const std::string unknown = "unknown import: \"env\".\"";
    if (why.rfind(unknown, 0) == 0) {
      std::string symbol = why.substr(unknown.size(), why.size() - unknown.size() - 1);
      if (symbol == "__stack_pointer")
        return failed(name + ": the main module does not export __stack_pointer (link it with "
                             "faasm-cc --faasm-dl-main)");
      return failed(name + ": undefined symbol " + symbol);
    }
    return failed(name + ": " + why);
  }
  std::shared_ptr<Instance> instance = made.value();
  keepAlive_.push_back(instance);

  // The GOT: every entry from the main module, then open libraries, then the
  // library itself.
  for (const Got& got : gots) {
    uint32_t value = 0;
    bool found = exportValue(main, 0, got.symbol, got.function, !got.function, *table, value);
    for (const Library& l : libraries_)
      if (!found && l.refs)
        found = exportValue(*l.instance, l.memoryBase, got.symbol, got.function, !got.function,
                            *table, value);
    if (!found)
      found = exportValue(*instance, uint32_t(memoryBase), got.symbol, got.function, !got.function,
                          *table, value);
    if (!found) return failed(name + ": undefined symbol " + got.symbol);
    *got.global->cell() = GlobalObject::i32(int32_t(value));
  }

  for (const char* step : {"__wasm_apply_data_relocs", "__wasm_call_ctors"}) {
    const abi::FuncRef* f = instance->exportedFunction(step);
    if (!f) continue;
    if (signatureOf(f->typeId) != ":")
      return failed(name + ": " + step + " must take and return nothing");
    InvokeResult r = invoke(f, {});
    if (r.trap == abi::TrapCode::Exit) host::exitGuest(r.exitCode);
    if (!r.ok()) return failed(name + ": " + step + " trapped: " + abi::trapMessage(r.trap));
  }

  Library library;
  library.name = name;
  library.soname = lastComponent(name);
  library.module = module;
  library.instance = instance;
  library.memoryBase = uint32_t(memoryBase);
  library.refs = 1;
  libraries_.push_back(std::move(library));
  return {uint32_t(libraries_.size()), {}};
}

bool DynamicLinker::slotFor(TableObject& table, const abi::FuncRef* f, uint32_t& out) {
  if (!slotsScanned_) {
    for (uint32_t i = table.size(); i-- > 0;)
      if (void* e = table.get(i)) slots_[static_cast<const abi::FuncRef*>(e)] = i;
    slotsScanned_ = true;
  }
  auto it = slots_.find(f);
  if (it != slots_.end() && it->second < table.size() && table.get(it->second) == f) {
    out = it->second;
    return true;
  }
  int64_t at = table.grow(1, const_cast<abi::FuncRef*>(f));
  if (at < 0) return false;
  slots_[f] = uint32_t(at);
  out = uint32_t(at);
  return true;
}

bool DynamicLinker::exportValue(Instance& instance, uint32_t memoryBase, const std::string& symbol,
                                bool wantFunction, bool wantData, TableObject& table,
                                uint32_t& out) {
  std::optional<Extern> e = instance.getExport(symbol);
  if (!e) return false;
  if (wantFunction && e->kind == abi::ExternKind::Func) return slotFor(table, e->func, out);
  // A data symbol is an immutable i32 global holding its address, relative
  // to __memory_base in a library (wasm-ld's convention).
  if (wantData && e->kind == abi::ExternKind::Global && !e->global->isMutable() &&
      e->global->type() == abi::ValType::I32) {
    out = uint32_t(e->global->cell()->lo) + memoryBase;
    return true;
  }
  return false;
}

host::LinkResult DynamicLinker::symbol(abi::VMContext* caller, uint32_t handle,
                                       const std::string& name) {
  std::string error;
  std::shared_ptr<Instance> main = mainOf(caller, error);
  if (!main) return failed(error);
  TableObject* table = main->table(0);
  if (!table) return failed(name + ": the main module has no function table");
  uint32_t value = 0;
  if (handle == 0) {
    if (exportValue(*main, 0, name, true, true, *table, value)) return {value, {}};
    for (const Library& l : libraries_)
      if (l.refs && exportValue(*l.instance, l.memoryBase, name, true, true, *table, value))
        return {value, {}};
    return failed("undefined symbol " + name);
  }
  if (handle > libraries_.size() || !libraries_[handle - 1].refs)
    return failed("dlsym: invalid handle " + std::to_string(handle));
  const Library& l = libraries_[handle - 1];
  if (exportValue(*l.instance, l.memoryBase, name, true, true, *table, value)) return {value, {}};
  return failed(l.name + ": undefined symbol " + name);
}

std::string DynamicLinker::close(abi::VMContext* caller, uint32_t handle) {
  std::string error;
  if (!mainOf(caller, error)) return error;
  if (handle == 0 || handle > libraries_.size() || !libraries_[handle - 1].refs)
    return "dlclose: invalid handle " + std::to_string(handle);
  // The last close makes the handle invalid; code and data stay (a function
  // pointer into the library stays callable), as musl's dlclose does.
  --libraries_[handle - 1].refs;
  return {};
}

std::vector<std::string> DynamicLinker::linkedNames() const {
  std::vector<std::string> names;
  for (const Library& l : libraries_)
    names.push_back(l.name);
  return names;
}

void DynamicLinker::forgetLinked() {
  libraries_.clear();
  slots_.clear();
  slotsScanned_ = false;
}

} // namespace faasm::runtime
