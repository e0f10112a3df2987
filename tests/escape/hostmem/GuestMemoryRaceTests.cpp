// Escape class "Host functions and guest memory" (docs/Security.md): every
// host function that reads a guest structure is raced by a writer flipping
// that structure between valid and hostile values while the function runs
// in a loop, in both bounds modes, the way an attacker would (a second
// thread here; another Faaslet through a shared state page in the last
// tests). The host must never read or write outside linear memory (a
// canary page lies right past it) and must end every call either normally
// or with a HostPointerOutOfBounds trap. Where a structure is interpreted
// (poll subscriptions, state keys, chained names) the outcome must also be
// that of one snapshot of it, never a mixture of two reads.
#include "Hostile.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sched.h>
#include <set>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace hostile;

namespace {

// Guest memory layout of these tests (one 64 KiB page).
constexpr uint32_t kOut = 0x10;    // nwritten/nread, nevents, fd
constexpr uint32_t kIovs = 0x1000; // iovec arrays
constexpr uint32_t kSubs = 0x2000, kEvents = 0x3000;
constexpr uint32_t kPayload = 0x4000, kPayloadEnd = 0x8000; // 'g' bytes
constexpr uint32_t kPath = 0x8000, kPath2 = 0x8100;
constexpr uint32_t kKey = 0x9000, kKeyA = 0x9100, kKeyB = 0x9200;

// Two of the old host's batches of 64: it re-read the second batch from
// guest memory after the system call that moved the first.
constexpr uint32_t kIovCount = 128;
constexpr int kRounds = 20000;

constexpr uint64_t kRightsRw =
    (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6); // read seek tell write
constexpr int32_t kOflagCreat = 1;

struct Iov {
  uint32_t buf, len;
};

// Valid iovecs: 128 buffers of 16 bytes in the payload area. With
// `slowFirst`, the first is 12 KiB, so that the system call moving the
// first batch takes a while (a file has no reader to block on).
std::vector<Iov> validIovecs(bool slowFirst = false) {
  std::vector<Iov> v;
  for (uint32_t i = 0; i < kIovCount; ++i)
    v.push_back({kPayload + i * 16, 16});
  if (slowFirst) v[0] = {kPayload, 0x3000};
  return v;
}

// Hostile iovecs for a host that reads guest memory (fd_write, fd_pwrite):
// into the canary, far past the end (2^31: beyond an explicit-mode
// reservation), near 2^32, and 4 GiB long.
std::vector<Iov> hostileReadIovecs(uint64_t end) {
  std::vector<Iov> v;
  const Iov kinds[] = {{uint32_t(end - 8), 64},
                       {uint32_t(end), 4096},
                       {0x80000000u, 4096},
                       {0xFFFFFFF0u, 64},
                       {kPayload, 0xFFFFFFFFu}};
  for (uint32_t i = 0; i < kIovCount; ++i)
    v.push_back(kinds[i % 5]);
  return v;
}

// Hostile iovecs for a host that writes guest memory (fd_read, fd_pread):
// into the canary page only, so an old host corrupts nothing but it.
std::vector<Iov> hostileWriteIovecs(uint64_t end) {
  std::vector<Iov> v;
  const Iov kinds[] = {
      {uint32_t(end - 8), 64}, {uint32_t(end), 4096}, {uint32_t(end - 4096), 8192}};
  for (uint32_t i = 0; i < kIovCount; ++i)
    v.push_back(kinds[i % 3]);
  return v;
}

// Runs `round` at least `rounds` times, and on until `raced()` says the
// calls saw both values the flipper writes (it really ran meanwhile: on a
// loaded machine it may not get a CPU at once), at most 50 times as long.
template <typename Round, typename Raced> void race(int rounds, Round round, Raced raced) {
  for (int i = 0; i < rounds * 50; ++i) {
    round();
    if (i + 1 >= rounds && raced()) return;
  }
}

void fillPayload(Guest& g) {
  std::memset(g.mem() + kPayload, 'g', kPayloadEnd - kPayload);
}

// Reads a pipe to its end on a thread, counting canary bytes. It reads in
// small pieces, so the pipe fills and writers block in the middle of calls.
class Drainer {
public:
  explicit Drainer(int fd) : fd_(fd) {
    thread_ = std::thread([this] {
      uint8_t buf[512];
      for (;;) {
        ssize_t n = read(fd_, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        total += uint64_t(n);
        canaryBytes += uint64_t(std::count(buf, buf + n, kCanary));
      }
    });
  }
  void join() { thread_.join(); }
  std::atomic<uint64_t> total{0}, canaryBytes{0};

private:
  int fd_;
  std::thread thread_;
};

// Every call ended normally with errno 0 or with the pointer trap, and at
// least one of each happened (both the valid and the hostile value were seen).
struct Tally {
  int ok = 0, pointerTraps = 0, other = 0;
  std::map<std::string, int> others;
  void add(const Outcome& o) {
    if (o.succeeded())
      ++ok;
    else if (o.pointerTrap())
      ++pointerTraps;
    else {
      ++other;
      ++others[o.ok() ? "errno " + std::to_string(o.value)
                      : "trap " + std::string(abi::trapMessage(o.trap))];
    }
  }
  bool raced() const { return ok > 0 && pointerTraps > 0; }
  std::string describe() const {
    std::string s = "ok " + std::to_string(ok) + ", pointer traps " + std::to_string(pointerTraps);
    for (auto& [what, n] : others)
      s += ", " + what + " x" + std::to_string(n);
    return s;
  }
};

void checkTally(const Tally& t) {
  INFO(t.describe());
  CHECK(t.other == 0);
  CHECK(t.ok > 0);
  CHECK(t.pointerTraps > 0);
}

// A preopened temporary directory as guest fd 3, and a file in it opened
// through path_open (the guest's way) as the returned guest fd.
int32_t openInPreopen(Guest& g, const std::string& dir, const std::string& name) {
  REQUIRE(g.wasi->addPreopen(dir, "/data").empty());
  g.put(kPath, name);
  Outcome o = g.call("path_open", {i32(3), i32(0), i32(kPath), i32(name.size()), i32(kOflagCreat),
                                   i64(kRightsRw), i64(kRightsRw), i32(0), i32(kOut)});
  REQUIRE(o.succeeded());
  return int32_t(g.u32(kOut));
}

} // namespace

TEST_CASE("fd_write: iovecs flipped to hostile values never make the host read past memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    fillPayload(g);
    int p[2];
    REQUIRE(pipe(p) == 0);
    g.wasi->stdioFds[1] = p[1];
    Drainer drainer(p[0]);
    Tally tally;
    uint64_t written = 0;
    {
      Flipper flip(g.mem() + kIovs, bytesOf(validIovecs()), bytesOf(hostileReadIovecs(g.size())));
      race(
          kRounds,
          [&] {
            Outcome o = g.call("fd_write", {i32(1), i32(kIovs), i32(kIovCount), i32(kOut)});
            tally.add(o);
            if (o.succeeded()) written += g.u32(kOut);
          },
          [&] { return tally.raced(); });
    }
    close(p[1]);
    drainer.join();
    close(p[0]);
    checkTally(tally);
    CHECK(drainer.canaryBytes == 0);
    CHECK(drainer.total == written); // what the host said it wrote, and no more
    CHECK(g.canaryIntact());
  }
}

