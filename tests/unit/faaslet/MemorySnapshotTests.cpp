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
