// faasm/host/GuestMemory.h on a plain buffer standing in for linear memory:
// ranges at the edges, bounded copies, and what traps.
#include <doctest/doctest.h>

#include "faasm/host/GuestMemory.h"

#include <cstring>
#include <vector>

namespace host = faasm::host;
namespace abi = faasm::abi;

namespace {

struct FakeMemory {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(4096, 'x');
  abi::VMContext vm{};
  FakeMemory() {
    vm.memoryBase = bytes.data();
    vm.memorySize = bytes.size();
  }
};

template <typename Fn> abi::TrapCode trapOf(Fn fn) {
  try {
    fn();
  } catch (const host::Trap& t) {
    return t.code;
  }
  return abi::TrapCode::None;
}

constexpr abi::TrapCode kOob = abi::TrapCode::HostPointerOutOfBounds;

} // namespace

TEST_CASE("guest memory: ranges are checked in 64 bits, to the last byte") {
  FakeMemory m;
  CHECK(host::guestRangeValid(&m.vm, 0, 4096));
  CHECK(host::guestRangeValid(&m.vm, 4096, 0));
  CHECK_FALSE(host::guestRangeValid(&m.vm, 4096, 1));
  CHECK_FALSE(host::guestRangeValid(&m.vm, 1, UINT64_MAX)); // would wrap to 0
  CHECK_FALSE(host::guestRangeValid(&m.vm, UINT64_MAX, 2));
  CHECK(trapOf([&] { host::guestSpan(&m.vm, 4090, 7); }) == kOob);
  CHECK(host::guestSpan(&m.vm, 4090, 6).size() == 6);
  CHECK(trapOf([&] { host::guestLoad<uint64_t>(&m.vm, 4089); }) == kOob);
  CHECK(trapOf([&] { host::guestStore<uint32_t>(&m.vm, 4093, 1); }) == kOob);
  CHECK(m.bytes[4093] == 'x'); // nothing written before the trap
}

TEST_CASE("guest memory: arrays and strings are copies, bounded") {
  FakeMemory m;
  struct Pair {
    uint32_t a, b;
  };
  std::vector<Pair> copy = host::guestLoadArray<Pair>(&m.vm, 8, 4);
  std::memset(m.bytes.data(), 0, 64); // the guest changes its memory afterwards
  CHECK(copy[3].a == 0x78787878u);    // the copy does not change with it
  // A count whose byte size would wrap traps instead of copying.
  CHECK(trapOf([&] { host::guestLoadArray<Pair>(&m.vm, 0, (UINT64_MAX / 8) + 2); }) == kOob);
  CHECK(trapOf([&] { host::guestLoadArray<Pair>(&m.vm, 0, 513); }) == kOob);

  std::memcpy(m.bytes.data() + 100, "key\0", 4);
  CHECK(host::guestLoadCString(&m.vm, 100, 16) == std::optional<std::string>("key"));
  CHECK(host::guestLoadCString(&m.vm, 100, 3) == std::optional<std::string>("key"));
  CHECK_FALSE(host::guestLoadCString(&m.vm, 100, 2).has_value()); // longer than allowed
  // No NUL before memory ends: a trap, however long a string is allowed.
  CHECK(trapOf([&] { host::guestLoadCString(&m.vm, 4000, 1 << 20); }) == kOob);
  CHECK(trapOf([&] { host::guestLoadCString(&m.vm, 4096, 16); }) == kOob);
  m.bytes[4095] = 0;
  CHECK(host::guestLoadCString(&m.vm, 4095, 16) == std::optional<std::string>(""));
  CHECK(host::guestLoadString(&m.vm, 100, 3) == "key");
  CHECK(trapOf([&] { host::guestLoadString(&m.vm, 4095, 2); }) == kOob);
}

TEST_CASE("guest memory: a span writes only inside itself") {
  FakeMemory m;
  host::GuestSpan span = host::guestSpan(&m.vm, 10, 4);
  span.write(0, "abcd", 4);
  CHECK(std::memcmp(m.bytes.data() + 10, "abcd", 4) == 0);
  CHECK(trapOf([&] { span.write(2, "abc", 3); }) == abi::TrapCode::HostError);
  CHECK(m.bytes[14] == 'x');
}
