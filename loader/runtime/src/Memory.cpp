#include "faasm/runtime/Memory.h"

#include "faasm/runtime/Invoke.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mman.h>

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

bool Memory::mapSnapshot(int fd, uint64_t offset, uint64_t pages) {
  std::lock_guard lock(mutex_);
  uint64_t bytes = pages * abi::kWasmPageSize;
  if (pages > maxPages_ || bytes > reserved_) {
    errno = EINVAL;
    return false;
  }
  // Discard everything first (also pages a previous mapping left behind),
  // then lay the snapshot over the start of the reservation.
  if (mmap(base_, reserved_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
           0) == MAP_FAILED)
    return false;
  if (bytes && mmap(base_, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
                    off_t(offset)) == MAP_FAILED)
    return false;
  snapshotPages_ = pages;
  setPagesLocked(pages);
  return true;
}

bool Memory::resetToSnapshot() {
  std::lock_guard lock(mutex_);
  uint64_t snapBytes = snapshotPages_ * abi::kWasmPageSize;
  // MADV_DONTNEED on a private file mapping drops the private copies: the
  // next access reads the file (the snapshot) again. Clean pages cost nothing.
  if (snapBytes && madvise(base_, snapBytes, MADV_DONTNEED) != 0) return false;
  if (pages_ > snapshotPages_) {
    uint64_t grown = (pages_ - snapshotPages_) * abi::kWasmPageSize;
    if (mmap(base_ + snapBytes, grown, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
      return false;
  }
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
