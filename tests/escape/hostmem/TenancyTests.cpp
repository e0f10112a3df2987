// Escape class "State tenancy" (docs/Security.md): users' state never
// meets, whatever the key names; each user's state on a host is held to a
// quota; a Faaslet that takes a state lock it already holds gets a clear
// error instead of waiting for itself for ever. Through the host functions,
// as a guest would.
#include "Hostile.h"

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>

using namespace hostile;

namespace {

constexpr uint32_t kKey = 0x100, kKey2 = 0x200, kData = 0x1000, kBuf = 0x3000;

// Stderr, collected while it lives (the one-line messages of host errors).
class StderrCapture {
public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = dup(2);
    char tmpl[] = "/tmp/faasm-escape-stderr.XXXXXX";
    file_ = mkstemp(tmpl);
    unlink(tmpl);
    dup2(file_, 2);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    std::string out(65536, '\0');
    ssize_t n = pread(file_, out.data(), out.size(), 0);
    out.resize(n > 0 ? size_t(n) : 0);
    return out;
  }

private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  int file_ = -1;
};

void putKey(Guest& g, uint32_t at, const std::string& key) {
  g.put(at, key.c_str(), key.size() + 1);
}

void writeState(Guest& g, const std::string& key, const std::string& value) {
  putKey(g, kKey, key);
  g.put(kData, value);
  REQUIRE(g.call("faasmWriteState", {i32(kKey), i32(kData), i32(value.size())}).ok());
}

std::string readState(Guest& g, const std::string& key) {
  putKey(g, kKey, key);
  std::memset(g.mem() + kBuf, 0, 256);
  Outcome o = g.call("faasmReadState", {i32(kKey), i32(kBuf), i32(256)});
  REQUIRE(o.ok());
  return std::string(reinterpret_cast<const char*>(g.mem() + kBuf),
                     size_t(std::min<int32_t>(o.value, 256)));
}

ino_t lockInode(Guest& g, const std::string& key) {
  putKey(g, kKey, key);
  REQUIRE(g.call("faasmLockStateWrite", {i32(kKey)}).ok());
  const api::FaasmInstance& self = api::faasmInstanceOf(g.vm());
  REQUIRE(self.writeLocks.size() == 1);
  struct stat st{};
  REQUIRE(fstat(self.writeLocks.begin()->second, &st) == 0);
  REQUIRE(g.call("faasmUnlockStateWrite", {i32(kKey)}).ok());
  return st.st_ino;
}

} // namespace

TEST_CASE("state: two users with the same key see their own values, lists, locks, pages") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest a(mode, "alice"), b(mode, "bob");
    writeState(a, "k", "AAAA");
    putKey(b, kKey, "k");
    CHECK(b.call("faasmReadStateSize", {i32(kKey)}).value == 0);
    writeState(b, "k", "BB");
    CHECK(readState(a, "k") == "AAAA");
    CHECK(readState(b, "k") == "BB");

    // Append lists.
    putKey(a, kKey, "k");
    a.put(kData, std::string("secret"));
    REQUIRE(a.call("faasmAppendState", {i32(kKey), i32(kData), i32(6)}).ok());
    std::memset(b.mem() + kBuf, 0, 16);
    REQUIRE(b.call("faasmReadAppendedState", {i32(kKey), i32(kBuf), i32(16), i32(1)}).ok());
    CHECK(std::string(reinterpret_cast<const char*>(b.mem() + kBuf)) == "");

    // Locks: on different objects, so neither user can block the other.
    CHECK(lockInode(a, "k") != lockInode(b, "k"));

    // Mapped pages: a store by one is not seen by the other.
    putKey(a, kKey, "k");
    putKey(b, kKey, "k");
    Outcome pa = a.call("faasmReadStatePtr", {i32(kKey), i32(4)});
    Outcome pb = b.call("faasmReadStatePtr", {i32(kKey), i32(4)});
    REQUIRE(pa.ok());
    REQUIRE(pb.ok());
    CHECK(std::memcmp(a.mem() + uint32_t(pa.value), "AAAA", 4) == 0);
    CHECK(std::memcmp(b.mem() + uint32_t(pb.value), "BB", 2) == 0);
    a.mem()[uint32_t(pa.value)] = 'Z';
    CHECK(b.mem()[uint32_t(pb.value)] == 'B');
    std::filesystem::remove_all(dir);
  }
}

