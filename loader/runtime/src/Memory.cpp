#include "faasm/runtime/Memory.h"

#include "faasm/runtime/Invoke.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace faasm::runtime {

Expected<std::shared_ptr<Memory>> Memory::create(abi::BoundsMode mode, uint64_t minPages,
                                                 std::optional<uint64_t> maxPages) {
  if (minPages > abi::kMaxPages) return makeError("memory size must be at most 4 GiB");
  if (maxPages && *maxPages > abi::kMaxPages) return makeError("memory size must be at most 4 GiB");
  if (maxPages && *maxPages < minPages)
    return makeError("size minimum must not be greater than maximum");

  std::shared_ptr<Memory> m(new Memory);
  m->mode_ = mode;
  m->declaredMax_ = maxPages;
  m->maxPages_ = maxPages ? *maxPages : abi::kMaxPages;
  // The reservation is the sandbox: it covers every address a 32-bit index
  // plus a 32-bit static offset plus the widest access can form, so a guest
  // access cannot leave it whatever the current size. Guard mode relies on
  // it. Explicit mode's code checks each access against memorySize, so for
  // it the region past the maximum is a guard region: were a check wrong
  // (the compiler's check merging or loop versioning), the access would
  // fault here instead of reaching whatever the host mapped next (its
  // thread control block, TLS, libc were found right after a small memory
  // once). Its cost is address space alone (one PROT_NONE, NORESERVE
  // mapping), in either mode.
  m->reserved_ = abi::kGuardReservationBytes;
  void* p =
      mmap(nullptr, m->reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return makeError(std::string("cannot reserve linear memory: ") + strerror(errno));
  m->base_ = static_cast<uint8_t*>(p);
  m->reservationSlot_ =
      registerFaultRange(m->base_, m->reserved_, mode == abi::BoundsMode::Explicit);
  if (m->reservationSlot_ < 0) return makeError("too many linear memories in this process");
  if (minPages && mprotect(m->base_, minPages * abi::kWasmPageSize, PROT_READ | PROT_WRITE) != 0)
    return makeError(std::string("cannot commit linear memory: ") + strerror(errno));
  m->pages_ = minPages;
  return m;
}

Memory::~Memory() {
  forgetSharedLocked(0);
  if (reservationSlot_ >= 0) unregisterFaultRange(reservationSlot_);
  if (base_) munmap(base_, reserved_);
}

int64_t Memory::grow(uint64_t deltaPages) {
  std::lock_guard lock(mutex_);
  uint64_t old = pages_;
  if (deltaPages > maxPages_ || old + deltaPages > maxPages_) return -1;
  if (deltaPages == 0) return int64_t(old);
  uint64_t newPages = old + deltaPages;
  if (mprotect(base_ + old * abi::kWasmPageSize, deltaPages * abi::kWasmPageSize,
               PROT_READ | PROT_WRITE) != 0)
    return -1;
  pages_ = newPages;
  for (abi::VMContext* v : attached_)
    v->memorySize = newPages * abi::kWasmPageSize;
  return int64_t(old);
}

void Memory::setPagesLocked(uint64_t pages) {
  pages_ = pages;
  for (abi::VMContext* v : attached_)
    v->memorySize = pages * abi::kWasmPageSize;
}

bool Memory::mapSharedLocked(const SharedRegion& region) {
  SharedRegion own = region;
  own.fd = fcntl(region.fd, F_DUPFD_CLOEXEC, 0);
  if (own.fd < 0) return false;
  return mapOwnedSharedLocked(own);
}

bool Memory::mapOwnedSharedLocked(const SharedRegion& own) {
  if (mmap(base_ + own.offset, own.bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, own.fd,
           off_t(own.fileOffset)) == MAP_FAILED) {
    int saved = errno;
    ::close(own.fd);
    errno = saved;
    return false;
  }
  // A region mapped over an older one replaces it.
  std::erase_if(shared_, [&](const SharedRegion& r) {
    bool overlaps = r.offset < own.offset + own.bytes && own.offset < r.offset + r.bytes;
    if (overlaps) ::close(r.fd);
    return overlaps;
  });
  shared_.insert(std::upper_bound(shared_.begin(), shared_.end(), own,
                                  [](const SharedRegion& a, const SharedRegion& b) {
                                    return a.offset < b.offset;
                                  }),
                 own);
  return true;
}

void Memory::forgetSharedLocked(uint64_t fromOffset) {
  std::erase_if(shared_, [&](const SharedRegion& r) {
    if (r.offset < fromOffset) return false;
    ::close(r.fd);
    return true;
  });
}

bool Memory::mapShared(uint64_t offset, uint64_t bytes, int fd, uint64_t fileOffset) {
  std::lock_guard lock(mutex_);
  uint64_t size = pages_ * abi::kWasmPageSize;
  if (offset % abi::kWasmPageSize || bytes % abi::kWasmPageSize || !bytes || offset > size ||
      bytes > size - offset) {
    errno = EINVAL;
    return false;
  }
  return mapSharedLocked({offset, bytes, fd, fileOffset});
}

bool Memory::mapSnapshot(int fd, uint64_t offset, uint64_t pages,
                         std::span<const SharedRegion> shared) {
  std::lock_guard lock(mutex_);
  uint64_t bytes = pages * abi::kWasmPageSize;
  if (pages > maxPages_ || bytes > reserved_) {
    errno = EINVAL;
    return false;
  }
  for (const SharedRegion& r : shared)
    if (r.offset > bytes || r.bytes > bytes - r.offset) {
      errno = EINVAL;
      return false;
    }
  // Descriptors of our own for the regions first: `shared` may be this
  // memory's own list, whose descriptors are closed below.
  std::vector<SharedRegion> incoming;
  for (const SharedRegion& r : shared) {
    SharedRegion own = r;
    own.fd = fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
    if (own.fd < 0) {
      for (const SharedRegion& done : incoming)
        ::close(done.fd);
      return false;
    }
    incoming.push_back(own);
  }
  // Discard everything (also pages a previous mapping left behind), then lay
  // the snapshot over the start of the reservation.
  forgetSharedLocked(0);
  bool mapped =
      mmap(base_, reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
           0) != MAP_FAILED &&
      (!bytes || mmap(base_, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                      off_t(offset)) != MAP_FAILED);
  // State the snapshot's instance had mapped stays shared (docs/State.md): a
  // private copy of it would lose every write.
  for (const SharedRegion& own : incoming) {
    if (mapped)
      mapped = mapOwnedSharedLocked(own);
    else
      ::close(own.fd);
  }
  if (!mapped) return false;
  snapshotPages_ = pages;
  setPagesLocked(pages);
  return true;
}

bool Memory::resetToSnapshot() {
  std::lock_guard lock(mutex_);
  uint64_t snapBytes = snapshotPages_ * abi::kWasmPageSize;
  // MADV_DONTNEED on a private file mapping drops the private copies: the
  // next access reads the file (the snapshot) again. Clean pages cost
  // nothing. Shared regions are skipped: their pages are the state's.
  uint64_t at = 0;
  for (const SharedRegion& r : shared_) {
    if (r.offset >= snapBytes) break;
    if (r.offset > at && madvise(base_ + at, r.offset - at, MADV_DONTNEED) != 0) return false;
    at = r.offset + r.bytes;
  }
  if (snapBytes > at && madvise(base_ + at, snapBytes - at, MADV_DONTNEED) != 0) return false;
  if (pages_ > snapshotPages_) {
    uint64_t grown = (pages_ - snapshotPages_) * abi::kWasmPageSize;
    if (mmap(base_ + snapBytes, grown, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
      return false;
  }
  forgetSharedLocked(snapBytes);
  setPagesLocked(snapshotPages_);
  return true;
}

void Memory::attach(abi::VMContext* vmctx) {
  std::lock_guard lock(mutex_);
  vmctx->memoryBase = base_;
  vmctx->memorySize = pages_ * abi::kWasmPageSize;
  attached_.push_back(vmctx);
}

void Memory::detach(abi::VMContext* vmctx) {
  std::lock_guard lock(mutex_);
  std::erase(attached_, vmctx);
}

} // namespace faasm::runtime
