#include "faasm/runtime/Module.h"

#include "faasm/runtime/TypeRegistry.h"

#include "ArtefactFile.h"
#include "RuntimePrivate.h"

#include <algorithm>
#include <cerrno>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

namespace faasm::runtime {
namespace {

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// dlerror() prefixes its text with the path; the tool names the file itself.
std::string dlerrorWithoutPath(const std::string& path) {
  const char* e = dlerror();
  std::string text = e ? e : "unknown dlopen error";
  std::string prefix = path + ": ";
  if (text.rfind(prefix, 0) == 0) text = text.substr(prefix.size());
  return text;
}

} // namespace

namespace {

// The features this CPU has and the kernel has enabled, from CPUID itself.
// Not __builtin_cpu_supports: its feature names and its table differ
// between compilers (clang-19 does not know "cmpxchg16b" and answers 0, so
// a runtime built with clang refused every artefact of the baseline).
uint64_t hostCpuFeatures() {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  uint64_t have = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  auto bit = [](unsigned reg, unsigned n) { return (reg >> n) & 1; };
  if (bit(c, 0)) have |= abi::kCpuSse3;
  if (bit(c, 9)) have |= abi::kCpuSsse3;
  if (bit(c, 13)) have |= abi::kCpuCx16;
  if (bit(c, 19)) have |= abi::kCpuSse41;
  if (bit(c, 20)) have |= abi::kCpuSse42;
  if (bit(c, 23)) have |= abi::kCpuPopcnt;
  // AVX registers are usable only if the OS saves them (OSXSAVE, XCR0 SSE|AVX).
  bool ymm = false;
  if (bit(c, 27)) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    ymm = (lo & 6) == 6;
  }
  if (ymm && bit(c, 28)) have |= abi::kCpuAvx;
  if (ymm && bit(c, 12)) have |= abi::kCpuFma;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (bit(b, 3)) have |= abi::kCpuBmi1;
    if (ymm && bit(b, 5)) have |= abi::kCpuAvx2;
    if (bit(b, 8)) have |= abi::kCpuBmi2;
  }
  if (__get_cpuid(0x80000001, &a, &b, &c, &d) && bit(c, 5)) have |= abi::kCpuLzcnt;
  return have;
#else
  return 0;
#endif
}

} // namespace

std::string missingCpuFeatures(uint64_t features) {
  struct Feature {
    uint64_t bit;
    const char* name;
  };
  static const uint64_t have = hostCpuFeatures();
  const Feature known[] = {
      {abi::kCpuSse3, "sse3"},    {abi::kCpuSsse3, "ssse3"},   {abi::kCpuSse41, "sse4.1"},
      {abi::kCpuSse42, "sse4.2"}, {abi::kCpuPopcnt, "popcnt"}, {abi::kCpuAvx, "avx"},
      {abi::kCpuAvx2, "avx2"},    {abi::kCpuBmi1, "bmi"},      {abi::kCpuBmi2, "bmi2"},
      {abi::kCpuLzcnt, "lzcnt"},  {abi::kCpuFma, "fma"},       {abi::kCpuCx16, "cx16"},
  };
  std::string missing;
  uint64_t knownBits = 0;
  auto append = [&](const std::string& name) {
    if (!missing.empty()) missing += ", ";
    missing += name;
  };
  for (const Feature& f : known) {
    knownBits |= f.bit;
    if ((features & f.bit) && !(have & f.bit)) append(f.name);
  }
  for (unsigned bit = 0; bit < 64; ++bit) {
    uint64_t b = 1ull << bit;
    if ((features & b) && !(knownBits & b)) append("unknown feature bit " + std::to_string(bit));
  }
  return missing;
}

Expected<ArtefactIdentity> checkArtefact(const std::string& path) {
  auto sealed = detail::readSealedArtefact(path);
  if (!sealed) return sealed.error();
  auto layout = detail::checkElfImage(sealed.value()->image());
  if (!layout) return layout.error();
  return ArtefactIdentity{sealed.value()->imageDigest(), sealed.value()->sourceDigest()};
}

