// Capturing, applying and (de)serialising Proto-Faaslet snapshots. The file
// format is described in docs/Faaslets.md.
#include "faasm/faaslet/Faaslet.h"

#include "Protocol.h"

#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Objects.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace faasm::faaslet {
namespace {

constexpr char kFileMagic[8] = {'F', 'A', 'A', 'S', 'M', 'S', 'N', 'P'};
constexpr uint32_t kFileVersion = 1;
constexpr uint64_t kFileAlign = 65536; // memory bytes start on a wasm page boundary

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t abiVersion;
  uint64_t memoryPages;
  uint64_t memoryOffset;
  uint64_t globalCount;
  uint64_t tableCount;
  uint64_t identityLength; // then the identity string, globals, tables
};
static_assert(sizeof(FileHeader) == 56);

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Which artefact a snapshot belongs to: the same source compiled by the same
// compiler with the same shape. A different build of it is refused.
std::string identityOf(const runtime::Module& module) {
  const abi::ModuleDescriptor& d = module.descriptor();
  return std::string(d.sourceName ? d.sourceName : "") + "|" +
         (d.compilerVersion ? d.compilerVersion : "") + "|f" + std::to_string(d.functions.count) +
         "|g" + std::to_string(d.globals.count) + "|b" + std::to_string(d.boundsMode);
}

bool writeAll(int fd, const void* data, size_t size) {
  return protocol::transferAll(
      fd, static_cast<const uint8_t*>(data), size,
      [](int f, const uint8_t* p, uint64_t n) { return ::write(f, p, n); });
}

bool readAll(int fd, void* data, size_t size) {
  return protocol::transferAll(fd, static_cast<uint8_t*>(data), size,
                               [](int f, uint8_t* p, uint64_t n) { return ::read(f, p, n); });
}

// Writes memory pages to fd at `offset`, leaving all-zero 4 KiB blocks as
// holes (the file reads as zero there): a 256 MiB memory that is mostly
// empty costs what it holds.
bool writeMemory(int fd, uint64_t offset, const uint8_t* base, uint64_t bytes) {
  if (ftruncate(fd, off_t(offset + bytes)) != 0) return false;
  constexpr uint64_t kBlock = 4096;
  static const uint8_t zeros[kBlock] = {};
  uint64_t runStart = 0;
  bool inRun = false;
  for (uint64_t at = 0; at <= bytes; at += kBlock) {
    bool zero = at == bytes || std::memcmp(base + at, zeros, kBlock) == 0;
    if (!zero && !inRun) {
      runStart = at;
      inRun = true;
    } else if (zero && inRun) {
      if (pwrite(fd, base + runStart, at - runStart, off_t(offset + runStart)) !=
          ssize_t(at - runStart)) {
        // Fall back to a loop for short writes.
        for (uint64_t done = 0; done < at - runStart;) {
          ssize_t n = pwrite(fd, base + runStart + done, at - runStart - done,
                             off_t(offset + runStart + done));
          if (n <= 0) return false;
          done += uint64_t(n);
        }
      }
      inRun = false;
    }
  }
  return true;
}

std::unordered_map<const void*, uint32_t> functionIndices(runtime::Instance& instance) {
  std::unordered_map<const void*, uint32_t> map;
  for (uint32_t i = 0; i < instance.functionCount(); ++i)
    map.emplace(instance.function(i), i);
  return map;
}

} // namespace

Snapshot::~Snapshot() {
  if (memoryFd >= 0) ::close(memoryFd);
}

