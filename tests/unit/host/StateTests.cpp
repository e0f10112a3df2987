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