TEST_CASE("fd_read: iovecs flipped to hostile values never make the host write past memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    REQUIRE(zero >= 0);
    g.wasi->stdioFds[0] = zero;
    Tally tally;
    {
      Flipper flip(g.mem() + kIovs, bytesOf(validIovecs()), bytesOf(hostileWriteIovecs(g.size())));
      race(
          kRounds,
          [&] { tally.add(g.call("fd_read", {i32(0), i32(kIovs), i32(kIovCount), i32(kOut)})); },
          [&] { return tally.raced(); });
    }
    close(zero);
    checkTally(tally);
    CHECK(g.canaryIntact());
  }
}

TEST_CASE("fd_pwrite: iovecs flipped to hostile values never make the host read past memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = tempDirectory();
    Guest g(mode);
    g.layCanary();
    fillPayload(g);
    int32_t fd = openInPreopen(g, dir, "out.bin");
    int host = open((dir + "/out.bin").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(host >= 0);
    Tally tally;
    uint64_t leaked = 0;
    {
      Flipper flip(g.mem() + kIovs, bytesOf(validIovecs(true)),
                   bytesOf(hostileReadIovecs(g.size())));
      std::vector<uint8_t> file(1 << 20);
      race(
          kRounds,
          [&] {
            tally.add(
                g.call("fd_pwrite", {i32(fd), i32(kIovs), i32(kIovCount), i64(0), i32(kOut)}));
            ssize_t n = pread(host, file.data(), file.size(), 0);
            if (n > 0) leaked += uint64_t(std::count(file.begin(), file.begin() + n, kCanary));
          },
          [&] { return tally.raced(); });
    }
    close(host);
    checkTally(tally);
    CHECK(leaked == 0);
    CHECK(g.canaryIntact());
    std::filesystem::remove_all(dir);
  }
}