runtime::Expected<std::shared_ptr<Snapshot>> captureSnapshot(runtime::Instance& instance) {
  auto snap = std::make_shared<Snapshot>();
  runtime::Memory* memory = instance.memory();
  snap->memoryPages = memory ? memory->pages() : 0;
  snap->memoryFd = memfd_create("faasm-snapshot", MFD_CLOEXEC);
  if (snap->memoryFd < 0) return runtime::makeError(errnoText("cannot create snapshot memfd"));
  if (memory && !writeMemory(snap->memoryFd, 0, memory->base(), memory->sizeBytes()))
    return runtime::makeError(errnoText("cannot write snapshot memory"));

  for (uint32_t i = 0; runtime::GlobalObject* g = instance.global(i); ++i)
    snap->globals.push_back(*g->cell());

  auto indices = functionIndices(instance);
  for (uint32_t t = 0; runtime::TableObject* table = instance.table(t); ++t) {
    std::vector<uint32_t> elems(table->size(), Snapshot::kNullElement);
    for (uint32_t i = 0; i < table->size(); ++i) {
      void* e = table->get(i);
      if (!e) continue;
      auto it = indices.find(e);
      if (table->elemType() != abi::ValType::FuncRef || it == indices.end())
        return runtime::makeError("cannot snapshot table " + std::to_string(t) +
                                  ": it holds a reference from outside the instance");
      elems[i] = it->second;
    }
    snap->tables.push_back(std::move(elems));
  }
  return snap;
}

namespace {
runtime::Error restoreGlobalsAndTables(runtime::Instance& instance, const Snapshot& snap) {
  for (uint32_t i = 0; i < snap.globals.size(); ++i) {
    runtime::GlobalObject* g = instance.global(i);
    if (!g) return runtime::makeError("snapshot has more globals than the instance");
    *g->cell() = snap.globals[i];
  }
  for (uint32_t t = 0; t < snap.tables.size(); ++t) {
    runtime::TableObject* table = instance.table(t);
    if (!table) return runtime::makeError("snapshot has more tables than the instance");
    const std::vector<uint32_t>& elems = snap.tables[t];
    if (table->size() < elems.size() && table->grow(elems.size() - table->size(), nullptr) < 0)
      return runtime::makeError("cannot grow table " + std::to_string(t) + " to the snapshot");
    // A table grown by the call keeps its storage but reads as the snapshot's size.
    table->abiTable()->size = uint32_t(elems.size());
    for (uint32_t i = 0; i < elems.size(); ++i) {
      const void* f = elems[i] == Snapshot::kNullElement ? nullptr : instance.function(elems[i]);
      if (elems[i] != Snapshot::kNullElement && !f)
        return runtime::makeError("snapshot table refers to a function the instance lacks");
      table->set(i, const_cast<void*>(f));
    }
  }
  return {};
}
} // namespace

runtime::Error applySnapshot(runtime::Instance& instance, const Snapshot& snap) {
  runtime::Memory* memory = instance.memory();
  if (memory) {
    if (!memory->mapSnapshot(snap.memoryFd, snap.memoryOffset, snap.memoryPages))
      return runtime::makeError(errnoText("cannot map the snapshot's memory"));
  } else if (snap.memoryPages) {
    return runtime::makeError("snapshot has a memory, the instance has none");
  }
  return restoreGlobalsAndTables(instance, snap);
}

runtime::Error resetToSnapshot(runtime::Instance& instance, const Snapshot& snap) {
  if (runtime::Memory* memory = instance.memory(); memory && !memory->resetToSnapshot())
    return runtime::makeError(errnoText("cannot reset memory to the snapshot"));
  return restoreGlobalsAndTables(instance, snap);
}

