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
#include <span>
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

  // A range of the memory mapped MAP_SHARED from a file (state,
  // StateMapping.h): its pages are the file's, shared with every other
  // mapping of it, in this process and in every process forked from it.
  struct SharedRegion {
    uint64_t offset = 0;     // in the memory, a multiple of 64 KiB
    uint64_t bytes = 0;      // a multiple of 64 KiB
    int fd = -1;             // the file; whoever holds the region owns this descriptor
    uint64_t fileOffset = 0; // page aligned
  };

  // Maps bytes [fileOffset, fileOffset + bytes) of `fd` MAP_SHARED over
  // [offset, offset + bytes), which must lie inside the current size, and
  // remembers it (with a descriptor of its own) as one of the memory's
  // shared regions. False (errno set) if the kernel refuses or the range is
  // bad; the range then reads as before or as zero.
  bool mapShared(uint64_t offset, uint64_t bytes, int fd, uint64_t fileOffset);
  const std::vector<SharedRegion>& sharedRegions() const { return shared_; }

  // Snapshots (Proto-Faaslets, docs/Faaslets.md). mapSnapshot replaces the
  // contents: [0, pages) becomes a MAP_PRIVATE | MAP_FIXED mapping of `fd` at
  // `offset` (page aligned; the file must hold pages * 64 KiB bytes from
  // there), except the `shared` regions (inside [0, pages)), which are
  // mapped MAP_SHARED from their files again and stay shared; everything
  // beyond is PROT_NONE again, and the size is `pages`. Pages written later
  // are private copies (shared regions' writes go to their files); fork
  // copies no page tables for the clean ones. resetToSnapshot drops those
  // copies (MADV_DONTNEED, cost proportional to the pages dirtied; the shared
  // regions are left as they are) and returns pages grown since to
  // PROT_NONE, forgetting shared regions mapped there, so the memory reads
  // exactly as the snapshot again. Both return false (errno set) if the
  // kernel refuses; the memory is then unusable.
  bool mapSnapshot(int fd, uint64_t offset, uint64_t pages,
                   std::span<const SharedRegion> shared = {});
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
  uint64_t snapshotPages_ = 0;       // pages backed by the snapshot mapping
  std::vector<SharedRegion> shared_; // by offset; the descriptors are the memory's
  void setPagesLocked(uint64_t pages);
  bool mapSharedLocked(const SharedRegion& region);   // with a descriptor of its own
  bool mapOwnedSharedLocked(const SharedRegion& own); // takes own.fd
  void forgetSharedLocked(uint64_t fromOffset);
  std::mutex mutex_;
  std::vector<abi::VMContext*> attached_;
};

} // namespace faasm::runtime
