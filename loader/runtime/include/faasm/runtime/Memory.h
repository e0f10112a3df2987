// One linear memory. Its base address never moves for the life of the
// memory, in either bounds mode, so generated code may cache it and several
// instances may share it (import/export): grow updates every attached
// VMContext.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Error.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace faasm::runtime {

class Memory {
public:
  // Both modes reserve abi::kGuardReservationBytes (8 GiB + 64 KiB),
  // PROT_NONE beyond the current size, so no host mapping ever lies within
  // reach of a guest address: guard mode needs it (its code does not check),
  // explicit mode gets the same as a second line behind its checks (a check
  // the compiler got wrong reaches the guard region, never host memory).
  // Address space only: no page is committed, fork copies no page table for
  // it. Fails if minPages > maxPages, either is above 65536, or the address
  // space cannot be reserved.
  static Expected<std::shared_ptr<Memory>> create(abi::BoundsMode mode, uint64_t minPages,
                                                  std::optional<uint64_t> maxPages);
  ~Memory();
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;

  uint8_t* base() const { return base_; }
  uint64_t sizeBytes() const { return pages_ * abi::kWasmPageSize; }
  uint64_t pages() const { return pages_; }
  std::optional<uint64_t> declaredMax() const { return declaredMax_; }
  abi::BoundsMode mode() const { return mode_; }
  uint64_t reservationBytes() const { return reserved_; }

  // memory.grow: returns the old size in pages, or -1 if the memory cannot
  // grow by `deltaPages` (beyond the declared max or 65536 pages, or mprotect
  // failed). New pages read as zero.
  int64_t grow(uint64_t deltaPages);

  // Snapshots (Proto-Faaslets, docs/Faaslets.md). mapSnapshot replaces the
  // contents: [0, pages) becomes a MAP_PRIVATE | MAP_FIXED mapping of `fd` at
  // `offset` (page aligned; the file must hold pages * 64 KiB bytes from
  // there), everything beyond is PROT_NONE again, and the size is `pages`.
  // Pages written later are private copies; fork copies no page tables for
  // the clean ones. resetToSnapshot drops those copies (MADV_DONTNEED, cost
  // proportional to the pages dirtied) and returns pages grown since to
  // PROT_NONE, so the memory reads exactly as the snapshot again. Both return
  // false (errno set) if the kernel refuses; the memory is then unusable.
  bool mapSnapshot(int fd, uint64_t offset, uint64_t pages);
  bool resetToSnapshot();
  uint64_t snapshotPages() const { return snapshotPages_; }

  // Instances using this memory; grow writes memoryBase/memorySize into all.
  void attach(abi::VMContext* vmctx);
  void detach(abi::VMContext* vmctx);

private:
  Memory() = default;
  uint8_t* base_ = nullptr;
  uint64_t reserved_ = 0;
  uint64_t pages_ = 0;
  uint64_t maxPages_ = 0; // effective limit
  std::optional<uint64_t> declaredMax_;
  abi::BoundsMode mode_ = abi::BoundsMode::Guard;
  int reservationSlot_ = -1;
  uint64_t snapshotPages_ = 0; // pages backed by the snapshot mapping
  void setPagesLocked(uint64_t pages);
  std::mutex mutex_;
  std::vector<abi::VMContext*> attached_;
};

} // namespace faasm::runtime
