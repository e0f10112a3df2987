// Capturing, applying and (de)serialising Proto-Faaslet snapshots. The file
// format is described in docs/Faaslets.md. A snapshot holds no host pointer
// (function references are indices) and a file is read as untrusted input:
// every count, index and offset in it is checked before use.
#include "faasm/faaslet/Faaslet.h"

#include "Protocol.h"

#include "faasm/abi/Artefact.h"
#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Objects.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <span>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace faasm::faaslet {
namespace {

constexpr char kFileMagic[8] = {'F', 'A', 'A', 'S', 'M', 'S', 'N', 'P'};
// 2: keyed on the build's digests; dropped segments; funcref globals as indices.
constexpr uint32_t kFileVersion = 2;
constexpr uint64_t kFileAlign = 65536; // memory bytes start on a wasm page boundary

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t abiVersion;
  uint64_t memoryPages;
  uint64_t memoryOffset;
  uint64_t globalCount;
  uint64_t tableCount;
  uint64_t dataSegmentCount;
  uint64_t elemSegmentCount;
  uint8_t imageDigest[32];   // the artefact's build (Module::imageDigest)
  uint8_t sourceDigest[32];  // and its wasm (Module::sourceDigest), for the message
  uint64_t sourceNameLength; // then the source name, globals, tables, dropped flags
};
static_assert(sizeof(FileHeader) == 136);

