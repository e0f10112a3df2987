// The local state tier (faasm/state/LocalState.h) and StateMapping, without
// guests: names, objects, sizes, locks across processes, append lists, a
// value mapped into two linear memories sharing its pages, and tenancy
// (users kept apart, the quota, listing and clearing).
#include <doctest/doctest.h>

#include "faasm/runtime/Memory.h"
#include "faasm/runtime/StateMapping.h"
#include "faasm/state/LocalState.h"

#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace st = faasm::state;
namespace rt = faasm::runtime;
namespace abi = faasm::abi;

namespace {

constexpr const char* kUser = "alice";

struct StoreFixture {
  std::string dir;
  std::unique_ptr<st::LocalStateStore> store;
  StoreFixture() {
    char tmpl[] = "/tmp/faasm-state-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    store = std::make_unique<st::LocalStateStore>(dir);
  }
  ~StoreFixture() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)std::system(cmd.c_str());
  }
  uint64_t fileSize(std::string_view key, std::string_view user = kUser) {
    struct stat s{};
    ::stat(pathOf(user, key).c_str(), &s);
    return uint64_t(s.st_size);
  }
  std::string pathOf(std::string_view user, std::string_view key) {
    return dir + "/" + st::LocalStateStore::userDirectoryName(user) + "/" +
           st::LocalStateStore::nameOf(key);
  }
};

// True if `fd` becomes readable within `ms` milliseconds.
bool readableWithin(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, ms) == 1;
}

} // namespace