Expected<std::shared_ptr<Module>> Module::load(const std::string& path) {
  // Nothing of the file runs, and the dynamic loader does not see it, until
  // its seal and shape have been checked (ArtefactSeal.cpp, ElfCheck.cpp).
  auto sealed = detail::readSealedArtefact(path);
  if (!sealed) return sealed.error();
  detail::SealedImage& image = *sealed.value();
  auto layout = detail::checkElfImage(image.image());
  if (!layout) return layout.error();

  // The checked bytes, and only they, are what dlopen maps: the sealed
  // memfd, which neither the file's writers nor its holders can change.
  // dlopen looks a name up among the objects it has loaded before it opens
  // anything: the memfd stays open while the module lives, so that no other
  // load can get its descriptor number, and so its name, meanwhile. A name
  // already taken (an object dlclose did not unload) is refused, never
  // shared: that would be another artefact's code under this one's seal.
  std::shared_ptr<Module> module(new Module);
  module->imageDigest_ = image.imageDigest();
  module->sourceDigest_ = image.sourceDigest();
  module->imageFd_ = image.releaseFd();
  std::string openPath = "/proc/self/fd/" + std::to_string(module->imageFd_);
  if (void* stale = dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD)) {
    dlclose(stale);
    return makeError("cannot load: another object is loaded as " + openPath);
  }
  void* handle = dlopen(openPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return makeError("cannot load: " + dlerrorWithoutPath(openPath));
  module->handle_ = handle;
  module->path_ = path;
  module->sealed_ = true;
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map)
    return makeError("cannot load: the dynamic loader does not say where it mapped the module");
  uintptr_t bias = map->l_addr;
  for (const detail::ElfLayout::Segment& s : layout.value().loaded)
    module->imageRanges_.push_back({bias + s.vaddr, s.size});
  for (const detail::ElfLayout::Segment& s : layout.value().code)
    if (!module->addCodeRange(bias + s.vaddr, s.size))
      return makeError("cannot load: too many modules in this process");
  module->desc_ =
      reinterpret_cast<const abi::ModuleDescriptor*>(bias + layout.value().descriptorAddress);
  return check(std::move(module));
}

Expected<std::shared_ptr<Module>> Module::fromDescriptor(const abi::ModuleDescriptor* descriptor,
                                                         std::string name) {
  std::shared_ptr<Module> module(new Module);
  module->desc_ = descriptor;
  module->path_ = std::move(name);
  // Its code is that of the object (the executable or a library someone
  // else loaded) the descriptor lies in.
  struct Search {
    uintptr_t address;
    Module* module;
  } search{reinterpret_cast<uintptr_t>(descriptor), module.get()};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) -> int {
        auto* s = static_cast<Search*>(data);
        bool inside = false;
        for (unsigned i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& p = info->dlpi_phdr[i];
          uintptr_t start = info->dlpi_addr + p.p_vaddr;
          if (p.p_type == PT_LOAD && s->address >= start && s->address - start < p.p_memsz)
            inside = true;
        }
        if (!inside) return 0;
        for (unsigned i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& p = info->dlpi_phdr[i];
          if (p.p_type == PT_LOAD && (p.p_flags & PF_X))
            (void)s->module->addCodeRange(info->dlpi_addr + p.p_vaddr, p.p_memsz);
        }
        return 1;
      },
      &search);
  return check(std::move(module));
}

bool Module::addCodeRange(uintptr_t start, uint64_t bytes) {
  int slot = detail::registerCodeRange(start, bytes);
  if (slot < 0) return false;
  codeRanges_.push_back({start, bytes});
  codeRangeSlots_.push_back(slot);
  return true;
}

bool Module::inImage(const void* address, uint64_t bytes) const {
  if (imageRanges_.empty()) return true; // fromDescriptor: its maker vouches for it
  auto a = reinterpret_cast<uintptr_t>(address);
  for (const auto& [start, size] : imageRanges_)
    if (a >= start && bytes <= size && a - start <= size - bytes) return true;
  return false;
}

namespace {

std::mutex gModulesMutex;
// Live modules, for containing(): a raw key to remove on destruction and a
// weak reference to hand out.
std::vector<std::pair<const Module*, std::weak_ptr<const Module>>> gModules;

} // namespace

