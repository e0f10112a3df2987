// Escape class "Host functions and guest memory" (docs/Security.md), the
// WASI preview1 functions added for all of the witx (fd_renumber,
// fd_fdstat_set_rights, fd_filestat_set_times, path_filestat_set_times,
// path_link, path_symlink, sock_*, proc_raise, and fd_readdir beside them):
//   - hostile pointers and lengths (straddling the end, at the end, near
//     2^32, 4 GiB long) trap with the pointer trap before anything happens,
//     and no byte past linear memory (the canary page) is read or written;
//   - paths flipped between inside and outside the preopen while the calls
//     run never create, link, touch or change anything outside;
//   - paths that lead out (`..`, absolute, a symlink planted inside that
//     points out, relative or absolute) are refused by rename, link,
//     symlink, readlink and set_times, and the file outside keeps its
//     links, times and content;
//   - renumbering and restricting stdio never closes or changes the host's
//     own descriptors, and a warm reset undoes both.
#include "Hostile.h"

#include <cstddef>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

using namespace hostile;

namespace {

constexpr uint32_t kOut = 0x10, kOut2 = 0x18, kIovs = 0x1000, kBuf = 0x4000;
constexpr uint32_t kPath = 0x8000, kPath2 = 0x8100;
constexpr int32_t kEbadf = 8, kEinval = 28, kEnotsock = 57, kEnotsup = 58, kEperm = 63,
                  kEnotcapable = 76, kEexist = 20, kEnoent = 44;
constexpr int32_t kFstAtim = 1, kFstMtim = 4, kFstMtimNow = 8;
constexpr int kRounds = 2000;

// A preopen (fd 3) with a file inside, and a file outside it that nothing
// the guest does may change, with symlinks inside leading to it.
struct Tree {
  std::string root = tempDirectory();
  std::string inside = root + "/inside", outside = root + "/outside";
  struct stat before{};
  Tree() {
    std::filesystem::create_directories(inside);
    std::filesystem::create_directories(outside);
    std::ofstream(inside + "/in") << "inside";
    std::ofstream(outside + "/x") << "keep";
    std::filesystem::create_symlink("../outside/x", inside + "/rel");
    std::filesystem::create_symlink(outside + "/x", inside + "/abs");
    std::filesystem::create_symlink("..", inside + "/up");
    timespec old[2] = {{1000, 0}, {2000, 0}};
    REQUIRE(utimensat(AT_FDCWD, (outside + "/x").c_str(), old, 0) == 0);
    REQUIRE(stat((outside + "/x").c_str(), &before) == 0);
  }
  ~Tree() { std::filesystem::remove_all(root); }
  // The file outside as it was: same links, times and content, alone.
  void checkOutsideUntouched() {
    struct stat now{};
    REQUIRE(stat((outside + "/x").c_str(), &now) == 0);
    CHECK(now.st_nlink == 1);
    CHECK(now.st_mtim.tv_sec == before.st_mtim.tv_sec);
    CHECK(now.st_atim.tv_sec == before.st_atim.tv_sec);
    CHECK(now.st_ctim.tv_sec == before.st_ctim.tv_sec);
    CHECK(now.st_ctim.tv_nsec == before.st_ctim.tv_nsec);
    std::ifstream in(outside + "/x");
    std::string content;
    in >> content;
    CHECK(content == "keep");
    std::set<std::string> names;
    for (auto& e : std::filesystem::directory_iterator(outside))
      names.insert(e.path().filename());
    CHECK(names == std::set<std::string>{"x"});
    std::set<std::string> rootNames;
    for (auto& e : std::filesystem::directory_iterator(root))
      rootNames.insert(e.path().filename());
    CHECK(rootNames == std::set<std::string>{"inside", "outside"});
  }
};

Outcome pathCall(Guest& g, const char* fn, const std::string& a, const std::string& b,
                 int32_t follow = 0) {
  g.put(kPath, a);
  g.put(kPath2, b);
  uint32_t la = uint32_t(a.size()), lb = uint32_t(b.size());
  std::string name = fn;
  if (name == "path_link")
    return g.call(fn, {i32(3), i32(follow), i32(kPath), i32(la), i32(3), i32(kPath2), i32(lb)});
  if (name == "path_rename")
    return g.call(fn, {i32(3), i32(kPath), i32(la), i32(3), i32(kPath2), i32(lb)});
  if (name == "path_symlink")
    return g.call(fn, {i32(kPath), i32(la), i32(3), i32(kPath2), i32(lb)});
  if (name == "path_readlink")
    return g.call(fn, {i32(3), i32(kPath), i32(la), i32(kBuf), i32(256), i32(kOut)});
  // path_filestat_set_times: both times, to an old value.
  return g.call(fn, {i32(3), i32(follow), i32(kPath), i32(la), i64(7'000'000'000),
                     i64(7'000'000'000), i32(kFstAtim | kFstMtim)});
}

} // namespace

TEST_CASE("preview1: hostile pointers and lengths trap, nothing past memory is touched") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Tree t;
    Guest g(mode);
    g.layCanary();
    REQUIRE(g.wasi->addPreopen(t.inside, "/data").empty());
    int sv[2];
    // Non-blocking: a call that wrongly got through reports EAGAIN, never hangs.
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    REQUIRE(g.wasi->addSocket(sv[0]).empty()); // guest fd 4
    REQUIRE(write(sv[1], "peer", 4) == 4);
    const uint64_t end = g.size();
    // (pointer, length) pairs no call may accept: straddling the end, at the
    // end, far past it, wrapping near 2^32, 4 GiB long.
    const std::pair<uint64_t, uint64_t> bad[] = {
        {end - 2, 8}, {end, 1}, {0x80000000u, 16}, {0xFFFFFFF0u, 32}, {kPath, 0xFFFFFFFFu}};
    g.put(kPath, std::string("in"));
    g.put(kPath2, std::string("new"));
    for (auto [p, n] : bad) {
      CAPTURE(p);
      CAPTURE(n);
      CHECK(g.call("path_filestat_set_times",
                   {i32(3), i32(1), i32(p), i32(n), i64(0), i64(0), i32(kFstMtimNow)})
                .pointerTrap());
      CHECK(g.call("path_link", {i32(3), i32(0), i32(p), i32(n), i32(3), i32(kPath2), i32(3)})
                .pointerTrap());
      CHECK(g.call("path_link", {i32(3), i32(0), i32(kPath), i32(2), i32(3), i32(p), i32(n)})
                .pointerTrap());
      CHECK(g.call("path_symlink", {i32(p), i32(n), i32(3), i32(kPath2), i32(3)}).pointerTrap());
      CHECK(g.call("path_symlink", {i32(kPath), i32(2), i32(3), i32(p), i32(n)}).pointerTrap());
      CHECK(g.call("fd_readdir", {i32(3), i32(p), i32(n), i64(0), i32(kOut)}).pointerTrap());
      CHECK(g.call("path_readlink", {i32(3), i32(kPath), i32(2), i32(p), i32(n), i32(kOut)})
                .pointerTrap());
      // sock_recv into, and sock_send from, a hostile buffer.
      uint32_t iov[2] = {uint32_t(p), uint32_t(n)};
      g.put(kIovs, iov, sizeof iov);
      CHECK(g.call("sock_recv", {i32(4), i32(kIovs), i32(1), i32(0), i32(kOut), i32(kOut2)})
                .pointerTrap());
      CHECK(g.call("sock_send", {i32(4), i32(kIovs), i32(1), i32(0), i32(kOut)}).pointerTrap());
      // ... and a hostile iovec array, result or flags pointer.
      CHECK(g.call("sock_recv", {i32(4), i32(p), i32(n), i32(0), i32(kOut), i32(kOut2)})
                .pointerTrap());
      CHECK(g.call("sock_send", {i32(4), i32(p), i32(n), i32(0), i32(kOut)}).pointerTrap());
    }
    // Result pointers (a u32 length or fd, u16 flags) that do not fit.
    uint32_t good[2] = {kBuf, 4};
    g.put(kIovs, good, sizeof good);
    for (uint64_t p : {end - 1, end, uint64_t(0x80000000u), uint64_t(0xFFFFFFFFu)}) {
      CAPTURE(p);
      CHECK(g.call("sock_recv", {i32(4), i32(kIovs), i32(1), i32(0), i32(p), i32(kOut2)})
                .pointerTrap());
      CHECK(g.call("sock_recv", {i32(4), i32(kIovs), i32(1), i32(0), i32(kOut), i32(p)})
                .pointerTrap());
      CHECK(g.call("sock_send", {i32(4), i32(kIovs), i32(1), i32(0), i32(p)}).pointerTrap());
      CHECK(g.call("sock_accept", {i32(4), i32(0), i32(p)}).pointerTrap());
    }
    // The peer's bytes were never consumed by a trapped call.
    good[1] = 16;
    g.put(kIovs, good, sizeof good);
    CHECK(g.call("sock_recv", {i32(4), i32(kIovs), i32(1), i32(0), i32(kOut), i32(kOut2)})
              .succeeded());
    CHECK(g.u32(kOut) == 4);
    // Calls without pointers: hostile numbers are errors, never a crash.
    for (int64_t fd : {-1ll, 0x7FFFFFFFll, 0xFFFFFFFFll, 1ll << 31}) {
      CHECK(g.call("fd_renumber", {i32(fd), i32(3)}).value == kEbadf);
      CHECK(g.call("fd_renumber", {i32(3), i32(fd)}).value == kEbadf);
      CHECK(g.call("fd_fdstat_set_rights", {i32(fd), i64(0), i64(0)}).value == kEbadf);
      CHECK(g.call("fd_filestat_set_times", {i32(fd), i64(-1), i64(-1), i32(-1)}).value == kEbadf);
      CHECK(g.call("sock_shutdown", {i32(fd), i32(3)}).value == kEbadf);
    }
    CHECK(g.call("fd_filestat_set_times", {i32(3), i64(-1), i64(-1), i32(-1)}).value == kEinval);
    CHECK(g.call("sock_shutdown", {i32(4), i32(-1)}).value == kEinval);
    for (int64_t sig : {-1ll, 31ll, 0x7FFFFFFFll})
      CHECK(g.call("proc_raise", {i32(sig)}).value == kEinval);
    CHECK(g.canaryIntact());
    t.checkOutsideUntouched();
    close(sv[1]);
  }
}

// The paths flip between a name inside and one of the same length leading
// out. Whatever the timing, nothing outside is linked, touched or made.
TEST_CASE("preview1: link, set_times, symlink with a path flipped to leave the preopen") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Tree t;
    Guest g(mode);
    g.layCanary();
    REQUIRE(g.wasi->addPreopen(t.inside, "/data").empty());
    std::ofstream(t.inside + "/aaaaaaaaaaaa") << "mine";
    const std::string in = "aaaaaaaaaaaa", out = "../outside/x"; // 12 bytes each
    const std::string in2 = "bbbbbbbbbbbb", out2 = "../outside/y";
    g.put(kPath, in);
    g.put(kPath2, in2);
    int traps = 0, refused = 0, linked = 0;
    {
      Flipper flip(g.mem() + kPath, std::vector<uint8_t>(in.begin(), in.end()),
                   std::vector<uint8_t>(out.begin(), out.end()));
      Flipper flip2(g.mem() + kPath2, std::vector<uint8_t>(in2.begin(), in2.end()),
                    std::vector<uint8_t>(out2.begin(), out2.end()));
      for (int i = 0; i < kRounds * 25 && (i < kRounds || !(linked && refused)); ++i) {
        Outcome link = g.call("path_link",
                              {i32(3), i32(1), i32(kPath), i32(12), i32(3), i32(kPath2), i32(12)});
        linked += link.succeeded();
        refused += link.ok() && link.value == kEnotcapable;
        Outcome times = g.call("path_filestat_set_times",
                               {i32(3), i32(1), i32(kPath), i32(12), i64(5'000'000'000),
                                i64(5'000'000'000), i32(kFstAtim | kFstMtim)});
        Outcome sym = g.call("path_symlink", {i32(kPath), i32(12), i32(3), i32(kPath2), i32(12)});
        Outcome unlink = g.call("path_unlink_file", {i32(3), i32(kPath2), i32(12)});
        for (const Outcome& o : {link, times, sym, unlink})
          traps += !o.ok();
        // A torn copy of a flipping path may also name no parent (ENOENT):
        // never is a symlink made.
        CHECK_MESSAGE((sym.value == kEperm || sym.value == kEnotcapable || sym.value == kEexist ||
                       sym.value == kEnoent),
                      sym.value);
      }
    }
    CHECK(traps == 0);
    CHECK(linked > 0);
    CHECK(refused > 0);
    t.checkOutsideUntouched();
    CHECK(g.canaryIntact());
  }
}

TEST_CASE("preview1: rename, link, symlink, readlink and set_times cannot leave the preopen") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Tree t;
    Guest g(mode);
    g.layCanary();
    REQUIRE(g.wasi->addPreopen(t.inside, "/data").empty());
    const std::string x = t.outside + "/x";
    // Out by `..`, by an absolute path, through a directory symlink.
    for (const std::string& away : {std::string("../outside/x"), x, std::string("up/outside/x")}) {
      CAPTURE(away);
      CHECK(pathCall(g, "path_rename", away, "got").value == kEnotcapable);
      CHECK(pathCall(g, "path_rename", "in", away).value == kEnotcapable);
      CHECK(pathCall(g, "path_link", away, "got").value == kEnotcapable);
      CHECK(pathCall(g, "path_link", away, "got", 1).value == kEnotcapable);
      CHECK(pathCall(g, "path_link", "in", away).value == kEnotcapable);
      CHECK(pathCall(g, "path_symlink", "in", away).value == kEnotcapable);
      CHECK(pathCall(g, "path_readlink", away, "").value == kEnotcapable);
      CHECK(pathCall(g, "path_filestat_set_times", away, "", 1).value == kEnotcapable);
      CHECK(pathCall(g, "path_filestat_set_times", away, "", 0).value == kEnotcapable);
    }
    // Through a file symlink planted inside, relative or absolute: following
    // it is refused; not following it acts on the link, never the target.
    for (const std::string link : {"rel", "abs"}) {
      CAPTURE(link);
      CHECK(pathCall(g, "path_link", link, "got", 1).value == kEnotcapable);
      CHECK(pathCall(g, "path_filestat_set_times", link, "", 1).value == kEnotcapable);
      CHECK(pathCall(g, "path_filestat_set_times", link, "", 0).value == kEnotsup);
      // Reading a link's own text is no escape.
      CHECK(pathCall(g, "path_readlink", link, "").succeeded());
    }
    CHECK(std::string(reinterpret_cast<char*>(g.mem() + kBuf), g.u32(kOut)) == x);
    // A symlink is never made, wherever it would point; a taken name is EEXIST.
    for (const std::string& target : {std::string("in"), std::string("../outside/x"), x}) {
      CHECK(pathCall(g, "path_symlink", target, "made").value == kEperm);
      CHECK(pathCall(g, "path_symlink", target, "in").value == kEexist);
      CHECK_FALSE(std::filesystem::exists(std::filesystem::symlink_status(t.inside + "/made")));
    }
    CHECK(pathCall(g, "path_symlink", "in", "nodir/made").value == kEnoent);
    // What stays inside works.
    CHECK(pathCall(g, "path_link", "in", "in2").succeeded());
    CHECK(pathCall(g, "path_filestat_set_times", "in2", "", 1).succeeded());
    struct stat st{};
    REQUIRE(stat((t.inside + "/in").c_str(), &st) == 0);
    CHECK(st.st_nlink == 2);
    CHECK(st.st_mtim.tv_sec == 7);
    t.checkOutsideUntouched();
    CHECK(g.canaryIntact());
  }
}

TEST_CASE("preview1: renumbering and restricting stdio never reaches the host's descriptors") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Tree t;
    Guest g(mode);
    REQUIRE(g.wasi->addPreopen(t.inside, "/data").empty());
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC) == 0);
    g.wasi->stdioFds[1] = p[1];
    g.wasi->saveBaseline();
    g.put(kBuf, std::string("hi\n"));
    uint32_t iov[2] = {kBuf, 3};
    g.put(kIovs, iov, sizeof iov);
    // Stdout moved to 7 and closed there: the host's pipe stays open.
    CHECK(g.call("fd_renumber", {i32(1), i32(3)}).succeeded()); // over the preopen
    CHECK(g.call("fd_write", {i32(1), i32(kIovs), i32(1), i32(kOut)}).value == kEbadf);
    CHECK(g.call("fd_write", {i32(3), i32(kIovs), i32(1), i32(kOut)}).succeeded());
    CHECK(g.call("fd_seek", {i32(3), i64(0), i32(0), i32(kOut)}).value == 70); // still a stream
    CHECK(g.call("sock_send", {i32(3), i32(kIovs), i32(1), i32(0), i32(kOut)}).value == kEnotsock);
    CHECK(g.call("sock_shutdown", {i32(3), i32(3)}).value == kEnotsock);
    CHECK(g.call("fd_filestat_set_times", {i32(3), i64(0), i64(0), i32(kFstMtimNow)}).value ==
          kEnotcapable);
    CHECK(g.call("fd_close", {i32(3)}).succeeded());
    CHECK(fcntl(p[1], F_GETFD) >= 0);
    // Restricting stderr's rights cannot add any.
    CHECK(g.call("fd_fdstat_set_rights", {i32(2), i64(-1), i64(-1)}).value == kEnotcapable);
    CHECK(g.call("fd_fdstat_set_rights", {i32(2), i64(0), i64(0)}).succeeded());
    CHECK(g.call("fd_write", {i32(2), i32(kIovs), i32(1), i32(kOut)}).value == kEnotcapable);
    // A warm reset brings the table back as saved.
    g.wasi->restoreBaseline();
    CHECK(g.call("fd_write", {i32(1), i32(kIovs), i32(1), i32(kOut)}).succeeded());
    CHECK(g.call("fd_fdstat_get", {i32(3), i32(kBuf)}).succeeded());
    CHECK(g.mem()[kBuf] == 3); // the preopen directory is back at 3
    char got[8] = {};
    CHECK(read(p[0], got, sizeof got) == 6);
    CHECK(std::string(got, 6) == "hi\nhi\n");
    close(p[0]);
    close(p[1]);
  }
}

