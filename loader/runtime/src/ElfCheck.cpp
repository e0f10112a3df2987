// ---------------------------------------------------------------------------
// SUBTLE: this is the second gate before dlopen (the seal is the first): it
// refuses every ELF shape through which the dynamic loader would run code of
// the file, or make it writable and executable, while loading it. It matters
// when the seal cannot help (a leaked key, a compiler bug) and it is written
// as an allow-list of what lld makes of faasm-codegen's objects (Backend.cpp:
// -shared, -z now, -z relro, -z noexecstack, gnu hash, nothing linked in):
//
//   program headers  PHDR, LOAD, DYNAMIC, GNU_RELRO, GNU_STACK (not
//                    executable, and present: without it glibc makes the
//                    stack executable), NOTE/GNU_PROPERTY/GNU_EH_FRAME (data);
//                    no LOAD both writable and executable
//   dynamic tags     the symbol, string and hash tables, RELA and PLT
//                    relocations, FLAGS/FLAGS_1 (no TEXTREL, no STATIC_TLS);
//                    so no NEEDED, INIT, FINI, *_ARRAY, RPATH, AUDIT, ...
//   relocations      NONE, 64, GLOB_DAT, JUMP_SLOT, RELATIVE; so no IRELATIVE
//                    (an ifunc resolver runs at load) and no TLS kinds
//   symbols          no IFUNC or TLS symbol; undefined ones only memcpy,
//                    memmove, memset (LLVM may call them; libc provides them)
//
// The descriptor is found here, in the checked symbol table, not with dlsym:
// a lookup walks the hash table, which this check would otherwise have to
// trust. Every table is reached through the image's own LOAD segments, and
// each offset and count is checked against the image before it is read.
// ---------------------------------------------------------------------------
#include "ArtefactFile.h"

#include <algorithm>
#include <cstring>
#include <elf.h>
#include <string_view>

