// The Redis tier's pull reads GETRANGE replies off the socket itself, straight
// into its buffer (RedisStore.cpp, "chunks read into place"). These cases
// attack that reader: a scripted server (FakeRedis, speaking RESP on a
// loopback port) answers a pull with a reply cut mid-bulk, an error reply in
// the middle of the pipeline, a bulk longer than asked or not ended by CRLF,
// a value whose length changes between the version check and the chunks, a
// short chunk under an unchanged version, a stalled reply; and a real
// redis-server (skipped if missing) is killed in the middle of a 64 MiB pull.
// In every case the pull either succeeds with one whole version or fails
// with one line, leaving the replica's bytes, size and synced version as they
// were; and the next pull on the same store reads its own replies.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "faasm/redis/RedisStore.h"
#include "faasm/state/LocalState.h"
#include "faasm/test/Skip.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace st = faasm::state;
namespace rd = faasm::redis;
using Command = std::vector<std::string>;

std::string bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}
std::string integer(long long n) {
  return ":" + std::to_string(n) + "\r\n";
}

// What the server does after sending a reply.
enum class Then { Go, Close, Stall };

// A RESP server on 127.0.0.1, one connection at a time, answering each
// command through `handler` (which runs on the server's thread, under mu).
class FakeRedis {
public:
  using Handler = std::function<std::string(const Command&, Then&)>;
  explicit FakeRedis(Handler handler) : handler_(std::move(handler)) {
    listen_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    REQUIRE(listen(listen_, 8) == 0);
    REQUIRE(pipe(stop_) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeRedis() {
    (void)!write(stop_[1], "x", 1);
    thread_.join();
    close(listen_);
    close(stop_[0]);
    close(stop_[1]);
  }
  uint16_t port = 0;
  std::atomic<int> connections{0};
  std::mutex mu;

private:
  bool waitReadable(int fd) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    while (poll(p, 2, -1) < 0)
      if (errno != EINTR) return false;
    return !(p[1].revents & POLLIN);
  }
  void serve() {
    while (waitReadable(listen_)) {
      int c = accept4(listen_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections;
      conversation(c);
      close(c);
    }
  }
  // Reads commands (RESP arrays of bulk strings) and answers them.
  void conversation(int c) {
    std::string in;
    size_t at = 0;
    auto more = [&]() {
      if (!waitReadable(c)) return false;
      char buf[65536];
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, size_t(n));
      return true;
    };
    auto line = [&](std::string& out) {
      for (;;) {
        size_t e = in.find("\r\n", at);
        if (e != std::string::npos) {
          out = in.substr(at, e - at);
          at = e + 2;
          return true;
        }
        if (!more()) return false;
      }
    };
    for (;;) {
      std::string l;
      if (!line(l) || l.empty() || l[0] != '*') return;
      Command cmd(std::stoul(l.substr(1)));
      for (std::string& arg : cmd) {
        if (!line(l) || l.empty() || l[0] != '$') return;
        size_t n = std::stoul(l.substr(1));
        while (in.size() < at + n + 2)
          if (!more()) return;
        arg = in.substr(at, n);
        at += n + 2;
      }
      if (at > (1u << 20)) {
        in.erase(0, at);
        at = 0;
      }
      Then then = Then::Go;
      std::string out;
      {
        std::lock_guard lock(mu);
        out = handler_(cmd, then);
      }
      for (size_t sent = 0; sent < out.size();) {
        ssize_t n = send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += size_t(n);
      }
      if (then == Then::Close) return;
      if (then == Then::Stall) { // until the client gives up and closes
        while (more()) {
        }
        return;
      }
    }
  }

  Handler handler_;
  int listen_ = -1, stop_[2] = {-1, -1};
  std::thread thread_;
};

// One value as a Redis holding it answers the store's commands; `fault`
// may replace the reply to the nth GETRANGE (counted from 1 over the
// server's life) and say what to do after it.
struct Model {
  std::string epoch = "5eed", value;
  long long n = 1;
  int getranges = 0;
  std::function<bool(int nth, const Command&, std::string& reply, Then&)> fault;
  std::string answer(const Command& c, Then& then) {
    const std::string& op = c[0];
    if (op == "HMGET") return "*2\r\n" + bulk(epoch) + bulk(std::to_string(n));
    if (op == "STRLEN") return integer((long long)value.size());
    if (op == "EXISTS") return integer(1);
    if (op == "GETRANGE") {
      ++getranges;
      std::string reply;
      if (fault && fault(getranges, c, reply, then)) return reply;
      long long from = std::stoll(c[2]), to = std::stoll(c[3]);
      long long size = (long long)value.size();
      if (from >= size) return bulk("");
      to = std::min(to, size - 1);
      return bulk(value.substr(size_t(from), size_t(to - from + 1)));
    }
    if (op == "SCRIPT") return bulk(std::string(40, 'a'));
    return "-ERR this server runs no scripts\r\n";
  }
};

std::string pattern(size_t size, unsigned seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = char((i * 131 + seed * 7 + (i >> 12)) & 0xff);
  return s;
}

const uint64_t kChunk = 256 << 10;

// As in every process that uses the store (the scheduler, the zygote, the
// worker): a write to a server that went away is EPIPE, not a signal.
const bool kSigpipeIgnored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;

// A state directory of its own, the replica of u/k holding `old` with a
// synced version, and a store pointed at `port`.
struct Fixture {
  std::string dir;
  std::unique_ptr<st::StateStore> store;
  st::StateObject* object = nullptr;
  std::string old = pattern(300 << 10, 9);
  uint64_t oldVersion = 0x1234;
  explicit Fixture(uint16_t port, int timeoutMs = 2000) {
    char tmpl[] = "/dev/shm/faasm-redis-pull.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    st::LocalStateStore::instance().setDirectory(dir);
    rd::RedisOptions o;
    o.endpoint = {"127.0.0.1", port};
    o.timeout = std::chrono::milliseconds(timeoutMs);
    o.chunkBytes = kChunk;
    store = rd::makeRedisStore(o);
    object = store->local().open("u", "k", true);
    REQUIRE(object);
    REQUIRE(object->setSize(old.size()));
    REQUIRE(object->write(0, reinterpret_cast<const uint8_t*>(old.data()), old.size()));
    object->clearDirty();
    object->setSyncedVersion(oldVersion);
  }
  ~Fixture() {
    store.reset();
    std::string cmd = "rm -rf '" + dir + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  std::string replica() const {
    std::string out(object->size(), '\0');
    REQUIRE(object->read(0, reinterpret_cast<uint8_t*>(out.data()), out.size()));
    return out;
  }
  // The replica is as it was before the failed pull.
  void untouched() const {
    CHECK(object->size() == old.size());
    CHECK(replica() == old);
    CHECK(object->syncedVersion() == oldVersion);
  }
};

// A pull that must fail with one line naming the key and `what`.
void failsWith(Fixture& f, const std::string& what) {
  st::Outcome o = f.store->pull("u", "k", *f.object);
  CHECK_FALSE(o.ok());
  INFO("message: " << o.message);
  CHECK(o.message.find("global state of u/k: redis 127.0.0.1:") == 0);
  CHECK(o.message.find(what) != std::string::npos);
  CHECK(o.message.find('\n') == std::string::npos);
  f.untouched();
}

// After a failure, the same store pulls the whole value right.
void nextPullIsRight(Fixture& f, FakeRedis& server, Model& m) {
  {
    std::lock_guard lock(server.mu);
    m.fault = nullptr;
  }
  st::Outcome o = f.store->pull("u", "k", *f.object);
  INFO("message: " << o.message);
  REQUIRE(o.ok());
  CHECK(f.replica() == m.value);
  CHECK(f.object->syncedVersion() != 0);
  CHECK(f.object->syncedVersion() != f.oldVersion);
}

struct Served {
  Model model;
  FakeRedis server{[this](const Command& c, Then& t) { return model.answer(c, t); }};
  Served() { model.value = pattern(1 << 20, 1); }
};

} // namespace

TEST_CASE("a pull through a well-behaved server lands the value, then costs no chunks") {
  Served s;
  Fixture f(s.server.port);
  nextPullIsRight(f, s.server, s.model);
  int before = s.model.getranges;
  REQUIRE(f.store->pull("u", "k", *f.object).ok());
  CHECK(s.model.getranges == before);
  // A value that is not a whole number of chunks, and one of a few bytes.
  for (size_t size : {size_t(1 << 20) + 12345, size_t(5)}) {
    {
      std::lock_guard lock(s.server.mu);
      s.model.value = pattern(size, unsigned(size));
      ++s.model.n;
    }
    REQUIRE(f.store->pull("u", "k", *f.object).ok());
    CHECK(f.replica() == s.model.value);
  }
}

TEST_CASE("a reply cut in the middle of a chunk: the pull fails, the replica stays") {
  Served s;
  Fixture f(s.server.port);
  s.model.fault = [](int nth, const Command&, std::string& reply, Then& then) {
    if (nth != 2) return false;
    reply = "$" + std::to_string(kChunk) + "\r\n" + std::string(1000, 'x');
    then = Then::Close;
    return true;
  };
  failsWith(f, "connection lost");
  nextPullIsRight(f, s.server, s.model);
  CHECK(s.server.connections == 2);
}

TEST_CASE("a reply cut inside a chunk's header or its CRLF: the pull fails, the replica stays") {
  for (std::string cut :
       {std::string("$262"), std::string("$262144\r\n") + std::string(kChunk, 'y'),
        std::string("$262144\r\n") + std::string(kChunk, 'y') + "\r"}) {
    Served s;
    Fixture f(s.server.port);
    s.model.fault = [cut](int nth, const Command&, std::string& reply, Then& then) {
      if (nth != 3) return false;
      reply = cut;
      then = Then::Close;
      return true;
    };
    failsWith(f, "connection lost");
    nextPullIsRight(f, s.server, s.model);
  }
}

TEST_CASE("an error reply in the middle of the pipeline: the pull fails, the next reads its own") {
  Served s;
  Fixture f(s.server.port);
  // The other chunks and the version after it are answered as usual, so the
  // connection holds replies the failed pull never read.
  s.model.fault = [](int nth, const Command&, std::string& reply, Then&) {
    if (nth != 2) return false;
    reply = "-ERR injected\r\n";
    return true;
  };
  failsWith(f, "unexpected reply: ERR injected");
  nextPullIsRight(f, s.server, s.model);
  // The connection was dropped rather than read out of step.
  CHECK(s.server.connections == 2);
}

TEST_CASE("replies that are not a chunk: other types, nil, longer than asked, no CRLF") {
  struct Case {
    std::string reply, what;
  };
  for (const Case& c :
       {Case{":7\r\n", "unexpected reply: :7"}, Case{"+OK\r\n", "unexpected reply: +OK"},
        Case{"*1\r\n$1\r\na\r\n", "unexpected reply: *1"}, Case{"$-1\r\n", "unexpected reply: $-1"},
        Case{"$12x\r\n", "unexpected reply: $12x"},
        Case{"$99999999999999999999999\r\n", "unexpected reply"},
        Case{"$262145\r\n" + std::string(262145, 'z') + "\r\n",
             "a chunk of 262145 bytes where 262144 were asked"},
        Case{"$262144\r\n" + std::string(kChunk, 'z') + "XY", "a chunk not followed by CRLF"},
        Case{std::string(5000, '$'), "a line of more than 4096 bytes"}}) {
    Served s;
    Fixture f(s.server.port);
    std::string reply = c.reply;
    s.model.fault = [reply](int nth, const Command&, std::string& out, Then&) {
      if (nth != 2) return false;
      out = reply;
      return true;
    };
    INFO("reply: " << c.reply.substr(0, 40));
    failsWith(f, c.what);
    nextPullIsRight(f, s.server, s.model);
  }
}

TEST_CASE("the value's length changes between the version check and the chunks") {
  Served s;
  Fixture f(s.server.port);
  // Another host rewrites the value (shorter, new bytes, next version) just
  // as the first chunk is asked for: the chunks are the new value's, the
  // last one short, and the version after is not the one before.
  const std::string shorter = pattern(900 << 10, 2);
  s.model.fault = [&](int nth, const Command&, std::string&, Then&) {
    if (nth == 1) {
      s.model.value = shorter;
      ++s.model.n;
    }
    return false;
  };
  st::Outcome o = f.store->pull("u", "k", *f.object);
  INFO("message: " << o.message);
  REQUIRE(o.ok());
  CHECK(f.replica() == shorter); // the retry's, whole
  CHECK(s.model.getranges == 4 + 4);
}

TEST_CASE("a value that grows between the version check and the chunks: retried, whole") {
  Served s;
  Fixture f(s.server.port);
  const std::string longer = pattern((1 << 20) + (100 << 10), 3);
  s.model.fault = [&](int nth, const Command&, std::string&, Then&) {
    if (nth == 3) {
      s.model.value = longer;
      ++s.model.n;
    }
    return false;
  };
  REQUIRE(f.store->pull("u", "k", *f.object).ok());
  CHECK(f.replica() == longer);
}

TEST_CASE("a short chunk under an unchanged version is never taken for the value") {
  Served s;
  Fixture f(s.server.port);
  // A server that keeps answering one chunk short while its version stays:
  // every optimistic attempt is refused, and the fallback script (which this
  // server does not run) fails; nothing partial is ever kept.
  s.model.fault = [](int, const Command& c, std::string& reply, Then&) {
    if (c[2] != "0") return false;
    reply = bulk(std::string(1000, 's'));
    return true;
  };
  failsWith(f, "this server runs no scripts");
}

TEST_CASE("a reply that stalls mid-chunk times out, the replica stays") {
  Served s;
  Fixture f(s.server.port, 300);
  s.model.fault = [](int nth, const Command&, std::string& reply, Then& then) {
    if (nth != 2) return false;
    reply = "$" + std::to_string(kChunk) + "\r\n" + std::string(5000, 'x');
    then = Then::Stall;
    return true;
  };
  failsWith(f, "timed out after 300 ms");
  nextPullIsRight(f, s.server, s.model);
}

TEST_CASE("pullRange: an error reply mid-pipeline fails it, and the next pull reads its own") {
  Served s;
  Fixture f(s.server.port);
  nextPullIsRight(f, s.server, s.model);
  const std::string before = f.replica();
  const uint64_t version = f.object->syncedVersion();
  f.object->markDirty(0, 1 << 20); // so that a pull would fetch it again
  s.model.fault = [](int nth, const Command&, std::string& reply, Then&) {
    if (nth != 4 + 2) return false;
    reply = "-ERR injected\r\n";
    return true;
  };
  st::Outcome o = f.store->pullRange("u", "k", *f.object, 0, 1 << 20);
  CHECK_FALSE(o.ok());
  CHECK(o.message.find("unexpected reply: ERR injected") != std::string::npos);
  CHECK(f.replica() == before);
  CHECK(f.object->syncedVersion() == version);
  CHECK_FALSE(f.object->dirtyRuns(1 << 20).empty()); // still to be fetched
  {
    std::lock_guard lock(s.server.mu);
    s.model.fault = nullptr;
  }
  REQUIRE(f.store->pullRange("u", "k", *f.object, 0, 1 << 20).ok());
  CHECK(f.replica() == s.model.value);
  CHECK(s.server.connections == 2);
}

// ----- a real redis-server -------------------------------------------------------------------

namespace {

bool haveRedis() {
  return std::system("command -v redis-server >/dev/null 2>&1") == 0;
}

uint16_t freePort() {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

struct RealRedis {
  pid_t pid = -1;
  uint16_t port;
  std::string dir;
  explicit RealRedis(uint16_t p) : port(p) {
    char tmpl[] = "/tmp/faasm-redis-pull.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    start();
  }
  void start() {
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      std::string portText = std::to_string(port);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      execlp("redis-server", "redis-server", "--port", portText.c_str(), "--bind", "127.0.0.1",
             "--dir", dir.c_str(), "--save", "", "--appendonly", "no", (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 400; ++i) { // until it accepts connections
      int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      close(s);
      if (up) return;
      usleep(25000);
    }
    FAIL("redis-server did not start");
  }
  void kill9() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      pid = -1;
    }
  }
  ~RealRedis() {
    kill9();
    std::string cmd = "rm -rf '" + dir + "'";
    (void)!std::system(cmd.c_str());
  }
};

} // namespace

TEST_CASE("redis-server SIGKILLed during a 64 MiB pull, then restarted empty") {
  if (!haveRedis()) FAASM_SKIP_TEST("redis-server is not installed");
  REQUIRE(kSigpipeIgnored);
  RealRedis redis(freePort());
  Fixture f(redis.port, 5000);
  // The global value: 64 MiB pushed from the replica, then the replica made
  // different and its version forgotten, so that a pull moves every byte.
  const std::string value = pattern(64 << 20, 4);
  REQUIRE(f.object->setSize(value.size()));
  REQUIRE(f.object->write(0, reinterpret_cast<const uint8_t*>(value.data()), value.size()));
  REQUIRE(f.store->push("u", "k", *f.object, "").ok());
  REQUIRE(f.object->setSize(f.old.size()));
  REQUIRE(f.object->write(0, reinterpret_cast<const uint8_t*>(f.old.data()), f.old.size()));
  f.object->clearDirty();
  f.object->setSyncedVersion(f.oldVersion);

  // Killed while the pull runs (how far it got varies: both outcomes are
  // checked to be whole, and which one it was is printed).
  st::Outcome o;
  std::thread puller([&] { o = f.store->pull("u", "k", *f.object); });
  usleep(20000);
  redis.kill9();
  puller.join();
  if (o.ok()) {
    MESSAGE("the pull finished before the kill");
    CHECK(f.replica() == value);
  } else {
    MESSAGE("the pull failed: " << o.message);
    CHECK(o.message.find("global state of u/k") == 0);
    f.untouched();
  }
  // Restarted with no data: the next pull connects again, finds no global
  // value and leaves the replica as it is.
  const std::string replicaBefore = f.replica();
  redis.start();
  REQUIRE(f.store->pull("u", "k", *f.object).ok());
  CHECK(f.replica() == replicaBefore);
}
