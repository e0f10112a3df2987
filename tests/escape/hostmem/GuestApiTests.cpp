// Escape class "Host functions and guest memory" (docs/Security.md), for the
// host functions of Faasm's guest API added with it: faasmChain (a call of
// the same function at a function pointer), faasmFlagStateOffsetDirty and
// faasmPushStatePartialMask. Each is handed hostile ranges (past the end,
// into the canary page right past memory, wrapping past 2^32, 4 GiB long)
// and raced by a writer flipping what it reads, in both bounds modes. The
// host must end every call normally or with the trap the contract names,
// never touch the canary, and record only what one snapshot of the guest's
// values says.
#include "Hostile.h"

#include "faasm/state/LocalState.h"

#include <array>
#include <filesystem>
#include <set>

using namespace hostile;

namespace {

// The dirty runs of mallory's `key` in this host's replica (none if it does
// not exist): what a partial push would send.
std::vector<faasm::state::ByteRun> dirtyRunsOf(const std::string& key) {
  faasm::state::StateObject* object =
      faasm::state::LocalStateStore::instance().open("mallory", key, false);
  return object ? object->dirtyRuns(object->size()) : std::vector<faasm::state::ByteRun>{};
}

constexpr uint32_t kKey = 0x100, kKeyA = 0x200, kKeyB = 0x300, kMask = 0x400;
constexpr uint32_t kData = 0x4000;
constexpr int kRounds = 2000;

template <typename Round, typename Done> void race(int rounds, Round round, Done done) {
  for (int i = 0; i < rounds * 50; ++i) {
    round();
    if (i + 1 >= rounds && done()) return;
  }
}

void putKey(Guest& g, uint32_t at, const std::string& key) {
  g.put(at, key.c_str(), key.size() + 1);
}

// Ranges of guest memory that are not all inside it: at the end, into the
// canary page past it, at 2^31 (past an explicit-mode reservation), wrapping
// past 2^32, and 4 GiB long.
struct Range {
  uint32_t ptr, len;
};
std::vector<Range> hostileRanges(uint64_t end) {
  return {{uint32_t(end - 8), 64},     {uint32_t(end), 1},  {uint32_t(end), 4096},
          {0x80000000u, 16},           {0xFFFFFFF0u, 0x20}, {kData, 0xFFFFFFFFu},
          {uint32_t(end - 4096), 8192}};
}

} // namespace

TEST_CASE("faasmChain: hostile input ranges trap before the embedder sees them") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    int calls = 0, outside = 0;
    std::vector<uint32_t> entries;
    g.callContext->chainThis = [&](uint32_t entry, std::span<const uint8_t> input) -> uint32_t {
      ++calls;
      entries.push_back(entry);
      if (input.data() < g.mem() || input.data() + input.size() > g.mem() + g.size()) ++outside;
      return 9;
    };
    for (const Range& r : hostileRanges(g.size())) {
      INFO(r.ptr << " + " << r.len);
      CHECK(g.call("faasmChain", {i32(1), i32(r.ptr), i32(r.len)}).pointerTrap());
    }
    CHECK(calls == 0);
    // The entry is the guest's value, passed on as it is, whatever it is.
    for (uint32_t entry : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) {
      Outcome o = g.call("faasmChain", {i32(entry), i32(kData), i32(16)});
      CHECK(o.ok());
      CHECK(o.value == 9);
    }
    CHECK(entries == std::vector<uint32_t>{0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu});
    CHECK(outside == 0);
    // Without a callback there is no chaining: 0, nothing else.
    g.callContext->chainThis = nullptr;
    Outcome none = g.call("faasmChain", {i32(1), i32(kData), i32(16)});
    CHECK(none.ok());
    CHECK(none.value == 0);
    CHECK(g.canaryIntact());
  }
}