TEST_CASE("state: key and user names cannot name a path or each other") {
  using S = st::LocalStateStore;
  CHECK(S::nameOf("weights_1-a") == "weights_1-a");
  CHECK(S::nameOf("../x") == "%2E%2E%2Fx");
  CHECK(S::nameOf("a.append") == "a%2Eappend");
  CHECK(S::nameOf("%41") == "%2541"); // not the name of "A"
  CHECK(S::nameOf("#x") == "%23x");   // not a hashed name
  CHECK(S::nameOf("") == "%");        // a file needs a name; "%" is no escape of anything else
  CHECK(S::userDirectoryName("a/x") == "faasm-a%2Fx");
  std::string longKey(500, 'k');
  std::string name = S::nameOf(longKey);
  CHECK(name.size() == 65);
  CHECK(name[0] == '#');
  CHECK(name != S::nameOf(longKey + "x"));
  // A name 200 bytes long is kept; one byte more is hashed.
  CHECK(S::nameOf(std::string(200, 'k')) == std::string(200, 'k'));
  CHECK(S::nameOf(std::string(201, 'k'))[0] == '#');
  // SHA-256 behind the hashed names: FIPS 180-2's one-million-'a' vector.
  CHECK(S::nameOf(std::string(1000000, 'a')) ==
        "#cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("state: objects are created on demand, sized and copied") {
  StoreFixture f;
  CHECK(f.store->open(kUser, "missing", false) == nullptr);
  st::StateObject* o = f.store->open(kUser, "v", true);
  REQUIRE(o);
  CHECK(o->size() == 0);
  CHECK(f.store->open(kUser, "v", false) == o);
  REQUIRE(o->setSize(5));
  REQUIRE(o->write(0, reinterpret_cast<const uint8_t*>("hello"), 5));
  char buf[5];
  REQUIRE(o->read(0, reinterpret_cast<uint8_t*>(buf), 5));
  CHECK(std::memcmp(buf, "hello", 5) == 0);
  CHECK(f.fileSize("v") == st::kHeaderBytes + abi::kWasmPageSize);
  REQUIRE(o->ensureSize(70000));
  CHECK(o->size() == 70000);
  CHECK(f.fileSize("v") == st::kHeaderBytes + 2 * abi::kWasmPageSize);
  REQUIRE(o->ensureSize(10)); // never shrinks
  CHECK(o->size() == 70000);
  REQUIRE(o->setSize(3)); // a smaller write: the size shrinks, the file does not
  CHECK(o->size() == 3);
  CHECK(f.fileSize("v") == st::kHeaderBytes + 2 * abi::kWasmPageSize);
  // Another store (another process's view) sees the same object.
  st::LocalStateStore other(f.dir);
  st::StateObject* o2 = other.open(kUser, "v", false);
  REQUIRE(o2);
  CHECK(o2->size() == 3);
}

TEST_CASE("state: write locks exclude other processes, read locks share") {
  StoreFixture f;
  st::StateObject* o = f.store->open(kUser, "lock", true);
  REQUIRE(o);
  for (bool childExclusive : {true, false}) {
    int held = o->lock(true);
    REQUIRE(held >= 0);
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t child = fork();
    if (child == 0) {
      // A forked child shares our lock's open file description: drop it, or
      // the lock would outlive our unlock (the zygote caveat of docs/State.md).
      close(held);
      int fd = o->lock(childExclusive);
      (void)!write(p[1], "x", 1);
      st::StateObject::unlock(fd);
      _exit(0);
    }
    CHECK_FALSE(readableWithin(p[0], 200)); // blocked behind our write lock
    st::StateObject::unlock(held);
    CHECK(readableWithin(p[0], 5000));
    int status = 0;
    waitpid(child, &status, 0);
    close(p[0]);
    close(p[1]);
  }
  // Two readers at once.
  int reader = o->lock(false);
  REQUIRE(reader >= 0);
  pid_t child = fork();
  if (child == 0) {
    int fd = o->lock(false);
    _exit(fd >= 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  st::StateObject::unlock(reader);
}

TEST_CASE("state: a lock dies with its holder") {
  StoreFixture f;
  st::StateObject* o = f.store->open(kUser, "dead", true);
  REQUIRE(o);
  pid_t child = fork();
  if (child == 0) {
    (void)o->lock(true);
    _exit(0); // never unlocks
  }
  int status = 0;
  waitpid(child, &status, 0);
  int fd = o->lock(true); // would block for ever if the lock had survived
  CHECK(fd >= 0);
  st::StateObject::unlock(fd);
}

TEST_CASE("state: append lists") {
  StoreFixture f;
  uint8_t out[16] = {};
  CHECK(f.store->readAppended(kUser, "list", out, sizeof out, 3) == 0);
  REQUIRE(f.store->appendElement(kUser, "list", reinterpret_cast<const uint8_t*>("ab"), 2));
  REQUIRE(f.store->appendElement(kUser, "list", reinterpret_cast<const uint8_t*>("cde"), 3));
  REQUIRE(f.store->appendElement(kUser, "list", reinterpret_cast<const uint8_t*>("f"), 1));
  CHECK(f.store->readAppended(kUser, "list", out, sizeof out, 2) == 5);
  CHECK(std::memcmp(out, "abcde", 5) == 0);
  CHECK(f.store->readAppended(kUser, "list", out, 4, 3) == 4); // cut at the buffer
  CHECK(f.store->readAppended(kUser, "list", out, sizeof out, 9) == 6);
  CHECK(std::memcmp(out, "abcdef", 6) == 0);
  REQUIRE(f.store->clearAppended(kUser, "list"));
  CHECK(f.store->readAppended(kUser, "list", out, sizeof out, 3) == 0);
}

TEST_CASE("state: a value mapped into two memories shares its pages") {
  StoreFixture f;
  st::StateObject* o = f.store->open(kUser, "mapped", true);
  REQUIRE(o);
  REQUIRE(o->ensureSize(100000));
  for (abi::BoundsMode mode : {abi::BoundsMode::Guard, abi::BoundsMode::Explicit}) {
    auto a = rt::Memory::create(mode, 1, std::nullopt);
    auto b = rt::Memory::create(mode, 3, std::nullopt);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    auto atA = rt::mapSharedIntoMemory(*a.value(), o->fd(), st::kHeaderBytes, 100000);
    auto atB = rt::mapSharedIntoMemory(*b.value(), o->fd(), st::kHeaderBytes, 100000);
    REQUIRE(atA.ok());
    REQUIRE(atB.ok());
    CHECK(atA.value() == 1 * abi::kWasmPageSize);
    CHECK(atB.value() == 3 * abi::kWasmPageSize);
    CHECK(a.value()->pages() == 3); // 100000 bytes: two wasm pages
    uint8_t* pa = a.value()->base() + atA.value();
    uint8_t* pb = b.value()->base() + atB.value();
    pa[99999] = uint8_t(mode == abi::BoundsMode::Guard ? 7 : 9);
    CHECK(pb[99999] == pa[99999]);
    uint8_t copy = 0;
    REQUIRE(o->read(99999, &copy, 1));
    CHECK(copy == pa[99999]);
    const uint8_t w = 42;
    REQUIRE(o->write(5, &w, 1));
    CHECK(pa[5] == 42);
    CHECK(pb[5] == 42);
  }
}

TEST_CASE("state: users are kept apart and listed") {
  StoreFixture f;
  st::StateObject* a = f.store->open("a", "k", true);
  st::StateObject* b = f.store->open("b", "k", true);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a != b);
  REQUIRE(a->setSize(3));
  CHECK(b->size() == 0);
  CHECK(f.pathOf("a", "k") != f.pathOf("b", "k"));
  REQUIRE(f.store->appendElement("a", "k", reinterpret_cast<const uint8_t*>("x"), 1));
  uint8_t out[4] = {};
  CHECK(f.store->readAppended("b", "k", out, sizeof out, 1) == 0);
  std::vector<std::string> users;
  for (const auto& u : f.store->users())
    users.push_back(u.user);
  CHECK(users == std::vector<std::string>{"a", "b"});
}

TEST_CASE("state: the quota holds while processes grow one user's state at once") {
  StoreFixture f;
  constexpr uint64_t kQuota = 1 << 20;
  constexpr uint64_t kObject = st::kHeaderBytes + abi::kWasmPageSize;
  f.store->setQuota(kQuota);
  constexpr int kChildren = 4;
  pid_t children[kChildren];
  for (int c = 0; c < kChildren; ++c) {
    children[c] = fork();
    if (children[c] == 0) {
      // A store of its own, as another Faaslet process would have.
      st::LocalStateStore store(f.dir, kQuota);
      for (int i = 0;; ++i) {
        st::StateObject* o =
            store.open("u", "c" + std::to_string(c) + "-" + std::to_string(i), true);
        if (!o || !o->ensureSize(100)) _exit(errno == EDQUOT ? 0 : 1);
      }
    }
  }
  for (pid_t child : children) {
    int status = 0;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0); // every child stopped at the quota, nothing else
  }
  uint64_t used = f.store->usage("u");
  CHECK(used <= kQuota);
  CHECK(kQuota - used < kObject); // and the quota was used, not lost to races
  uint64_t onDisk = 0;
  for (const auto& k : f.store->keys("u"))
    onDisk += k.valueBytes + k.appendBytes;
  CHECK(onDisk == used);
}

TEST_CASE("state: growth is charged, removal refunded, a stale ledger never refuses") {
  StoreFixture f;
  constexpr uint64_t kObject = st::kHeaderBytes + abi::kWasmPageSize;
  f.store->setQuota(3 * kObject);
  for (const char* key : {"a", "b", "c"}) {
    st::StateObject* o = f.store->open("u", key, true);
    REQUIRE(o);
    REQUIRE(o->ensureSize(1));
  }
  st::StateObject* d = f.store->open("u", "d", true);
  CHECK(d == nullptr);
  CHECK(errno == EDQUOT);
  CHECK(f.store->usage("u") == 3 * kObject); // the refused object left nothing behind
  // Append lists are charged too.
  std::vector<uint8_t> element(1000, 'e');
  CHECK_FALSE(f.store->appendElement("u", "list", element.data(), uint32_t(element.size())));
  CHECK(errno == EDQUOT);
  REQUIRE(f.store->remove("u", "a"));
  CHECK(f.store->usage("u") == 2 * kObject);
  REQUIRE(f.store->appendElement("u", "list", element.data(), uint32_t(element.size())));
  REQUIRE(f.store->clearAppended("u", "list"));
  CHECK(f.store->usage("u") == 2 * kObject);
  // Files removed behind the store's back leave the ledger overstated: the
  // next growth that seems not to fit counts again and fits.
  REQUIRE(::unlink(f.pathOf("u", "b").c_str()) == 0);
  REQUIRE(::unlink(f.pathOf("u", "c").c_str()) == 0);
  for (const char* key : {"e", "f", "g"}) {
    st::StateObject* o = f.store->open("u", key, true);
    REQUIRE(o);
    CHECK(o->ensureSize(1));
  }
}

TEST_CASE("state: a user directory not made by the store is refused") {
  StoreFixture f;
  std::string dir = f.dir + "/" + st::LocalStateStore::userDirectoryName("eve");
  REQUIRE(::mkdir(dir.c_str(), 0755) == 0); // readable by others: not the store's
  CHECK(f.store->open("eve", "k", true) == nullptr);
  CHECK(errno == EACCES);
  if (geteuid() == 0) {
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    REQUIRE(::chown(dir.c_str(), 65534, 65534) == 0); // someone else's
    CHECK(f.store->open("eve", "k", true) == nullptr);
    CHECK(errno == EACCES);
  }
}

TEST_CASE("state: a quota is a size") {
  using S = st::LocalStateStore;
  CHECK(S::parseSize("4096") == 4096u);
  CHECK(S::parseSize("64K") == 65536u);
  CHECK(S::parseSize("2m") == 2u << 20);
  CHECK(S::parseSize("1G") == 1u << 30);
  CHECK_FALSE(S::parseSize("").has_value());
  CHECK_FALSE(S::parseSize("G").has_value());
  CHECK_FALSE(S::parseSize("-1").has_value());
  CHECK_FALSE(S::parseSize("1T").has_value());
  CHECK_FALSE(S::parseSize("99999999999999999999").has_value());
  CHECK_FALSE(S::parseSize("17179869184G").has_value()); // 2^64 bytes
}