TEST_CASE("fd_pread: iovecs flipped to hostile values never make the host write past memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = tempDirectory();
    {
      std::string content(1 << 16, 'w');
      int fd = open((dir + "/in.bin").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      REQUIRE(write(fd, content.data(), content.size()) == ssize_t(content.size()));
      close(fd);
    }
    Guest g(mode);
    g.layCanary();
    int32_t fd = openInPreopen(g, dir, "in.bin");
    Tally tally;
    {
      Flipper flip(g.mem() + kIovs, bytesOf(validIovecs(true)),
                   bytesOf(hostileWriteIovecs(g.size())));
      race(
          kRounds,
          [&] {
            tally.add(g.call("fd_pread", {i32(fd), i32(kIovs), i32(kIovCount), i64(0), i32(kOut)}));
          },
          [&] { return tally.raced(); });
    }
    checkTally(tally);
    CHECK(g.canaryIntact());
    std::filesystem::remove_all(dir);
  }
}

// No race needed: the first buffer of a read is the iovec entry the host
// reaches next, so the bytes read rewrite it. A host that reads the array
// again after the first transfer (the old batched readv) then writes into the
// canary; one that copied the array first writes where the entry said.
TEST_CASE("fd_read and fd_pread: a read that rewrites later iovec entries changes nothing") {
  for (abi::BoundsMode mode : kModes) {
    for (bool positioned : {false, true}) {
      INFO((std::string(modeName(mode)) + (positioned ? " fd_pread" : " fd_read")));
      std::string dir = tempDirectory();
      Guest g(mode);
      g.layCanary();
      // What the read delivers: a hostile entry {end - 8, 64}, then 16 'x'.
      Iov hostileEntry{uint32_t(g.size() - 8), 64};
      std::string data(reinterpret_cast<const char*>(&hostileEntry), 8);
      data += std::string(16, 'x');
      int host = open((dir + "/evil.bin").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      REQUIRE(write(host, data.data(), data.size()) == ssize_t(data.size()));
      REQUIRE(lseek(host, 0, SEEK_SET) == 0);
      // [0] reads 8 bytes over entry [64]; [1..63] are empty; [64] = 16 bytes at 0x5000.
      std::vector<Iov> iovs(65, Iov{kPayload, 0});
      iovs[0] = {kIovs + 64 * 8, 8};
      iovs[64] = {0x5000, 16};
      g.put(kIovs, iovs.data(), iovs.size() * 8);
      Outcome o;
      if (positioned) {
        int32_t fd = openInPreopen(g, dir, "evil.bin");
        o = g.call("fd_pread", {i32(fd), i32(kIovs), i32(65), i64(0), i32(kOut)});
      } else {
        g.wasi->stdioFds[0] = host;
        o = g.call("fd_read", {i32(0), i32(kIovs), i32(65), i32(kOut)});
      }
      CHECK(o.succeeded());
      CHECK(g.u32(kOut) == 24);
      CHECK(std::memcmp(g.mem() + 0x5000, std::string(16, 'x').data(), 16) == 0);
      CHECK(g.canaryIntact());
      close(host);
      std::filesystem::remove_all(dir);
    }
  }
}

// One subscription flips between a clock (id 1, 1 us) and an fd_read of fd
// 1; the other is a clock of 1 us too. Either snapshot gives exactly one
// event, for the first subscription, of the type it had: a host that reads
// the tag twice (once to decide whether to sleep, once to report, with the
// sleep in between) gives none or two.
TEST_CASE("poll_oneoff: a subscription flipped between clock and fd is read once") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    uint8_t subs[96] = {};
    uint64_t a = 0xAAAA, b = 0xBBBB, timeout = 1000;
    uint32_t one = 1;
    std::memcpy(subs, &a, 8);
    std::memcpy(subs + 16, &one, 4); // clock id 1 / fd 1
    std::memcpy(subs + 24, &timeout, 8);
    std::memcpy(subs + 48, &b, 8);
    std::memcpy(subs + 48 + 16, &one, 4);
    std::memcpy(subs + 48 + 24, &timeout, 8);
    g.put(kSubs, subs, sizeof subs);
    int wrongCount = 0, wrongEvent = 0, failed = 0;
    std::set<int> types;
    {
      Flipper flip(g.mem() + kSubs + 8, {0}, {1}); // the tag byte: clock, fd_read
      race(
          kRounds / 2,
          [&] {
            Outcome o = g.call("poll_oneoff", {i32(kSubs), i32(kEvents), i32(2), i32(kOut)});
            if (!o.succeeded()) {
              ++failed;
              return;
            }
            if (g.u32(kOut) != 1) {
              ++wrongCount;
              return;
            }
            uint64_t userdata;
            std::memcpy(&userdata, g.mem() + kEvents, 8);
            uint8_t type = g.mem()[kEvents + 10];
            if (userdata != a || type > 1) ++wrongEvent;
            types.insert(type);
          },
          [&] { return types.size() == 2; });
    }
    CHECK(failed == 0);
    CHECK(wrongCount == 0);
    CHECK(wrongEvent == 0);
    CHECK(types.size() == 2); // both snapshots were seen
    CHECK(g.canaryIntact());
  }
}