// The input is payload: the embedder copies it while a writer flips it. The
// copy may mix the two values (payload is never interpreted), but it has
// the length the guest asked for and nothing from outside that range.
TEST_CASE("faasmChain: input flipped while the embedder copies it") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    int wrongLength = 0, foreign = 0;
    std::set<uint8_t> seen;
    g.callContext->chainThis = [&](uint32_t, std::span<const uint8_t> input) -> uint32_t {
      std::vector<uint8_t> copy(input.begin(), input.end());
      if (copy.size() != 256) ++wrongLength;
      for (uint8_t b : copy) {
        if (b != 'a' && b != 'b') ++foreign;
        seen.insert(b);
      }
      return 1;
    };
    g.put(kData, std::string(256, 'a'));
    {
      Flipper flip(g.mem() + kData, std::vector<uint8_t>(256, 'a'), std::vector<uint8_t>(256, 'b'));
      race(
          kRounds, [&] { CHECK(g.call("faasmChain", {i32(5), i32(kData), i32(256)}).value == 1); },
          [&] { return seen.size() == 2; });
    }
    CHECK(wrongLength == 0);
    CHECK(foreign == 0);
    CHECK(seen.size() == 2);
    CHECK(g.canaryIntact());
  }
}

TEST_CASE(
    "faasmFlagStateOffsetDirty: hostile ranges mark nothing; valid ones mark their granules") {
  using faasm::state::ByteRun;
  using Runs = std::vector<ByteRun>;
  constexpr uint32_t kG = faasm::state::StateObject::kDirtyGranule;
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    putKey(g, kKey, "dk");
    // [offset, offset + len) outside [0, totalLen): wrapping past 2^32, -1
    // long, starting past the end, ending one past it.
    const std::vector<std::array<uint32_t, 3>> outside = {{0x100, 0xFFFFFFF0u, 0x20},
                                                          {0x100, 0, 0xFFFFFFFFu},
                                                          {0x100, 0x101, 0},
                                                          {0x100, 0xF8, 9},
                                                          {0, 0, 1},
                                                          {0xFFFFFFFFu, 0xFFFFFFFFu, 2}};
    for (const auto& [total, offset, len] : outside) {
      INFO(total << " " << offset << " " << len);
      CHECK(g.call("faasmFlagStateOffsetDirty", {i32(kKey), i32(total), i32(offset), i32(len)})
                .pointerTrap());
    }
    CHECK(!std::filesystem::exists(dir + "/faasm-mallory/dk")); // nothing was made or marked
    // Marks: the value is made as long as stated; marks cover their granules,
    // adjacent granules merge.
    const uint32_t total = 3 * kG;
    REQUIRE(g.call("faasmFlagStateOffsetDirty", {i32(kKey), i32(total), i32(8), i32(16)}).ok());
    REQUIRE(g.call("faasmFlagStateOffsetDirty", {i32(kKey), i32(total), i32(24), i32(8)}).ok());
    CHECK(dirtyRunsOf("dk") == Runs{{0, kG}});
    REQUIRE(
        g.call("faasmFlagStateOffsetDirty", {i32(kKey), i32(total), i32(2 * kG + 0xF0), i32(16)})
            .ok());
    CHECK(dirtyRunsOf("dk") == Runs{{0, kG}, {2 * kG, kG}});
    CHECK(g.call("faasmReadStateSize", {i32(kKey)}).value == int32_t(total));
    // A write by offset marks too; a partial push sends (nothing, locally) and clears.
    g.put(kData, std::string(4, 'w'));
    REQUIRE(
        g.call("faasmWriteStateOffset", {i32(kKey), i32(total), i32(kG + 64), i32(kData), i32(4)})
            .ok());
    CHECK(dirtyRunsOf("dk") == Runs{{0, total}});
    REQUIRE(g.call("faasmPushStatePartial", {i32(kKey)}).ok());
    CHECK(dirtyRunsOf("dk").empty());
    REQUIRE(g.call("faasmFlagStateDirty", {i32(kKey), i32(total)}).ok());
    CHECK(dirtyRunsOf("dk") == Runs{{0, total}});
    // A range across a granule boundary marks both granules, one byte its own.
    putKey(g, kKeyA, "dk2");
    REQUIRE(
        g.call("faasmFlagStateOffsetDirty", {i32(kKeyA), i32(4 * kG), i32(kG - 1), i32(2)}).ok());
    REQUIRE(g.call("faasmFlagStateOffsetDirty", {i32(kKeyA), i32(4 * kG), i32(3 * kG + 7), i32(1)})
                .ok());
    CHECK(dirtyRunsOf("dk2") == Runs{{0, 2 * kG}, {3 * kG, kG}});
    std::filesystem::remove_all(dir);
  }
}