runtime::Error writeSnapshotFile(const Snapshot& snap, const runtime::Module& module,
                                 const std::string& path) {
  std::string identity = identityOf(module);
  FileHeader h{};
  std::memcpy(h.magic, kFileMagic, 8);
  h.version = kFileVersion;
  h.abiVersion = abi::kAbiVersion;
  h.memoryPages = snap.memoryPages;
  h.globalCount = snap.globals.size();
  h.tableCount = snap.tables.size();
  h.identityLength = identity.size();

  std::vector<uint8_t> meta;
  auto put = [&](const void* p, size_t n) {
    meta.insert(meta.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
  };
  put(identity.data(), identity.size());
  put(snap.globals.data(), snap.globals.size() * sizeof(abi::Value));
  for (const auto& t : snap.tables) {
    uint64_t n = t.size();
    put(&n, sizeof n);
    put(t.data(), t.size() * sizeof(uint32_t));
  }
  uint64_t metaEnd = sizeof(FileHeader) + meta.size();
  h.memoryOffset = (metaEnd + kFileAlign - 1) / kFileAlign * kFileAlign;

  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return runtime::makeError(errnoText("cannot create " + path));
  bool ok = writeAll(fd, &h, sizeof h) && writeAll(fd, meta.data(), meta.size());
  uint64_t bytes = snap.memoryPages * abi::kWasmPageSize;
  if (ok && bytes) {
    void* src =
        mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, snap.memoryFd, off_t(snap.memoryOffset));
    ok = src != MAP_FAILED;
    if (ok) {
      ok = writeMemory(fd, h.memoryOffset, static_cast<const uint8_t*>(src), bytes);
      munmap(src, bytes);
    }
  } else if (ok) {
    ok = ftruncate(fd, off_t(h.memoryOffset)) == 0;
  }
  if (::close(fd) != 0) ok = false;
  if (!ok) return runtime::makeError(errnoText("cannot write " + path));
  return {};
}

runtime::Expected<std::shared_ptr<Snapshot>> readSnapshotFile(const std::string& path,
                                                              const runtime::Module& module) {
  auto snap = std::make_shared<Snapshot>();
  snap->memoryFd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (snap->memoryFd < 0) return runtime::makeError(errnoText("cannot open snapshot " + path));
  int fd = snap->memoryFd;
  FileHeader h{};
  if (!readAll(fd, &h, sizeof h) || std::memcmp(h.magic, kFileMagic, 8) != 0)
    return runtime::makeError("snapshot " + path + " is not a faasm snapshot file");
  if (h.version != kFileVersion || h.abiVersion != abi::kAbiVersion)
    return runtime::makeError("snapshot " + path + " has format " + std::to_string(h.version) +
                              " for ABI " + std::to_string(h.abiVersion) +
                              ": take it again with this faasm-run");
  struct stat st{};
  if (fstat(fd, &st) != 0 || h.identityLength > 4096 || h.globalCount > (1u << 20) ||
      h.tableCount > 1024 || h.memoryPages > abi::kMaxPages || h.memoryOffset % 4096 != 0 ||
      uint64_t(st.st_size) < h.memoryOffset + h.memoryPages * abi::kWasmPageSize)
    return runtime::makeError("snapshot " + path + " is truncated or corrupt");
  std::string identity(h.identityLength, '\0');
  if (!readAll(fd, identity.data(), identity.size()))
    return runtime::makeError("snapshot " + path + " is truncated");
  if (identity != identityOf(module))
    return runtime::makeError("snapshot " + path + " was taken of another artefact (" +
                              identity.substr(0, identity.find('|')) + ")");
  snap->globals.resize(h.globalCount);
  if (!readAll(fd, snap->globals.data(), h.globalCount * sizeof(abi::Value)))
    return runtime::makeError("snapshot " + path + " is truncated");
  for (uint64_t t = 0; t < h.tableCount; ++t) {
    uint64_t n = 0;
    if (!readAll(fd, &n, sizeof n) || n > runtime::kTableSizeCap)
      return runtime::makeError("snapshot " + path + " is truncated or corrupt");
    std::vector<uint32_t> elems(n);
    if (!readAll(fd, elems.data(), n * sizeof(uint32_t)))
      return runtime::makeError("snapshot " + path + " is truncated");
    snap->tables.push_back(std::move(elems));
  }
  snap->memoryOffset = h.memoryOffset;
  snap->memoryPages = h.memoryPages;
  return snap;
}

} // namespace faasm::faaslet