// Paths flip between a name inside the preopen and one leading out of it,
// of the same length. Whatever the timing, nothing outside is created,
// renamed or removed, and no call traps.
TEST_CASE("path functions: a path flipped between inside and outside the preopen") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string root = tempDirectory();
    std::filesystem::create_directories(root + "/inside");
    std::filesystem::create_directories(root + "/outside");
    {
      std::ofstream(root + "/outside/x") << "keep";
    }
    Guest g(mode);
    g.layCanary();
    REQUIRE(g.wasi->addPreopen(root + "/inside", "/data").empty());
    const std::string in = "aaaaaaaaaaaa", out = "../outside/x"; // 12 bytes each
    const std::string in2 = "bbbbbbbbbbbb", out2 = "../outside/y";
    g.put(kPath, in);
    g.put(kPath2, in2);
    int traps = 0;
    bool refused = false, opened = false;
    {
      Flipper flip(g.mem() + kPath, std::vector<uint8_t>(in.begin(), in.end()),
                   std::vector<uint8_t>(out.begin(), out.end()));
      Flipper flip2(g.mem() + kPath2, std::vector<uint8_t>(in2.begin(), in2.end()),
                    std::vector<uint8_t>(out2.begin(), out2.end()));
      auto round = [&] {
        std::vector<Outcome> outcomes;
        Outcome o = g.call("path_open", {i32(3), i32(0), i32(kPath), i32(12), i32(kOflagCreat),
                                         i64(kRightsRw), i64(kRightsRw), i32(0), i32(kOut)});
        if (o.succeeded()) outcomes.push_back(g.call("fd_close", {i32(g.u32(kOut))}));
        opened |= o.succeeded();
        refused |= o.ok() && o.value == 76; // ENOTCAPABLE
        outcomes.push_back(o);
        outcomes.push_back(
            g.call("path_filestat_get", {i32(3), i32(0), i32(kPath), i32(12), i32(0x100)}));
        outcomes.push_back(
            g.call("path_rename", {i32(3), i32(kPath), i32(12), i32(3), i32(kPath2), i32(12)}));
        outcomes.push_back(
            g.call("path_rename", {i32(3), i32(kPath2), i32(12), i32(3), i32(kPath), i32(12)}));
        outcomes.push_back(
            g.call("path_readlink", {i32(3), i32(kPath), i32(12), i32(0x200), i32(64), i32(kOut)}));
        outcomes.push_back(g.call("path_unlink_file", {i32(3), i32(kPath), i32(12)}));
        outcomes.push_back(g.call("path_create_directory", {i32(3), i32(kPath2), i32(12)}));
        outcomes.push_back(g.call("path_remove_directory", {i32(3), i32(kPath2), i32(12)}));
        for (const Outcome& each : outcomes)
          traps += !each.ok();
      };
      race(kRounds / 20, round, [&] { return opened && refused; });
    }
    CHECK(traps == 0);
    CHECK(opened);
    CHECK(refused);
    std::set<std::string> outside;
    for (auto& e : std::filesystem::directory_iterator(root + "/outside"))
      outside.insert(e.path().filename());
    CHECK(outside == std::set<std::string>{"x"});
    std::ifstream kept(root + "/outside/x");
    std::string content;
    kept >> content;
    CHECK(content == "keep");
    CHECK(g.canaryIntact());
    std::filesystem::remove_all(root);
  }
}