// A value of 4 GiB - 1 is past any quota: the call traps HostError before
// a bit is kept, so the marks never cost more than the state the user holds.
TEST_CASE("faasmFlagStateOffsetDirty: a value past the quota marks nothing") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    api::setStateQuota(1 << 20);
    Guest g(mode);
    putKey(g, kKey, "huge");
    Outcome o = g.call("faasmFlagStateOffsetDirty",
                       {i32(kKey), i32(0xFFFFFFFFu), i32(0xFFFFFF00u), i32(0xFF)});
    CHECK(o.trap == abi::TrapCode::HostError);
    o = g.call("faasmFlagStateDirty", {i32(kKey), i32(0xFFFFFFFFu)});
    CHECK(o.trap == abi::TrapCode::HostError);
    CHECK(dirtyRunsOf("huge").empty());
    api::setStateQuota(faasm::state::kDefaultQuotaBytes);
    std::filesystem::remove_all(dir);
  }
}

// The key flips between "ka" (a 64-byte value) and "kbx" at the very end of
// memory, where it has no NUL before memory ends. Every call marks "ka" or
// traps with the pointer trap; no other key is ever marked or made.
TEST_CASE("faasmFlagStateOffsetDirty: a key flipped to run off the end of memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    const uint32_t at = uint32_t(g.size() - 3);
    g.put(at, std::string("ka", 3));
    int ok = 0, pointerTraps = 0, other = 0;
    {
      Flipper flip(g.mem() + at + 1, {'a', 0}, {'b', 'x'});
      race(
          kRounds,
          [&] {
            Outcome o =
                g.call("faasmFlagStateOffsetDirty", {i32(at), i32(64), i32(ok % 56), i32(8)});
            (o.ok() ? ok : o.pointerTrap() ? pointerTraps : other)++;
          },
          [&] { return ok && pointerTraps; });
    }
    CHECK(other == 0);
    CHECK(ok > 0);
    CHECK(pointerTraps > 0);
    CHECK(!dirtyRunsOf("ka").empty());
    std::set<std::string> made;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.')
        made.insert(e.path().filename());
    CHECK(made == std::set<std::string>{"ka"});
    std::filesystem::remove_all(dir);
  }
}