// Pairs of (user, key) a naive naming ("<user>/<key>", "<user>-<key>",
// "<key>.append" next to "<key>", unescaped "%") would send to one object.
TEST_CASE("state: user and key names never alias one another's objects") {
  struct Pair {
    const char *userA, *keyA, *userB, *keyB;
  };
  const Pair pairs[] = {
      {"a", "b/c", "a/b", "c"},    {"a", "b-c", "a-b", "c"}, {"a", "%41", "a", "A"},
      {"a", "..", "a", "."},       {"a", "x", "a%2Fx", "x"}, {"", "a", "a", ""},
      {"a", "k.append", "a", "k"}, // a value named like another key's append list
  };
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    for (const Pair& p : pairs) {
      INFO((std::string(p.userA) + "/" + p.keyA + " vs " + p.userB + "/" + p.keyB));
      Guest a(mode, p.userA), b(mode, p.userB);
      writeState(a, p.keyA, "first");
      writeState(b, p.keyB, "second");
      // b's append list of keyB, which must not be a's value either.
      putKey(b, kKey, p.keyB);
      b.put(kData, std::string("elem"));
      REQUIRE(b.call("faasmAppendState", {i32(kKey), i32(kData), i32(4)}).ok());
      CHECK(readState(a, p.keyA) == "first");
      CHECK(readState(b, p.keyB) == "second");
    }
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("state: a user's state is held to the quota, with one line naming user, key, limit") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    api::setStateQuota(256 << 10);
    Guest a(mode, "alice"), b(mode, "bob");
    std::string value(60 << 10, 'v'); // 4 KiB header + 64 KiB capacity each
    for (const char* key : {"k1", "k2", "k3"})
      writeState(a, key, value);
    putKey(a, kKey, "k4");
    a.put(kData, value);
    std::string err;
    {
      StderrCapture capture;
      Outcome o = a.call("faasmWriteState", {i32(kKey), i32(kData), i32(value.size())});
      err = capture.text();
      CHECK(o.trap == abi::TrapCode::HostError);
    }
    CHECK(err == "faasm: state quota exceeded: user \"alice\", key \"k4\", limit 262144 bytes\n");
    // Every way of growing state is charged.
    {
      StderrCapture capture;
      CHECK(a.call("faasmReadStatePtr", {i32(kKey), i32(128 << 10)}).trap ==
            abi::TrapCode::HostError);
      CHECK(a.call("faasmPullState", {i32(kKey), i32(128 << 10)}).trap == abi::TrapCode::HostError);
      CHECK(
          a.call("faasmWriteStateOffset", {i32(kKey), i32(128 << 10), i32(0), i32(kData), i32(16)})
              .trap == abi::TrapCode::HostError);
      putKey(a, kKey2, "list");
      CHECK(a.call("faasmAppendState", {i32(kKey2), i32(kData), i32(value.size())}).trap ==
            abi::TrapCode::HostError);
    }
    // What fits still works, and the other user has a quota of their own.
    writeState(a, "k1", "small");
    writeState(b, "k4", value);
    CHECK(readState(b, "k4").size() == 256);
    api::setStateQuota(uint64_t(1) << 30);
    std::filesystem::remove_all(dir);
  }
}

// A lock taken again by the Faaslet holding it would wait for itself: it
// traps at once, with one line, and the lock already held stays held and
// can be released.
TEST_CASE("state: a lock taken twice by one Faaslet is an error, not a hang") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest a(mode, "alice");
    putKey(a, kKey, "k");
    struct Case {
      const char *first, *second, *unlock, *message;
    };
    const Case cases[] = {
        {"faasmLockStateWrite", "faasmLockStateWrite", "faasmUnlockStateWrite",
         "held for writing, asked for writing"},
        {"faasmLockStateRead", "faasmLockStateWrite", "faasmUnlockStateRead",
         "held for reading, asked for writing"},
        {"faasmLockStateWrite", "faasmLockStateRead", "faasmUnlockStateWrite",
         "held for writing, asked for reading"},
        {"faasmLockStateRead", "faasmLockStateRead", "faasmUnlockStateRead",
         "held for reading, asked for reading"},
    };
    for (const Case& c : cases) {
      INFO((std::string(c.first) + " then " + c.second));
      REQUIRE(a.call(c.first, {i32(kKey)}).ok());
      std::string err;
      {
        StderrCapture capture;
        CHECK(a.call(c.second, {i32(kKey)}).trap == abi::TrapCode::HostError);
        err = capture.text();
      }
      CHECK(err == std::string("faasm: state lock taken twice: user \"alice\", key \"k\", ") +
                       c.message + " (it would wait for itself for ever)\n");
      CHECK(api::faasmInstanceOf(a.vm()).writeLocks.size() +
                api::faasmInstanceOf(a.vm()).readLocks.size() ==
            1);
      REQUIRE(a.call(c.unlock, {i32(kKey)}).ok());
    }
    // Nothing is left locked: another Faaslet of the user takes it at once.
    Guest other(mode, "alice");
    putKey(other, kKey, "k");
    CHECK(other.call("faasmLockStateWrite", {i32(kKey)}).ok());
    CHECK(other.call("faasmUnlockStateWrite", {i32(kKey)}).ok());
    std::filesystem::remove_all(dir);
  }
}