// Not an attack: sock_* on sockets an embedder pre-opened do what the witx
// says (no guest can obtain one through faasm-run today, so only this test
// reaches their success paths). The artefact here exports them.
TEST_CASE("preview1: sock_* on pre-opened sockets, and poll_oneoff waiting on one") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.layCanary();
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = "faasm-escape-sock-" + std::to_string(getpid()) + modeName(mode);
    std::memcpy(addr.sun_path + 1, name.data(), name.size()); // abstract: nothing on disk
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), len) == 0);
    REQUIRE(listen(listener, 4) == 0);
    REQUIRE(g.wasi->addSocket(listener).empty()); // guest fd 3
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&addr), len) == 0);

    CHECK(g.call("sock_accept", {i32(3), i32(1), i32(kOut)}).value == kEinval);
    REQUIRE(g.call("sock_accept", {i32(3), i32(0), i32(kOut)}).succeeded());
    int32_t conn = int32_t(g.u32(kOut));
    CHECK(conn == 4);
    // A connection cannot accept.
    CHECK(g.call("sock_accept", {i32(conn), i32(0), i32(kOut)}).value == kEnotcapable);

    // Nothing to read: the clock fires. Then the socket is ready.
    uint8_t subs[96] = {};
    uint64_t clockData = 1, fdData = 2, timeout = 1'000'000;
    std::memcpy(subs, &clockData, 8);
    subs[8] = 0; // clock, monotonic (id 1)
    uint32_t one = 1;
    std::memcpy(subs + 16, &one, 4);
    std::memcpy(subs + 24, &timeout, 8);
    std::memcpy(subs + 48, &fdData, 8);
    subs[48 + 8] = 1; // fd_read
    std::memcpy(subs + 48 + 16, &conn, 4);
    g.put(kBuf, subs, sizeof subs);
    REQUIRE(g.call("poll_oneoff", {i32(kBuf), i32(kBuf + 0x100), i32(2), i32(kOut)}).succeeded());
    CHECK(g.u32(kOut) == 1);
    CHECK(g.mem()[kBuf + 0x100] == 1); // the clock's userdata
    REQUIRE(write(client, "hello", 5) == 5);
    REQUIRE(g.call("poll_oneoff", {i32(kBuf), i32(kBuf + 0x100), i32(2), i32(kOut)}).succeeded());
    CHECK(g.u32(kOut) == 1);
    CHECK(g.mem()[kBuf + 0x100] == 2); // the socket's

    uint32_t iov[2] = {kPath, 3};
    g.put(kIovs, iov, sizeof iov);
    CHECK(
        g.call("sock_recv", {i32(conn), i32(kIovs), i32(1), i32(4), i32(kOut), i32(kOut2)}).value ==
        kEinval);
    REQUIRE(g.call("sock_recv", {i32(conn), i32(kIovs), i32(1), i32(1), i32(kOut), i32(kOut2)})
                .succeeded()); // peek
    CHECK(std::string(reinterpret_cast<char*>(g.mem() + kPath), g.u32(kOut)) == "hel");
    iov[1] = 16;
    g.put(kIovs, iov, sizeof iov);
    REQUIRE(g.call("sock_recv", {i32(conn), i32(kIovs), i32(1), i32(0), i32(kOut), i32(kOut2)})
                .succeeded());
    CHECK(std::string(reinterpret_cast<char*>(g.mem() + kPath), g.u32(kOut)) == "hello");

    g.put(kPath, std::string("pong"));
    iov[1] = 4;
    g.put(kIovs, iov, sizeof iov);
    CHECK(g.call("sock_send", {i32(conn), i32(kIovs), i32(1), i32(1), i32(kOut)}).value ==
          kEnotsup);
    REQUIRE(g.call("sock_send", {i32(conn), i32(kIovs), i32(1), i32(0), i32(kOut)}).succeeded());
    CHECK(g.u32(kOut) == 4);
    char got[8] = {};
    CHECK(read(client, got, sizeof got) == 4);
    CHECK(std::string(got, 4) == "pong");
    CHECK(g.call("sock_shutdown", {i32(conn), i32(0)}).value == kEinval);
    REQUIRE(g.call("sock_shutdown", {i32(conn), i32(2)}).succeeded()); // WR
    CHECK(read(client, got, sizeof got) == 0);                         // EOF

    // A datagram longer than the buffer: RECV_DATA_TRUNCATED.
    int dg[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg) == 0);
    REQUIRE(g.wasi->addSocket(dg[0]).empty());
    REQUIRE(write(dg[1], "0123456789", 10) == 10);
    REQUIRE(g.call("sock_recv", {i32(5), i32(kIovs), i32(1), i32(0), i32(kOut), i32(kOut2)})
                .succeeded());
    CHECK(g.u32(kOut) == 4);
    CHECK((g.u32(kOut2) & 0xFFFF) == 1);
    // A peer gone: EPIPE, never a SIGPIPE that would kill the host.
    close(client);
    CHECK(g.call("sock_send", {i32(conn), i32(kIovs), i32(1), i32(0), i32(kOut)}).value == 64);
    close(dg[1]);
    CHECK(g.canaryIntact());
  }
}