// The value's key flips between "va" (16 bytes, as long as the mask) and
// "vb" (8 bytes). Each push judges one key: it succeeds (and zeroes the
// mask) for "va", refuses with HostError (lengths differ) for "vb", and
// does nothing else. A host that read the key twice could check one value's
// length and act on the other.
TEST_CASE("faasmPushStatePartialMask: the value's key flipped between two lengths") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    g.layCanary();
    putKey(g, kKeyA, "va");
    putKey(g, kKeyB, "vb");
    putKey(g, kMask, "mk");
    const std::string ones(16, '\xff');
    g.put(kData, std::string(16, 'v'));
    REQUIRE(g.call("faasmWriteState", {i32(kKeyA), i32(kData), i32(16)}).ok());
    REQUIRE(g.call("faasmWriteState", {i32(kKeyB), i32(kData), i32(8)}).ok());
    g.put(kData + 0x100, ones);
    REQUIRE(g.call("faasmWriteState", {i32(kMask), i32(kData + 0x100), i32(16)}).ok());
    putKey(g, kKey, "va");
    int pushed = 0, refused = 0, other = 0, maskNotZeroed = 0;
    {
      Flipper flip(g.mem() + kKey + 1, {'a'}, {'b'});
      race(
          kRounds / 10, // each refusal prints a line
          [&] {
            Outcome o = g.call("faasmPushStatePartialMask", {i32(kKey), i32(kMask)});
            if (o.ok()) {
              ++pushed;
              REQUIRE(g.call("faasmReadState", {i32(kMask), i32(kData + 0x200), i32(16)}).ok());
              if (std::memcmp(g.mem() + kData + 0x200, std::string(16, '\0').data(), 16) != 0)
                ++maskNotZeroed;
              REQUIRE(g.call("faasmWriteState", {i32(kMask), i32(kData + 0x100), i32(16)}).ok());
            } else if (o.trap == abi::TrapCode::HostError) {
              ++refused;
            } else {
              ++other;
            }
          },
          [&] { return pushed && refused; });
    }
    CHECK(other == 0);
    CHECK(pushed > 0);
    CHECK(refused > 0);
    CHECK(maskNotZeroed == 0);
    // The values themselves are untouched by a push.
    REQUIRE(g.call("faasmReadState", {i32(kKeyA), i32(kData + 0x300), i32(16)}).value == 16);
    CHECK(std::memcmp(g.mem() + kData + 0x300, std::string(16, 'v').data(), 16) == 0);
    CHECK(g.canaryIntact());
    std::filesystem::remove_all(dir);
  }
}

// Either key at the very end of memory without a NUL traps with the pointer
// trap; a mask key longer than the host copies traps HostError; a missing
// mask or value is refused. The mask is never zeroed by a refused push.
TEST_CASE("faasmPushStatePartialMask: hostile and missing keys") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    g.layCanary();
    putKey(g, kKeyA, "va");
    putKey(g, kMask, "mk");
    g.put(kData, std::string(16, '\x01'));
    REQUIRE(g.call("faasmWriteState", {i32(kKeyA), i32(kData), i32(16)}).ok());
    REQUIRE(g.call("faasmWriteState", {i32(kMask), i32(kData), i32(16)}).ok());
    const uint32_t end = uint32_t(g.size() - 2);
    g.put(end, "mk", 2); // no NUL before memory ends
    CHECK(g.call("faasmPushStatePartialMask", {i32(end), i32(kMask)}).pointerTrap());
    CHECK(g.call("faasmPushStatePartialMask", {i32(kKeyA), i32(end)}).pointerTrap());
    CHECK(g.call("faasmPushStatePartialMask", {i32(kKeyA), i32(0xFFFFFFF0u)}).pointerTrap());
    std::string longKey(2000, 'k');
    putKey(g, 0x1000, longKey);
    CHECK(g.call("faasmPushStatePartialMask", {i32(kKeyA), i32(0x1000)}).trap ==
          abi::TrapCode::HostError);
    putKey(g, kKeyB, "absent");
    CHECK(g.call("faasmPushStatePartialMask", {i32(kKeyA), i32(kKeyB)}).trap ==
          abi::TrapCode::HostError);
    CHECK(g.call("faasmPushStatePartialMask", {i32(kKeyB), i32(kMask)}).trap ==
          abi::TrapCode::HostError);
    REQUIRE(g.call("faasmReadState", {i32(kMask), i32(kData + 0x100), i32(16)}).value == 16);
    CHECK(std::memcmp(g.mem() + kData + 0x100, std::string(16, '\x01').data(), 16) == 0);
    CHECK(!std::filesystem::exists(dir + "/faasm-mallory/absent"));
    CHECK(g.canaryIntact());
    std::filesystem::remove_all(dir);
  }
}