namespace {

// The object file of `user`'s `key` (plain names), in this layout
// (faasm-<user>/<key>) or the flat one before users (faasm-<key>).
std::string statePath(const std::string& dir, const std::string& user, const std::string& key) {
  std::string perUser = dir + "/faasm-" + user + "/" + key;
  return std::filesystem::exists(perUser) ? perUser : dir + "/faasm-" + key;
}

std::vector<std::string> stateFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.')
      names.push_back(e.path().filename());
  return names;
}

} // namespace

// The key lies at the very end of memory and flips between "ka" and "kbx",
// which has no NUL before memory ends. Every state function either uses
// "ka" or traps with the pointer trap; no object of any other name appears.
TEST_CASE("state functions: a key flipped to run off the end of memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    fillPayload(g);
    const uint32_t at = uint32_t(g.size() - 3);
    g.put(at, std::string("ka", 3));
    g.put(kKeyA, std::string("ka", 3));
    struct Call {
      const char* name;
      std::vector<abi::Value> args;
    };
    const std::vector<Call> calls = {
        {"faasmReadStateSize", {i32(at)}},
        {"faasmReadState", {i32(at), i32(0x4000), i32(64)}},
        {"faasmReadStateOffset", {i32(at), i32(64), i32(0), i32(0x4000), i32(16)}},
        {"faasmWriteState", {i32(at), i32(0x4000), i32(64)}},
        {"faasmWriteStateOffset", {i32(at), i32(64), i32(8), i32(0x4000), i32(16)}},
        {"faasmFlagStateDirty", {i32(at), i32(64)}},
        {"faasmPushState", {i32(at)}},
        {"faasmPushStatePartial", {i32(at)}},
        {"faasmPullState", {i32(at), i32(64)}},
        {"faasmAppendState", {i32(at), i32(0x4000), i32(8)}},
        {"faasmReadAppendedState", {i32(at), i32(0x4100), i32(64), i32(2)}},
        {"faasmClearAppendedState", {i32(at)}},
        {"faasmUnlockStateRead", {i32(at)}},
        {"faasmUnlockStateWrite", {i32(at)}},
        {"faasmLockStateRead", {i32(at)}},
        {"faasmUnlockStateRead", {i32(kKeyA)}},
        {"faasmLockStateWrite", {i32(at)}},
        {"faasmUnlockStateWrite", {i32(kKeyA)}},
    };
    std::map<std::string, std::pair<int, int>> seen; // name -> (ok, pointer traps)
    int other = 0;
    {
      Flipper flip(g.mem() + at + 1, {'a', 0}, {'b', 'x'});
      race(
          kRounds / 50,
          [&] {
            for (const Call& c : calls) {
              Outcome o = g.call(c.name, c.args);
              if (o.ok())
                ++seen[c.name].first;
              else if (o.pointerTrap())
                ++seen[c.name].second;
              else
                ++other;
            }
          },
          [&] { return seen["faasmWriteState"].first && seen["faasmWriteState"].second; });
    }
    CHECK(other == 0);
    CHECK(seen["faasmWriteState"].first > 0);
    CHECK(seen["faasmWriteState"].second > 0);
    for (const std::string& name : stateFiles(dir)) {
      INFO(name);
      CHECK(
          (name == "ka" || name == "ka.append" || name == "faasm-ka" || name == "faasm-ka.append"));
    }
    std::filesystem::remove_all(dir);
  }
}