// Everything locate() and functionName() will read, in bounds and
// consistent: the arrays inside the image, each function's code inside the
// module's code, locations in order inside it, sites naming earlier sites.
std::string Module::checkCodeMap() const {
  const abi::ModuleDescriptor& d = *desc_;
  for (uint64_t i = 0; i < d.functions.count; ++i) {
    const char* name = d.functions[i].name;
    if (!name) continue;
    auto a = reinterpret_cast<uintptr_t>(name);
    bool terminated = false;
    for (const auto& [start, size] : imageRanges_)
      if (a >= start && a - start < size)
        terminated = std::memchr(name, 0, size - (a - start)) != nullptr;
    if (!imageRanges_.empty() && !terminated)
      return "the name of function " + std::to_string(i) + " lies outside the module";
  }
  for (uint64_t i = 0; i < d.exports.count; ++i)
    if (!inImage(d.exports[i].name.chars, d.exports[i].name.length))
      return "the name of export " + std::to_string(i) + " lies outside the module";
  const abi::CodeMap* map = d.codeMap;
  if (!map) return {};
  if (!inImage(map, sizeof *map)) return "its code map lies outside the module";
  auto arrayInImage = [&](const auto& array) {
    using Item = std::remove_cvref_t<decltype(array[0])>;
    return array.count == 0 ||
           (array.count <= (1ull << 32) && inImage(array.items, array.count * sizeof(Item)));
  };
  if (!arrayInImage(map->functions) || !arrayInImage(map->locations) || !arrayInImage(map->sites))
    return "an array of its code map lies outside the module";
  if (map->functions.count != d.functions.count)
    return "its code map has " + std::to_string(map->functions.count) + " functions for " +
           std::to_string(d.functions.count);
  uint32_t previousEnd = 0;
  for (uint64_t i = 0; i < map->functions.count; ++i) {
    const abi::FunctionCode& f = map->functions[i];
    auto code = reinterpret_cast<uintptr_t>(d.functions[i].code);
    auto what = [&](const char* problem) {
      return "code map of function " + std::to_string(i) + ": " + problem;
    };
    bool codeInside = false;
    for (const auto& [start, bytes] : codeRanges_)
      codeInside |= code >= start && f.codeBytes <= bytes && code - start <= bytes - f.codeBytes;
    if (!codeInside) return what("its code lies outside the module's code");
    if (uint64_t(f.firstLocation) + f.locationCount > map->locations.count)
      return what("its locations lie outside the table");
    for (uint32_t j = 0; j < f.locationCount; ++j) {
      const abi::CodeLocation& l = map->locations[f.firstLocation + j];
      if ((j > 0 && l.nativeOffset <= map->locations[f.firstLocation + j - 1].nativeOffset) ||
          (l.nativeOffset >= f.codeBytes && f.codeBytes > 0))
        return what("its locations are out of order or outside its code");
      if (l.site != abi::kNoSite && l.site >= map->sites.count)
        return what("a location names no site");
    }
    if (f.bodyOffset > f.bodyEnd || f.bodyOffset < previousEnd)
      return what("its body's range is out of order");
    previousEnd = f.bodyEnd;
  }
  for (uint64_t i = 0; i < map->sites.count; ++i)
    if (map->sites[i].inlinedAt != abi::kNoSite && map->sites[i].inlinedAt >= i)
      return "code map: site " + std::to_string(i) + " is inlined at a later site";
  return {};
}

std::vector<Module::WasmFrame> Module::locate(uintptr_t pc, uint32_t siteArgument) const {
  const abi::CodeMap* map = desc_->codeMap;
  if (!map) return {};
  std::call_once(byAddressOnce_, [this, map] {
    for (uint32_t i = 0; i < map->functions.count; ++i)
      if (map->functions[i].codeBytes)
        byAddress_.push_back({reinterpret_cast<uintptr_t>(desc_->functions[i].code), i});
    std::sort(byAddress_.begin(), byAddress_.end());
  });
  auto after =
      std::upper_bound(byAddress_.begin(), byAddress_.end(), std::make_pair(pc, UINT32_MAX));
  if (after == byAddress_.begin()) return {};
  auto [start, defined] = *std::prev(after);
  const abi::FunctionCode& f = map->functions[defined];
  if (pc - start >= f.codeBytes) return {};
  const uint32_t physical = importedFuncs_ + defined;
  auto offset = uint32_t(pc - start);
  const abi::CodeLocation* first = &map->locations[f.firstLocation];
  const abi::CodeLocation* last = first + f.locationCount;
  const abi::CodeLocation* at =
      std::upper_bound(first, last, offset,
                       [](uint32_t o, const abi::CodeLocation& l) { return o < l.nativeOffset; });
  uint32_t site = at == first ? abi::kNoSite : std::prev(at)->site;
  if (siteArgument != 0 && siteArgument - 1 < map->sites.count) site = siteArgument - 1;
  // Which function an instruction belongs to: the one whose body holds it.
  auto functionAt = [&](uint32_t wasmOffset) -> uint32_t {
    const abi::FunctionCode* begin = &map->functions[0];
    const abi::FunctionCode* end = begin + map->functions.count;
    const abi::FunctionCode* f =
        std::upper_bound(begin, end, wasmOffset,
                         [](uint32_t o, const abi::FunctionCode& fc) { return o < fc.bodyOffset; });
    if (f == begin || wasmOffset >= std::prev(f)->bodyEnd) return UINT32_MAX;
    return importedFuncs_ + uint32_t(std::prev(f) - begin);
  };
  std::vector<WasmFrame> frames;
  for (uint32_t s = site; s != abi::kNoSite; s = map->sites[s].inlinedAt) {
    uint32_t wasmOffset = map->sites[s].wasmOffset;
    uint32_t function = functionAt(wasmOffset);
    if (function == UINT32_MAX) break;
    // A function's body start: somewhere in it (abi::CodeSite).
    if (map->functions[function - importedFuncs_].bodyOffset == wasmOffset) wasmOffset = 0;
    frames.push_back({function, wasmOffset});
  }
  // The outermost frame is the function the code belongs to.
  if (frames.empty() || frames.back().funcIndex != physical) frames.push_back({physical, 0});
  return frames;
}