namespace faasm::runtime::detail {
namespace {

std::string hex(uint64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr uint64_t kPageMask = 4095;

Error refused(const std::string& why) {
  return makeError("not an artefact faasm-codegen makes: " + why);
}

class Image {
public:
  explicit Image(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  // Whether [offset, offset + count * size) lies in the image (no overflow).
  bool holds(uint64_t offset, uint64_t count, uint64_t size) const {
    if (size && count > bytes_.size() / size) return false;
    return offset <= bytes_.size() && count * size <= bytes_.size() - offset;
  }
  template <typename T> T read(uint64_t offset) const {
    T out;
    std::memcpy(&out, bytes_.data() + offset, sizeof(T));
    return out;
  }

  std::vector<Elf64_Phdr> loads;
  // The file offset of [vaddr, vaddr + size) if one LOAD segment's file
  // bytes hold all of it.
  bool fileOffsetOf(uint64_t vaddr, uint64_t size, uint64_t& offset) const {
    for (const Elf64_Phdr& p : loads) {
      if (vaddr < p.p_vaddr || vaddr - p.p_vaddr > p.p_filesz ||
          size > p.p_filesz - (vaddr - p.p_vaddr))
        continue;
      offset = p.p_offset + (vaddr - p.p_vaddr);
      return holds(offset, 1, size);
    }
    return false;
  }

private:
  std::span<const uint8_t> bytes_;
};

bool knownTag(int64_t tag) {
  switch (tag) {
  case DT_NULL:
  case DT_HASH:
  case DT_GNU_HASH:
  case DT_STRTAB:
  case DT_SYMTAB:
  case DT_STRSZ:
  case DT_SYMENT:
  case DT_RELA:
  case DT_RELASZ:
  case DT_RELAENT:
  case DT_RELACOUNT:
  case DT_JMPREL:
  case DT_PLTRELSZ:
  case DT_PLTREL:
  case DT_PLTGOT:
  case DT_FLAGS:
  case DT_FLAGS_1:
  case DT_BIND_NOW: return true;
  default: return false;
  }
}

const char* forbiddenTagName(int64_t tag) {
  switch (tag) {
  case DT_NEEDED: return "it needs other shared libraries (DT_NEEDED)";
  case DT_INIT:
  case DT_INIT_ARRAY:
  case DT_PREINIT_ARRAY: return "it has initialisers, which run at load (DT_INIT/DT_INIT_ARRAY)";
  case DT_FINI:
  case DT_FINI_ARRAY: return "it has finalisers (DT_FINI/DT_FINI_ARRAY)";
  case DT_RPATH:
  case DT_RUNPATH: return "it has a library search path (DT_RPATH/DT_RUNPATH)";
  case DT_TEXTREL: return "it has text relocations";
  case DT_REL:
  case DT_RELSZ: return "it has REL relocations";
  default: return nullptr;
  }
}

} // namespace

Expected<ElfLayout> checkElfImage(std::span<const uint8_t> bytes) {
  Image img(bytes);
  if (!img.holds(0, 1, sizeof(Elf64_Ehdr))) return refused("too short for an ELF header");
  auto eh = img.read<Elf64_Ehdr>(0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return refused("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_machine != EM_X86_64 || eh.e_version != EV_CURRENT)
    return refused("not a little-endian x86-64 ELF file");
  if (eh.e_type != ET_DYN) return refused("not a shared object");
  if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
      !img.holds(eh.e_phoff, eh.e_phnum, sizeof(Elf64_Phdr)))
    return refused("bad program header table");

  bool stackSeen = false;
  Elf64_Phdr dynamic{};
  bool dynamicSeen = false;
  uint64_t memoryBytes = 0;
  ElfLayout layout;
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    auto p = img.read<Elf64_Phdr>(eh.e_phoff + i * sizeof(Elf64_Phdr));
    switch (p.p_type) {
    case PT_LOAD:
      if ((p.p_flags & PF_W) && (p.p_flags & PF_X))
        return refused("a segment is writable and executable");
      if (p.p_filesz > p.p_memsz || !img.holds(p.p_offset, 1, p.p_filesz) ||
          p.p_memsz > detail::kMaxArtefactBytes || p.p_vaddr > (1ull << 46))
        return refused("a segment lies outside the file or is too large");
      // In ascending order, no two sharing a page: the loader maps them in
      // order, so an overlap would replace bytes this check has read.
      if (!img.loads.empty() &&
          (p.p_vaddr & ~kPageMask) <
              ((img.loads.back().p_vaddr + img.loads.back().p_memsz + kPageMask) & ~kPageMask))
        return refused("its segments overlap or are out of order");
      memoryBytes += p.p_memsz;
      if (memoryBytes > detail::kMaxArtefactBytes) return refused("its segments are too large");
      img.loads.push_back(p);
      if (p.p_flags & PF_X) layout.code.push_back({p.p_vaddr, p.p_memsz});
      layout.loaded.push_back({p.p_vaddr, p.p_memsz});
      break;
    case PT_DYNAMIC:
      if (dynamicSeen) return refused("two dynamic segments");
      dynamic = p;
      dynamicSeen = true;
      break;
    case PT_GNU_STACK:
      if (p.p_flags & PF_X) return refused("it asks for an executable stack");
      stackSeen = true;
      break;
    case PT_INTERP: return refused("it names a program interpreter");
    case PT_TLS: return refused("it has thread-local storage");
    case PT_NULL:
    case PT_PHDR:
    case PT_NOTE:
    case PT_GNU_RELRO:
    case PT_GNU_EH_FRAME:
    case PT_GNU_PROPERTY: break;
    default: return refused("unexpected program header type " + hex(p.p_type));
    }
  }
  if (!stackSeen) return refused("no PT_GNU_STACK: the loader would make the stack executable");
  // The loader reads the dynamic section where it is mapped (p_vaddr), so
  // this does too.
  uint64_t dynamicOff = 0;
  if (!dynamicSeen || dynamic.p_filesz % sizeof(Elf64_Dyn) != 0 ||
      !img.fileOffsetOf(dynamic.p_vaddr, dynamic.p_filesz, dynamicOff))
    return refused("no usable dynamic section");

  // The dynamic section, as the loader reads it: up to DT_NULL.
  uint64_t symtab = 0, strtab = 0, strsz = 0, gnuHash = 0, rela = 0, relasz = 0, jmprel = 0,
           pltrelsz = 0;
  bool nullSeen = false;
  for (uint64_t off = dynamicOff; off < dynamicOff + dynamic.p_filesz; off += sizeof(Elf64_Dyn)) {
    auto d = img.read<Elf64_Dyn>(off);
    if (d.d_tag == DT_NULL) {
      nullSeen = true;
      break;
    }
    if (const char* why = forbiddenTagName(d.d_tag)) return refused(why);
    if (!knownTag(d.d_tag)) return refused("unexpected dynamic tag " + hex(uint64_t(d.d_tag)));
    uint64_t v = d.d_un.d_val;
    switch (d.d_tag) {
    case DT_SYMTAB: symtab = v; break;
    case DT_STRTAB: strtab = v; break;
    case DT_STRSZ: strsz = v; break;
    case DT_GNU_HASH: gnuHash = v; break;
    case DT_RELA: rela = v; break;
    case DT_RELASZ: relasz = v; break;
    case DT_JMPREL: jmprel = v; break;
    case DT_PLTRELSZ: pltrelsz = v; break;
    case DT_SYMENT:
      if (v != sizeof(Elf64_Sym)) return refused("bad symbol entry size");
      break;
    case DT_RELAENT:
      if (v != sizeof(Elf64_Rela)) return refused("bad relocation entry size");
      break;
    case DT_PLTREL:
      if (v != DT_RELA) return refused("PLT relocations are not RELA");
      break;
    case DT_FLAGS:
      if (v & ~uint64_t(DF_BIND_NOW)) return refused("dynamic flags " + hex(v));
      break;
    case DT_FLAGS_1:
      if (v & ~uint64_t(DF_1_NOW)) return refused("dynamic flags_1 " + hex(v));
      break;
    default: break;
    }
  }
  if (!nullSeen) return refused("the dynamic section does not end");

  uint64_t strOff = 0, symOff = 0;
  if (!strsz || !img.fileOffsetOf(strtab, strsz, strOff)) return refused("no usable string table");
  if (!img.fileOffsetOf(symtab, sizeof(Elf64_Sym), symOff)) return refused("no symbol table");
  // The number of symbols: what the GNU hash table reaches (every symbol a
  // lookup can find), and at least every index a relocation names (checked
  // against this below). Its layout: nbuckets, symoffset, bloom size, bloom
  // shift, the bloom words, the buckets, then one chain word per hashed
  // symbol, the last of each chain with bit 0 set.
  uint64_t hashOff = 0;
  if (!gnuHash || !img.fileOffsetOf(gnuHash, 16, hashOff)) return refused("no GNU hash table");
  uint32_t nbuckets = img.read<uint32_t>(hashOff), symoffset = img.read<uint32_t>(hashOff + 4),
           bloomWords = img.read<uint32_t>(hashOff + 8);
  uint64_t bucketsAt = hashOff + 16 + uint64_t(bloomWords) * 8;
  if (!img.holds(bucketsAt, nbuckets, 4)) return refused("bad GNU hash table");
  uint64_t symbolCount = symoffset;
  for (uint32_t b = 0; b < nbuckets; ++b) {
    uint32_t first = img.read<uint32_t>(bucketsAt + 4ull * b);
    if (first == 0) continue;
    if (first < symoffset) return refused("bad GNU hash table");
    uint64_t chainAt = bucketsAt + 4ull * nbuckets + 4ull * (first - symoffset);
    for (uint64_t s = first;; ++s, chainAt += 4) {
      if (!img.holds(chainAt, 1, 4) || s > (1u << 24)) return refused("bad GNU hash table");
      symbolCount = std::max(symbolCount, s + 1);
      if (img.read<uint32_t>(chainAt) & 1) break;
    }
  }
  if (!symbolCount || !img.holds(symOff, symbolCount, sizeof(Elf64_Sym)) ||
      !img.fileOffsetOf(symtab, symbolCount * sizeof(Elf64_Sym), symOff))
    return refused("the symbol table lies outside the file");

  bool descriptorSeen = false;
  for (uint64_t i = 1; i < symbolCount; ++i) {
    auto s = img.read<Elf64_Sym>(symOff + i * sizeof(Elf64_Sym));
    if (s.st_name >= strsz) return refused("a symbol name lies outside the string table");
    const char* nameStart = reinterpret_cast<const char*>(bytes.data() + strOff + s.st_name);
    std::string_view name(nameStart, strnlen(nameStart, strsz - s.st_name));
    if (name.size() == strsz - s.st_name) return refused("a symbol name does not end");
    unsigned type = ELF64_ST_TYPE(s.st_info);
    if (type == STT_GNU_IFUNC)
      return refused("it has an IFUNC symbol, whose resolver runs at load");
    if (type == STT_TLS) return refused("it has thread-local storage");
    if (s.st_shndx == SHN_UNDEF) {
      if (name.empty()) continue;
      if (name != "memcpy" && name != "memmove" && name != "memset")
        return refused("it imports \"" + std::string(name) + "\" from the host");
      continue;
    }
    if (name == abi::kDescriptorSymbol) {
      uint64_t off = 0;
      if (type != STT_OBJECT || s.st_shndx == SHN_ABS ||
          !img.fileOffsetOf(s.st_value, sizeof(abi::ModuleDescriptor), off))
        return refused("its descriptor symbol is not a data object in the file");
      layout.descriptorAddress = s.st_value;
      descriptorSeen = true;
    }
  }

  for (auto [at, size] : {std::pair{rela, relasz}, std::pair{jmprel, pltrelsz}}) {
    if (!size) continue;
    uint64_t off = 0;
    if (size % sizeof(Elf64_Rela) != 0 || !img.fileOffsetOf(at, size, off))
      return refused("relocations lie outside the file");
    for (uint64_t r = 0; r < size / sizeof(Elf64_Rela); ++r) {
      auto rel = img.read<Elf64_Rela>(off + r * sizeof(Elf64_Rela));
      uint64_t type = ELF64_R_TYPE(rel.r_info), sym = ELF64_R_SYM(rel.r_info);
      switch (type) {
      case R_X86_64_NONE:
      case R_X86_64_64:
      case R_X86_64_GLOB_DAT:
      case R_X86_64_JUMP_SLOT:
      case R_X86_64_RELATIVE: break;
      case R_X86_64_IRELATIVE:
        return refused("it has an IRELATIVE relocation, whose resolver runs at load");
      default: return refused("unexpected relocation type " + std::to_string(type));
      }
      if (sym >= symbolCount) return refused("a relocation names a symbol outside the table");
    }
  }
  if (!descriptorSeen) return makeError("not a faasm artefact (no faasm_module_descriptor symbol)");
  return layout;
}

} // namespace faasm::runtime::detail