// The key flips between "ka" and "kb". A write lock taken through it must be
// recorded under the key of the object it locks: a host that opens the
// object with one read of the key and records the lock with another would
// later release (or report at a zygote check) the wrong lock.
TEST_CASE("faasmLockStateWrite: the lock recorded is the lock taken") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    g.put(kKey, std::string("ka", 3));
    g.put(kKeyA, std::string("ka", 3));
    g.put(kKeyB, std::string("kb", 3));
    REQUIRE(g.call("faasmPullState", {i32(kKeyA), i32(8)}).ok()); // both objects exist
    REQUIRE(g.call("faasmPullState", {i32(kKeyB), i32(8)}).ok());
    ino_t inode[2];
    for (int k = 0; k < 2; ++k) {
      struct stat st{};
      REQUIRE(stat(statePath(dir, "mallory", k ? "kb" : "ka").c_str(), &st) == 0);
      inode[k] = st.st_ino;
    }
    int mismatched = 0, failed = 0;
    std::set<std::string> keys;
    {
      Flipper flip(g.mem() + kKey + 1, {'a'}, {'b'});
      auto round = [&] {
        if (!g.call("faasmLockStateWrite", {i32(kKey)}).ok()) {
          ++failed;
          return;
        }
        const api::FaasmInstance& self = api::faasmInstanceOf(g.vm());
        REQUIRE(self.writeLocks.size() == 1);
        std::string key = self.writeLocks.begin()->first;
        int fd = self.writeLocks.begin()->second;
        keys.insert(key);
        struct stat st{};
        REQUIRE(fstat(fd, &st) == 0);
        if (st.st_ino != inode[key == "kb"]) ++mismatched;
        // Released through a key that does not flip.
        REQUIRE(g.call("faasmUnlockStateWrite", {i32(key == "kb" ? kKeyB : kKeyA)}).ok());
      };
      race(kRounds / 10, round, [&] { return keys.size() == 2; });
    }
    CHECK(failed == 0);
    CHECK(mismatched == 0);
    CHECK(keys.size() == 2);
    std::filesystem::remove_all(dir);
  }
}

// Values "ka" (all 'A') and "kb" (all 'B'); the key flips between them while
// faasmReadStatePtr maps it. Every mapping the instance remembers must show
// its own key's value: a host that maps one key and records another hands
// the next caller of that key the wrong value. faasmReadStatePtr and
// faasmReadStateOffsetPtr take turns.
TEST_CASE(
    "faasmReadStatePtr, faasmReadStateOffsetPtr: the mapping remembered is the value mapped") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    g.put(kKey, std::string("ka", 3));
    g.put(kKeyA, std::string("ka", 3));
    g.put(kKeyB, std::string("kb", 3));
    std::memset(g.mem() + 0x4000, 'A', 16);
    std::memset(g.mem() + 0x4100, 'B', 16);
    REQUIRE(g.call("faasmWriteState", {i32(kKeyA), i32(0x4000), i32(16)}).ok());
    REQUIRE(g.call("faasmWriteState", {i32(kKeyB), i32(0x4100), i32(16)}).ok());
    int wrong = 0, failed = 0, round = 0;
    const auto& mappings = api::faasmInstanceOf(g.vm()).mappings;
    {
      Flipper flip(g.mem() + kKey + 1, {'a'}, {'b'});
      race(
          kRounds / 10,
          [&] {
            if (failed || wrong) return;
            // Both mapping calls, by turns.
            Outcome o = (round++ % 2) ? g.call("faasmReadStatePtr", {i32(kKey), i32(16)})
                                      : g.call("faasmReadStateOffsetPtr",
                                               {i32(kKey), i32(16), i32(4), i32(8)});
            if (!o.ok()) ++failed;
            for (const auto& [key, mapping] : mappings)
              if (g.mem()[mapping.guestAddress] != (key == "ka" ? 'A' : 'B')) ++wrong;
          },
          [&] { return mappings.size() == 2 || failed || wrong; });
    }
    CHECK(failed == 0);
    CHECK(wrong == 0);
    CHECK(mappings.size() == 2);
    std::filesystem::remove_all(dir);
  }
}