std::string Module::functionName(uint32_t funcIndex) const {
  if (funcIndex < importedFuncs_ || funcIndex - importedFuncs_ >= desc_->functions.count) return {};
  if (const char* name = desc_->functions[funcIndex - importedFuncs_].name)
    return name[0] == '$' ? name + 1 : name;
  // No name in the name section: the name it is exported under, if any.
  for (const abi::ExportDesc& e : desc_->exports)
    if (e.kind == uint8_t(abi::ExternKind::Func) && e.index == funcIndex)
      return std::string(e.name.view());
  return {};
}

std::shared_ptr<const Module> Module::containing(uintptr_t pc) {
  std::lock_guard lock(gModulesMutex);
  for (const auto& [raw, weak] : gModules)
    if (std::shared_ptr<const Module> m = weak.lock(); m && m->inCode(reinterpret_cast<void*>(pc)))
      return m;
  return nullptr;
}

bool Module::inCode(const void* address) const {
  auto a = reinterpret_cast<uintptr_t>(address);
  for (const auto& [start, bytes] : codeRanges_)
    if (a >= start && a - start < bytes) return true;
  return false;
}

// Order matters: only the version-independent leading fields are read until
// the ABI version is known to match; the CPU check precedes any use of code.
Expected<std::shared_ptr<Module>> Module::check(std::shared_ptr<Module> module) {
  const abi::ModuleDescriptor& d = *module->desc_;
  if (d.magic != abi::kMagic)
    return makeError("not a faasm artefact (bad descriptor magic " + hex(d.magic) + ")");
  if (d.abiVersion != abi::kAbiVersion) {
    std::string ver = d.compilerVersion ? d.compilerVersion : "(unknown version)";
    return makeError("built by faasm-codegen " + ver + " for ABI " + std::to_string(d.abiVersion) +
                     ", this runtime needs ABI " + std::to_string(abi::kAbiVersion) +
                     ": recompile the module with this faasm-codegen");
  }
  if (d.boundsMode != uint32_t(abi::BoundsMode::Guard) &&
      d.boundsMode != uint32_t(abi::BoundsMode::Explicit))
    return makeError("unknown bounds mode " + std::to_string(d.boundsMode) +
                     ": recompile the module with this faasm-codegen");
  std::string missing = missingCpuFeatures(d.cpuFeatures);
  if (!missing.empty())
    return makeError("needs CPU features this host lacks (" + missing +
                     "): recompile without --cpu=native");

  // Internal consistency: a bad descriptor must fail here, not crash later.
  auto malformed = [](const std::string& what) {
    return makeError("malformed module descriptor: " + what);
  };
  std::string_view params, results;
  for (uint64_t i = 0; i < d.types.count; ++i) {
    const char* sig = d.types[i].signature;
    if (!sig || !parseSignature(sig, params, results))
      return malformed("bad signature of type " + std::to_string(i));
    if (!d.types[i].thunk || !module->inCode(reinterpret_cast<const void*>(d.types[i].thunk)))
      return malformed("type " + std::to_string(i) + " has no thunk in the module's code");
    module->typeIds_.push_back(internSignature(sig));
  }
  for (uint64_t i = 0; i < d.imports.count; ++i) {
    const abi::ImportDesc& imp = d.imports[i];
    if (!imp.module.chars || !imp.name.chars)
      return malformed("import " + std::to_string(i) + " unnamed");
    switch (abi::ExternKind(imp.kind)) {
    case abi::ExternKind::Func:
      if (imp.typeIndex >= d.types.count)
        return malformed("import " + std::to_string(i) + " has a bad type index");
      module->funcTypeIndex_.push_back(imp.typeIndex);
      ++module->importedFuncs_;
      break;
    case abi::ExternKind::Table: ++module->importedTables_; break;
    case abi::ExternKind::Memory: ++module->importedMemories_; break;
    case abi::ExternKind::Global: ++module->importedGlobals_; break;
    default: return malformed("import " + std::to_string(i) + " has a bad kind");
    }
  }
  for (uint64_t i = 0; i < d.functions.count; ++i) {
    if (d.functions[i].typeIndex >= d.types.count || !module->inCode(d.functions[i].code))
      return malformed("function " + std::to_string(i) +
                       " has a bad type or no code in the module's code");
    module->funcTypeIndex_.push_back(d.functions[i].typeIndex);
  }
  if (module->importedMemories_ + d.memories.count > 1) return malformed("more than one memory");
  uint64_t nFuncs = module->funcTypeIndex_.size();
  uint64_t nTables = module->importedTables_ + d.tables.count;
  uint64_t nGlobals = module->importedGlobals_ + d.globals.count;
  uint64_t nMemories = module->importedMemories_ + d.memories.count;
  for (uint64_t i = 0; i < d.exports.count; ++i) {
    const abi::ExportDesc& e = d.exports[i];
    uint64_t limit = 0;
    switch (abi::ExternKind(e.kind)) {
    case abi::ExternKind::Func: limit = nFuncs; break;
    case abi::ExternKind::Table: limit = nTables; break;
    case abi::ExternKind::Memory: limit = nMemories; break;
    case abi::ExternKind::Global: limit = nGlobals; break;
    default: break;
    }
    if (!e.name.chars || e.index >= limit)
      return malformed("export " + std::to_string(i) + " is bad");
  }
  for (uint64_t i = 0; i < d.dataSegments.count; ++i) {
    const abi::DataSegmentDesc& s = d.dataSegments[i];
    if (s.mode == uint8_t(abi::SegmentMode::Active) && s.memoryIndex >= nMemories)
      return malformed("data segment " + std::to_string(i) + " names no memory");
    if (s.size && !s.bytes) return malformed("data segment " + std::to_string(i) + " no bytes");
  }
  for (uint64_t i = 0; i < d.elemSegments.count; ++i) {
    const abi::ElemSegmentDesc& s = d.elemSegments[i];
    if (s.mode == uint8_t(abi::SegmentMode::Active) && s.tableIndex >= nTables)
      return malformed("element segment " + std::to_string(i) + " names no table");
    if (s.count && !s.items) return malformed("element segment " + std::to_string(i) + " no items");
  }
  if (d.startFunction >= 0 && uint64_t(d.startFunction) >= nFuncs)
    return malformed("start function out of range");

  if (std::string problem = module->checkCodeMap(); !problem.empty()) return malformed(problem);

  for (uint64_t i = 0; i < d.types.count; ++i)
    offerThunk(module->typeIds_[i], d.types[i].thunk, module.get());
  {
    std::lock_guard lock(gModulesMutex);
    gModules.push_back({module.get(), module});
    module->registered_ = true;
  }
  return module;
}

Module::~Module() {
  if (registered_) {
    std::lock_guard lock(gModulesMutex);
    std::erase_if(gModules, [this](const auto& entry) { return entry.first == this; });
  }
  withdrawThunks(this);
  for (int slot : codeRangeSlots_)
    detail::unregisterCodeRange(slot);
  if (handle_) dlclose(handle_);
  if (imageFd_ >= 0) ::close(imageFd_);
}

abi::ThunkFn Module::thunkFor(uint32_t canonicalTypeId) const {
  for (size_t i = 0; i < typeIds_.size(); ++i)
    if (typeIds_[i] == canonicalTypeId) return desc_->types[i].thunk;
  return nullptr;
}

const char* Module::functionSignature(uint32_t funcIndex) const {
  if (funcIndex >= funcTypeIndex_.size()) return nullptr;
  return desc_->types[funcTypeIndex_[funcIndex]].signature;
}

} // namespace faasm::runtime