std::string errnoText(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string sourceNameOf(const runtime::Module& module) {
  const char* name = module.descriptor().sourceName;
  return name ? name : "";
}

// "build 1a2b3c4d5e6f of app.wasm (wasm sha256 9f8e7d6c5b4a)"
std::string buildText(const uint8_t* image, const uint8_t* source, const std::string& name) {
  return "build " + abi::hexOf({image, 6}) + " of " + (name.empty() ? "?" : name) +
         " (wasm sha256 " + abi::hexOf({source, 6}) + ")";
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

// Writes memory pages to fd at `offset`, leaving all-zero 4 KiB blocks and
// the `skip` regions (shared state: not the snapshot's to keep) as holes
// (the file reads as zero there): a 256 MiB memory that is mostly empty
// costs what it holds.
bool writeMemory(int fd, uint64_t offset, const uint8_t* base, uint64_t bytes,
                 std::span<const runtime::Memory::SharedRegion> skip = {}) {
  if (ftruncate(fd, off_t(offset + bytes)) != 0) return false;
  constexpr uint64_t kBlock = 4096;
  static const uint8_t zeros[kBlock] = {};
  auto skipped = [&](uint64_t at) {
    for (const auto& r : skip)
      if (at >= r.offset && at - r.offset < r.bytes) return true;
    return false;
  };
  uint64_t runStart = 0;
  bool inRun = false;
  for (uint64_t at = 0; at <= bytes; at += kBlock) {
    bool zero = at == bytes || skipped(at) || std::memcmp(base + at, zeros, kBlock) == 0;
    if (!zero && !inRun) {
      runStart = at;
      inRun = true;
    } else if (zero && inRun) {
      for (uint64_t done = 0; done < at - runStart;) {
        ssize_t n = pwrite(fd, base + runStart + done, at - runStart - done,
                           off_t(offset + runStart + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += uint64_t(n);
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
  for (const runtime::Memory::SharedRegion& r : shared)
    if (r.fd >= 0) ::close(r.fd);
}

runtime::Expected<std::shared_ptr<Snapshot>> captureSnapshot(runtime::Instance& instance) {
  auto snap = std::make_shared<Snapshot>();
  runtime::Memory* memory = instance.memory();
  snap->memoryPages = memory ? memory->pages() : 0;
  snap->memoryFd = memfd_create("faasm-snapshot", MFD_CLOEXEC);
  if (snap->memoryFd < 0) return runtime::makeError(errnoText("cannot create snapshot memfd"));
  if (memory) {
    for (runtime::Memory::SharedRegion r : memory->sharedRegions()) {
      r.fd = fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
      if (r.fd < 0) return runtime::makeError(errnoText("cannot keep a state mapping"));
      snap->shared.push_back(r);
    }
    if (!writeMemory(snap->memoryFd, 0, memory->base(), memory->sizeBytes(), snap->shared))
      return runtime::makeError(errnoText("cannot write snapshot memory"));
  }

  auto indices = functionIndices(instance);
  for (uint32_t i = 0; runtime::GlobalObject* g = instance.global(i); ++i) {
    abi::Value v = *g->cell();
    if (g->type() == abi::ValType::FuncRef) {
      // A host pointer in the snapshot would be garbage in another process
      // (and would tell where this one's code lies): the index is stored.
      const void* f = reinterpret_cast<const void*>(v.lo);
      auto it = f ? indices.find(f) : indices.end();
      if (f && it == indices.end())
        return runtime::makeError("cannot snapshot global " + std::to_string(i) +
                                  ": it holds a function of another instance");
      v = abi::Value{f ? it->second : Snapshot::kNullElement, 0};
    } else if (g->type() == abi::ValType::ExternRef && v.lo) {
      return runtime::makeError("cannot snapshot global " + std::to_string(i) +
                                ": it holds an externref, a host reference no snapshot can carry");
    }
    snap->globals.push_back(v);
  }

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
  snap->dataDropped = instance.droppedDataSegments();
  snap->elemDropped = instance.droppedElemSegments();
  return snap;
}

namespace {
// Everything but memory. Checks what it reads against the instance: a
// snapshot file is input.
runtime::Error restoreInstanceState(runtime::Instance& instance, const Snapshot& snap) {
  for (uint32_t i = 0; i < snap.globals.size(); ++i) {
    runtime::GlobalObject* g = instance.global(i);
    if (!g) return runtime::makeError("snapshot has more globals than the instance");
    abi::Value v = snap.globals[i];
    if (g->type() == abi::ValType::FuncRef) {
      const void* f = nullptr;
      if (v.lo != Snapshot::kNullElement) {
        f = v.lo < instance.functionCount() ? instance.function(uint32_t(v.lo)) : nullptr;
        if (!f)
          return runtime::makeError("snapshot global refers to a function the instance lacks");
      }
      v = abi::Value{reinterpret_cast<uint64_t>(f), 0};
    } else if (g->type() == abi::ValType::ExternRef) {
      v = abi::Value{};
    }
    *g->cell() = v;
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
  // A segment dropped by a call is there again for the next one; one
  // dropped during initialisation stays dropped, in every Faaslet.
  if (!instance.setDroppedSegments(snap.dataDropped, snap.elemDropped))
    return runtime::makeError("snapshot has another number of segments than the instance");
  return {};
}
} // namespace

runtime::Error applySnapshot(runtime::Instance& instance, const Snapshot& snap) {
  runtime::Memory* memory = instance.memory();
  if (memory) {
    if (!memory->mapSnapshot(snap.memoryFd, snap.memoryOffset, snap.memoryPages, snap.shared))
      return runtime::makeError(errnoText("cannot map the snapshot's memory"));
  } else if (snap.memoryPages) {
    return runtime::makeError("snapshot has a memory, the instance has none");
  }
  return restoreInstanceState(instance, snap);
}

runtime::Error resetToSnapshot(runtime::Instance& instance, const Snapshot& snap) {
  if (runtime::Memory* memory = instance.memory(); memory && !memory->resetToSnapshot())
    return runtime::makeError(errnoText("cannot reset memory to the snapshot"));
  return restoreInstanceState(instance, snap);
}

runtime::Error writeSnapshotFile(const Snapshot& snap, const runtime::Module& module,
                                 const std::string& path) {
  if (!module.sealed())
    return runtime::makeError("cannot write a snapshot of a module without a build digest");
  if (!snap.shared.empty())
    return runtime::makeError(
        "cannot write a snapshot file: initialisation mapped shared state into memory (guest "
        "address " +
        std::to_string(snap.shared.front().offset) +
        "), which a file cannot share; map it in the call instead");
  std::string name = sourceNameOf(module);
  FileHeader h{};
  std::memcpy(h.magic, kFileMagic, 8);
  h.version = kFileVersion;
  h.abiVersion = abi::kAbiVersion;
  h.memoryPages = snap.memoryPages;
  h.globalCount = snap.globals.size();
  h.tableCount = snap.tables.size();
  h.dataSegmentCount = snap.dataDropped.size();
  h.elemSegmentCount = snap.elemDropped.size();
  std::memcpy(h.imageDigest, module.imageDigest().data(), sizeof h.imageDigest);
  std::memcpy(h.sourceDigest, module.sourceDigest().data(), sizeof h.sourceDigest);
  h.sourceNameLength = name.size();

  std::vector<uint8_t> meta;
  auto put = [&](const void* p, size_t n) {
    meta.insert(meta.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n);
  };
  put(name.data(), name.size());
  put(snap.globals.data(), snap.globals.size() * sizeof(abi::Value));
  for (const auto& t : snap.tables) {
    uint64_t n = t.size();
    put(&n, sizeof n);
    put(t.data(), t.size() * sizeof(uint32_t));
  }
  for (bool d : snap.dataDropped)
    meta.push_back(d ? 1 : 0);
  for (bool d : snap.elemDropped)
    meta.push_back(d ? 1 : 0);
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
  auto corrupt = [&] {
    return runtime::makeError("snapshot " + path + " is truncated or corrupt");
  };
  FileHeader h{};
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return runtime::makeError("snapshot " + path + " is not a regular file");
  if (!readAll(fd, &h, std::min<size_t>(sizeof h, size_t(st.st_size))) ||
      std::memcmp(h.magic, kFileMagic, 8) != 0)
    return runtime::makeError("snapshot " + path + " is not a faasm snapshot file");
  if (h.version != kFileVersion || h.abiVersion != abi::kAbiVersion)
    return runtime::makeError("snapshot " + path + " has format " + std::to_string(h.version) +
                              " for ABI " + std::to_string(h.abiVersion) +
                              ": take it again with this faasm-run");
  if (uint64_t(st.st_size) < sizeof h) return corrupt();
  if (!module.sealed() || !abi::equalDigests({h.imageDigest, 32}, module.imageDigest())) {
    std::string name(std::min<uint64_t>(h.sourceNameLength, 4096), '\0');
    if (!readAll(fd, name.data(), name.size())) name.clear();
    return runtime::makeError(
        "snapshot " + path + " belongs to " + buildText(h.imageDigest, h.sourceDigest, name) +
        ", not to this artefact, " +
        buildText(module.imageDigest().data(), module.sourceDigest().data(), sourceNameOf(module)) +
        ": take the snapshot again");
  }
  const abi::ModuleDescriptor& d = module.descriptor();
  if (h.sourceNameLength > 4096 || h.globalCount > (1u << 20) || h.tableCount > 1024 ||
      h.dataSegmentCount != d.dataSegments.count || h.elemSegmentCount != d.elemSegments.count ||
      h.memoryPages > abi::kMaxPages || h.memoryOffset % 4096 != 0 ||
      uint64_t(st.st_size) < h.memoryOffset + h.memoryPages * abi::kWasmPageSize)
    return corrupt();
  std::string name(h.sourceNameLength, '\0');
  if (!readAll(fd, name.data(), name.size())) return corrupt();
  snap->globals.resize(h.globalCount);
  if (!readAll(fd, snap->globals.data(), h.globalCount * sizeof(abi::Value))) return corrupt();
  for (uint64_t t = 0; t < h.tableCount; ++t) {
    uint64_t n = 0;
    if (!readAll(fd, &n, sizeof n) || n > runtime::kTableSizeCap) return corrupt();
    std::vector<uint32_t> elems(n);
    if (!readAll(fd, elems.data(), n * sizeof(uint32_t))) return corrupt();
    snap->tables.push_back(std::move(elems));
  }
  std::vector<uint8_t> dropped(h.dataSegmentCount + h.elemSegmentCount);
  if (!readAll(fd, dropped.data(), dropped.size())) return corrupt();
  for (uint64_t i = 0; i < dropped.size(); ++i) {
    if (dropped[i] > 1) return corrupt();
    (i < h.dataSegmentCount ? snap->dataDropped : snap->elemDropped).push_back(dropped[i] == 1);
  }
  if (uint64_t(lseek(fd, 0, SEEK_CUR)) > h.memoryOffset) return corrupt();
  snap->memoryOffset = h.memoryOffset;
  snap->memoryPages = h.memoryPages;
  return snap;
}

} // namespace faasm::faaslet