// The callee's name flips between "fa" and "fb" while the embedder's chain
// callback looks at it as an embedder may (check it, then use it): it must
// see one name, unchanging, for the whole call.
TEST_CASE("faasmChainNamed: the name the embedder sees does not change under it") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.put(kKey, std::string("fa", 3));
    int torn = 0, calls = 0;
    std::set<char> names;
    g.callContext->chain = [&](std::string_view name, std::span<const uint8_t>) -> uint32_t {
      ++calls;
      if (name.size() != 2 || name[0] != 'f') ++torn;
      names.insert(name[1]);
      // Volatile: each read is a real read, as an embedder's second look
      // (after some work of its own, here a yield) is.
      const volatile char* bytes = name.data();
      char first = bytes[1];
      sched_yield();
      for (int i = 0; i < 2000; ++i)
        if (bytes[1] != first) {
          ++torn;
          break;
        }
      return 1;
    };
    {
      Flipper flip(g.mem() + kKey + 1, {'a'}, {'b'});
      race(
          kRounds / 10,
          [&] { CHECK(g.call("faasmChainNamed", {i32(kKey), i32(0x4000), i32(16)}).value == 1); },
          [&] { return names.size() == 2; });
    }
    CHECK(names.size() == 2);
    CHECK(torn == 0);
  }
}

// Another Faaslet shares the page holding the iovecs: the array lies in a
// state value mapped with faasmReadStatePtr, and a second process (forked
// after the mapping, so its view of the page is the same shared mapping
// another Faaslet's would be) flips the entries. Same outcome required.
TEST_CASE("fd_write and fd_read: iovecs in a shared state page flipped by another process") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    Guest g(mode);
    fillPayload(g);
    g.put(kKey, std::string("iovecs", 7));
    Outcome mapped = g.call("faasmReadStatePtr", {i32(kKey), i32(4096)});
    REQUIRE(mapped.ok());
    const uint32_t shared = uint32_t(mapped.value);
    REQUIRE(shared >= kPage); // in the pages the mapping added
    g.layCanary();
    std::vector<uint8_t> valid = bytesOf(validIovecs());
    std::vector<uint8_t> hostileRead = bytesOf(hostileReadIovecs(g.size()));
    std::vector<uint8_t> hostileWrite = bytesOf(hostileWriteIovecs(g.size()));
    for (bool reading : {false, true}) {
      INFO(std::string(reading ? "fd_read" : "fd_write"));
      g.put(shared, valid.data(), valid.size());
      pid_t child = fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        const std::vector<uint8_t>& bad = reading ? hostileWrite : hostileRead;
        for (;;) {
          std::memcpy(g.mem() + shared, valid.data(), valid.size());
          asm volatile("" ::: "memory");
          std::memcpy(g.mem() + shared, bad.data(), bad.size());
          asm volatile("" ::: "memory");
        }
      }
      int p[2];
      REQUIRE(pipe(p) == 0);
      int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
      g.wasi->stdioFds[0] = zero;
      g.wasi->stdioFds[1] = p[1];
      Drainer drainer(p[0]);
      Tally tally;
      race(
          kRounds,
          [&] {
            tally.add(reading
                          ? g.call("fd_read", {i32(0), i32(shared), i32(kIovCount), i32(kOut)})
                          : g.call("fd_write", {i32(1), i32(shared), i32(kIovCount), i32(kOut)}));
          },
          [&] { return tally.raced(); });
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      close(p[1]);
      drainer.join();
      close(p[0]);
      close(zero);
      checkTally(tally);
      CHECK(drainer.canaryBytes == 0);
      CHECK(g.canaryIntact());
    }
    std::filesystem::remove_all(dir);
  }
}
