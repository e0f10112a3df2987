// Linear memory as a private mapping of a snapshot: what a Faaslet's reset
// relies on to leak nothing from one call to the next.
#include "faasm/runtime/Memory.h"

#include <doctest/doctest.h>

#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace faasm;
using runtime::Memory;

namespace {

constexpr uint64_t kPage = abi::kWasmPageSize;

// A memfd holding `pages` wasm pages, byte i of page p = p + 1 at offset i*4096.
int makeSnapshotFd(uint64_t pages) {
  int fd = memfd_create("test-snapshot", MFD_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(ftruncate(fd, off_t(pages * kPage)) == 0);
  for (uint64_t p = 0; p < pages; ++p) {
    uint8_t v = uint8_t(p + 1);
    REQUIRE(pwrite(fd, &v, 1, off_t(p * kPage)) == 1);
  }
  return fd;
}

void checkSnapshotContents(const Memory& m, uint64_t pages) {
  for (uint64_t p = 0; p < pages; ++p) {
    CHECK(m.base()[p * kPage] == uint8_t(p + 1));
    CHECK(m.base()[p * kPage + 100] == 0);
  }
}

} // namespace

TEST_CASE("a memory mapped from a snapshot reads as the snapshot") {
  for (abi::BoundsMode mode : {abi::BoundsMode::Guard, abi::BoundsMode::Explicit}) {
    auto m = Memory::create(mode, 1, std::nullopt);
    REQUIRE(m.ok());
    Memory& mem = *m.value();
    mem.base()[5] = 77; // discarded by the mapping
    int fd = makeSnapshotFd(3);
    REQUIRE(mem.mapSnapshot(fd, 0, 3));
    CHECK(mem.pages() == 3);
    CHECK(mem.snapshotPages() == 3);
    CHECK(mem.base()[5] == 0);
    checkSnapshotContents(mem, 3);
    close(fd);
  }
}

TEST_CASE("reset drops every write and every grown page") {
  auto m = Memory::create(abi::BoundsMode::Guard, 1, std::nullopt);
  REQUIRE(m.ok());
  Memory& mem = *m.value();
  abi::VMContext vmctx{};
  mem.attach(&vmctx);
  int fd = makeSnapshotFd(2);
  REQUIRE(mem.mapSnapshot(fd, 0, 2));
  CHECK(vmctx.memorySize == 2 * kPage);

  for (int round = 0; round < 3; ++round) {
    // A call writes everywhere, grows, writes into the new pages.
    std::memset(mem.base(), 0x5a, 2 * kPage);
    REQUIRE(mem.grow(4) == 2);
    CHECK(vmctx.memorySize == 6 * kPage);
    std::memset(mem.base() + 2 * kPage, 0x33, 4 * kPage);

    REQUIRE(mem.resetToSnapshot());
    CHECK(mem.pages() == 2);
    CHECK(vmctx.memorySize == 2 * kPage);
    checkSnapshotContents(mem, 2);
    // Grown again, the pages read as zero, not as the last call left them.
    REQUIRE(mem.grow(1) == 2);
    CHECK(mem.base()[2 * kPage] == 0);
    CHECK(mem.base()[3 * kPage - 1] == 0);
    REQUIRE(mem.resetToSnapshot());
  }
  // The snapshot file itself was never written.
  uint8_t v = 0;
  REQUIRE(pread(fd, &v, 1, 1) == 1);
  CHECK(v == 0);
  mem.detach(&vmctx);
  close(fd);
}

TEST_CASE("a snapshot larger than the memory's maximum is refused") {
  auto m = Memory::create(abi::BoundsMode::Explicit, 1, 2);
  REQUIRE(m.ok());
  int fd = makeSnapshotFd(3);
  CHECK_FALSE(m.value()->mapSnapshot(fd, 0, 3));
  close(fd);
}

TEST_CASE("fork shares the snapshot and the child's writes stay its own") {
  auto m = Memory::create(abi::BoundsMode::Guard, 1, std::nullopt);
  REQUIRE(m.ok());
  Memory& mem = *m.value();
  int fd = makeSnapshotFd(2);
  REQUIRE(mem.mapSnapshot(fd, 0, 2));
  pid_t pid = fork();
  if (pid == 0) {
    mem.base()[0] = 99;
    _exit(mem.base()[kPage] == 2 ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(mem.base()[0] == 1);
  close(fd);
}

namespace {
uint8_t stateByte(int fd, uint64_t at) {
  uint8_t v = 0;
  REQUIRE(pread(fd, &v, 1, off_t(at)) == 1);
  return v;
}
} // namespace

TEST_CASE("state mapped before the snapshot stays shared: mapped again, reset, forked") {
  for (abi::BoundsMode mode : {abi::BoundsMode::Guard, abi::BoundsMode::Explicit}) {
    auto m = Memory::create(mode, 1, std::nullopt);
    REQUIRE(m.ok());
    Memory& mem = *m.value();
    int state = memfd_create("test-state", MFD_CLOEXEC);
    REQUIRE(ftruncate(state, off_t(kPage)) == 0);
    // What StateMapping does: grow, then map the object over the new page.
    REQUIRE(mem.grow(1) == 1);
    REQUIRE(mem.mapShared(kPage, kPage, state, 0));
    REQUIRE(mem.sharedRegions().size() == 1);
    mem.base()[kPage] = 1;
    CHECK(stateByte(state, 0) == 1);

    // The snapshot (page 1's bytes in it are stale) is mapped with the region.
    int snap = makeSnapshotFd(2);
    std::vector<Memory::SharedRegion> regions = mem.sharedRegions();
    REQUIRE(mem.mapSnapshot(snap, 0, 2, regions));
    CHECK(mem.base()[kPage] == 1); // the state's bytes, not the snapshot's (2)
    mem.base()[kPage] = 7;
    mem.base()[0] = 50;
    CHECK(stateByte(state, 0) == 7);

    // A reset drops the private write, not the state's.
    REQUIRE(mem.resetToSnapshot());
    CHECK(mem.base()[0] == 1);
    CHECK(mem.base()[kPage] == 7);
    CHECK(mem.sharedRegions().size() == 1);

    // A Faaslet forked now writes the same pages.
    pid_t pid = fork();
    if (pid == 0) {
      mem.base()[kPage + 1] = 42;
      _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(mem.base()[kPage + 1] == 42);
    CHECK(stateByte(state, 1) == 42);

    // State a call maps (beyond the snapshot) is gone after the reset.
    int later = memfd_create("test-state-2", MFD_CLOEXEC);
    REQUIRE(ftruncate(later, off_t(kPage)) == 0);
    REQUIRE(mem.grow(1) == 2);
    REQUIRE(mem.mapShared(2 * kPage, kPage, later, 0));
    CHECK(mem.sharedRegions().size() == 2);
    REQUIRE(mem.resetToSnapshot());
    CHECK(mem.sharedRegions().size() == 1);
    CHECK(mem.pages() == 2);
    close(later);
    close(snap);
    close(state);
  }
}

TEST_CASE("a shared region must lie inside the memory") {
  auto m = Memory::create(abi::BoundsMode::Guard, 1, std::nullopt);
  REQUIRE(m.ok());
  int state = memfd_create("test-state", MFD_CLOEXEC);
  REQUIRE(ftruncate(state, off_t(2 * kPage)) == 0);
  CHECK_FALSE(m.value()->mapShared(kPage, kPage, state, 0));     // past the end
  CHECK_FALSE(m.value()->mapShared(100, kPage - 100, state, 0)); // not page aligned
  int snap = makeSnapshotFd(1);
  Memory::SharedRegion outside{kPage, kPage, state, 0};
  CHECK_FALSE(m.value()->mapSnapshot(snap, 0, 1, {&outside, 1}));
  close(snap);
  close(state);
}
