// Escape class "Host functions and guest memory" (docs/Security.md), module
// faasm_net (docs/Networking.md), in both bounds modes:
//   - hostile pointers and lengths for every function (addresses straddling
//     the end, at the end, near 2^32, 4 GiB long; in/out lengths that wrap)
//     trap with the pointer trap before anything happens: no datagram is
//     sent, no connection made, no byte past linear memory (the canary
//     page) read or written;
//   - a sockaddr at the very end of memory whose family a second thread
//     flips between IPv4 (8 bytes used) and IPv6 (28): a host that judged
//     the length by one read and copied by another would read past memory;
//   - fd confusion: a preopened directory or stdio is never a socket, a
//     socket never a file or directory;
//   - exhaustion: at most 64 sockets per Faaslet (EMFILE), however made
//     (faasm_net's socket and accept, preview1's sock_accept);
//   - without the grant nothing leaves: connect and sendto answer
//     ENETUNREACH and a listener on the host's loopback receives nothing.
#include "Hostile.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

using namespace hostile;

namespace {

constexpr uint32_t kOut = 0x10, kLen = 0x20, kAddr = 0x100, kHints = 0x200, kBuf = 0x4000,
                   kName = 0x8000, kRecords = 0x9000;
constexpr int32_t kEbadf = 8, kEinval = 28, kEmfile = 33, kEnetunreach = 40, kEnotdir = 54,
                  kEnotsock = 57, kEspipe = 70;
constexpr int32_t kGuestAfInet = 1, kGuestDgram = 5, kGuestStream = 6;

// A UDP socket on the host's loopback: where the guest's datagrams would go.
struct Listener {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  uint16_t port = 0;
  Listener() {
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(fd); }
  int received() {
    int n = 0;
    char buf[64];
    while (recv(fd, buf, sizeof buf, 0) >= 0)
      ++n;
    return n;
  }
};

// The guest's sockaddr_in (wasi-libc's layout) for 127.0.0.1:port.
std::vector<uint8_t> guestIn4(uint16_t port) {
  std::vector<uint8_t> a(16, 0);
  a[0] = kGuestAfInet;
  uint16_t p = htons(port);
  std::memcpy(&a[2], &p, 2);
  uint32_t ip = htonl(INADDR_LOOPBACK);
  std::memcpy(&a[4], &ip, 4);
  return a;
}

// A new guest socket of `type`, its guest fd.
int32_t makeSocket(Guest& g, int32_t type) {
  Outcome o = g.call("socket", {i32(kGuestAfInet), i32(type), i32(0), i32(kOut)});
  REQUIRE(o.succeeded());
  return int32_t(g.u32(kOut));
}

} // namespace

TEST_CASE("faasm_net: hostile pointers and lengths trap, nothing is sent, nothing past memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.wasi->network = true;
    g.layCanary();
    Listener listener;
    const int32_t udp = makeSocket(g, kGuestDgram);
    const int32_t tcp = makeSocket(g, kGuestStream);
    const uint64_t end = g.size();
    auto addr = guestIn4(listener.port);
    g.put(kAddr, addr.data(), addr.size());
    g.put(kName, std::string("localhost"));
    const std::pair<uint64_t, uint64_t> bad[] = {
        {end - 2, 16}, {end, 1}, {0x80000000u, 16}, {0xFFFFFFF0u, 32}, {kAddr, 0xFFFFFFFFu}};
    for (auto [p, n] : bad) {
      CAPTURE(p);
      CAPTURE(n);
      CHECK(g.call("connect", {i32(udp), i32(p), i32(n)}).pointerTrap());
      CHECK(g.call("bind", {i32(tcp), i32(p), i32(n)}).pointerTrap());
      // sendto: the payload, then the address, hostile; the other valid.
      CHECK(g.call("sendto", {i32(udp), i32(p), i32(n), i32(0), i32(kAddr), i32(16), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("sendto", {i32(udp), i32(kBuf), i32(4), i32(0), i32(p), i32(n), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("recvfrom", {i32(udp), i32(p), i32(n), i32(0), i32(0), i32(0), i32(kOut)})
                .pointerTrap());
      CHECK(
          g.call("setsockopt", {i32(udp), i32(0x7fffffff), i32(2), i32(p), i32(n)}).pointerTrap());
      // The in/out lengths say `n`: the buffer they describe must fit.
      g.put(kLen, &n, 4);
      CHECK(g.call("recvfrom", {i32(udp), i32(kBuf), i32(4), i32(0), i32(p), i32(kLen), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("getsockname", {i32(udp), i32(p), i32(kLen)}).pointerTrap());
      CHECK(g.call("getpeername", {i32(udp), i32(p), i32(kLen)}).pointerTrap());
      CHECK(g.call("getsockopt", {i32(udp), i32(0x7fffffff), i32(2), i32(p), i32(kLen)})
                .pointerTrap());
      CHECK(g.call("accept", {i32(tcp), i32(0), i32(p), i32(kLen), i32(kOut)}).pointerTrap());
      CHECK(g.call("getaddrinfo",
                   {i32(p), i32(n), i32(0), i32(0), i32(0), i32(kRecords), i32(16), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("getaddrinfo",
                   {i32(kName), i32(9), i32(p), i32(n), i32(0), i32(kRecords), i32(16), i32(kOut)})
                .pointerTrap());
    }
    // Single pointers (a result, an in/out length, hints, the record array
    // and its count) that do not fit.
    uint32_t sixteen = 16;
    g.put(kLen, &sixteen, 4);
    for (uint64_t p : {end - 1, end, uint64_t(0x80000000u), uint64_t(0xFFFFFFFFu)}) {
      CAPTURE(p);
      CHECK(g.call("socket", {i32(kGuestAfInet), i32(kGuestDgram), i32(0), i32(p)}).pointerTrap());
      CHECK(g.call("sendto", {i32(udp), i32(kBuf), i32(4), i32(0), i32(kAddr), i32(16), i32(p)})
                .pointerTrap());
      CHECK(g.call("recvfrom", {i32(udp), i32(kBuf), i32(4), i32(0), i32(kAddr), i32(p), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("recvfrom", {i32(udp), i32(kBuf), i32(4), i32(0), i32(0), i32(0), i32(p)})
                .pointerTrap());
      CHECK(g.call("getsockname", {i32(udp), i32(kAddr), i32(p)}).pointerTrap());
      CHECK(g.call("getsockopt", {i32(udp), i32(0x7fffffff), i32(2), i32(kBuf), i32(p)})
                .pointerTrap());
      CHECK(g.call("accept", {i32(tcp), i32(0), i32(kAddr), i32(p), i32(kOut)}).pointerTrap());
      CHECK(g.call("accept", {i32(tcp), i32(0), i32(0), i32(0), i32(p)}).pointerTrap());
      CHECK(g.call("getaddrinfo",
                   {i32(kName), i32(9), i32(0), i32(0), i32(p), i32(kRecords), i32(16), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("getaddrinfo",
                   {i32(kName), i32(9), i32(0), i32(0), i32(0), i32(p), i32(16), i32(kOut)})
                .pointerTrap());
      CHECK(g.call("getaddrinfo",
                   {i32(kName), i32(9), i32(0), i32(0), i32(0), i32(kRecords), i32(16), i32(p)})
                .pointerTrap());
    }
    // Lengths that wrap: a record count whose array would pass 2^32, an
    // in/out length of 2^32 - 1 at a valid address.
    CHECK(g.call("getaddrinfo", {i32(kName), i32(9), i32(0), i32(0), i32(0), i32(kRecords),
                                 i32(0x05555556), i32(kOut)})
              .pointerTrap());
    uint32_t wrap = 0xFFFFFFFFu;
    g.put(kLen, &wrap, 4);
    CHECK(
        g.call("recvfrom", {i32(udp), i32(kBuf), i32(4), i32(0), i32(kAddr), i32(kLen), i32(kOut)})
            .pointerTrap());
    CHECK(g.call("getsockopt", {i32(udp), i32(0x7fffffff), i32(2), i32(kBuf), i32(kLen)})
              .pointerTrap());
    CHECK(g.call("accept", {i32(tcp), i32(0), i32(kAddr), i32(kLen), i32(kOut)}).pointerTrap());
    // Huge iovec counts on a faasm_net socket through preview1's calls.
    CHECK(g.call("sock_send", {i32(udp), i32(kBuf), i32(0x7FFFFFFF), i32(0), i32(kOut)})
              .pointerTrap());
    CHECK(g.call("sock_recv", {i32(udp), i32(kBuf), i32(0x20000000), i32(0), i32(kOut), i32(kLen)})
              .pointerTrap());
    // An over-long address that fits in memory is EINVAL, not a big copy.
    CHECK(g.call("connect", {i32(udp), i32(kBuf), i32(4096)}).value == kEinval);
    CHECK(listener.received() == 0); // no trapped call sent anything
    // ... and a valid call does.
    CHECK(g.call("sendto", {i32(udp), i32(kBuf), i32(4), i32(0), i32(kAddr), i32(16), i32(kOut)})
              .succeeded());
    CHECK(g.u32(kOut) == 4);
    pollfd pfd{listener.fd, POLLIN, 0};
    CHECK(poll(&pfd, 1, 5000) == 1);
    CHECK(listener.received() == 1);
    CHECK(g.canaryIntact());
  }
}

TEST_CASE("faasm_net: a sockaddr flipped between IPv4 and IPv6 at the end of memory") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.wasi->network = true;
    g.layCanary();
    Listener listener;
    const int32_t udp = makeSocket(g, kGuestDgram);
    // The last 16 bytes of memory: an IPv4 address, its family flipped to
    // IPv6, whose 28 bytes would run 12 past the end.
    const uint32_t at = uint32_t(g.size() - 16);
    auto v4 = guestIn4(listener.port);
    g.put(at, v4.data(), v4.size());
    int sent = 0, refused = 0, traps = 0;
    {
      Flipper flip(g.mem() + at, {uint8_t(kGuestAfInet), 0}, {uint8_t(2), 0});
      for (int i = 0; i < 20000; ++i) {
        Outcome o =
            g.call("sendto", {i32(udp), i32(kBuf), i32(1), i32(0), i32(at), i32(16), i32(kOut)});
        Outcome c = g.call("bind", {i32(udp), i32(at), i32(16)});
        traps += !o.ok() + !c.ok();
        sent += o.succeeded();
        refused += o.ok() && o.value == kEinval;
        // Sent (or dropped by a full loopback queue: ENOBUFS, EAGAIN), or
        // refused as a short IPv6 address: one reading of the family.
        CHECK_MESSAGE((o.succeeded() || o.value == kEinval || o.value == 42 || o.value == 6),
                      o.value);
      }
      CHECK(flip.flips() > 0);
    }
    CHECK(traps == 0);  // the range was valid every time
    CHECK(refused > 0); // the flips were seen
    CHECK(g.canaryIntact());
    // Every datagram that left went where the IPv4 address said.
    pollfd pfd{listener.fd, POLLIN, 0};
    if (sent) CHECK(poll(&pfd, 1, 5000) == 1);
  }
}

TEST_CASE("faasm_net: files, directories and stdio are not sockets, sockets not files") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.wasi->network = true;
    std::string dir = tempDirectory();
    REQUIRE(g.wasi->addPreopen(dir, "/data").empty()); // fd 3
    // The host's stdout may itself be a socket: the guest's fd 1 is still no socket.
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == 0);
    g.wasi->stdioFds[1] = sv[0];
    auto addr = guestIn4(9);
    g.put(kAddr, addr.data(), addr.size());
    uint32_t sixteen = 16;
    g.put(kLen, &sixteen, 4);
    for (int32_t fd : {0, 1, 2, 3}) {
      CAPTURE(fd);
      CHECK(g.call("connect", {i32(fd), i32(kAddr), i32(16)}).value == kEnotsock);
      CHECK(g.call("bind", {i32(fd), i32(kAddr), i32(16)}).value == kEnotsock);
      CHECK(g.call("listen", {i32(fd), i32(1)}).value == kEnotsock);
      CHECK(g.call("accept", {i32(fd), i32(0), i32(0), i32(0), i32(kOut)}).value == kEnotsock);
      CHECK(
          g.call("sendto", {i32(fd), i32(kBuf), i32(1), i32(0), i32(0), i32(0), i32(kOut)}).value ==
          kEnotsock);
      CHECK(g.call("recvfrom", {i32(fd), i32(kBuf), i32(1), i32(0), i32(0), i32(0), i32(kOut)})
                .value == kEnotsock);
      CHECK(g.call("getsockopt", {i32(fd), i32(0x7fffffff), i32(3), i32(kBuf), i32(kLen)}).value ==
            kEnotsock);
      CHECK(g.call("setsockopt", {i32(fd), i32(0x7fffffff), i32(2), i32(kBuf), i32(4)}).value ==
            kEnotsock);
      CHECK(g.call("getsockname", {i32(fd), i32(kAddr), i32(kLen)}).value == kEnotsock);
      CHECK(g.call("getpeername", {i32(fd), i32(kAddr), i32(kLen)}).value == kEnotsock);
    }
    for (int64_t fd : {-1ll, 999ll, 0x7FFFFFFFll})
      CHECK(g.call("connect", {i32(fd), i32(kAddr), i32(16)}).value == kEbadf);
    char peer[8];
    CHECK(recv(sv[1], peer, sizeof peer, 0) == -1); // nothing reached the host's socket
    // A socket is not a file: no seek, no path under it, no directory listing.
    const int32_t s = makeSocket(g, kGuestStream);
    CHECK(g.call("fd_seek", {i32(s), i64(0), i32(0), i32(kOut)}).value == kEspipe);
    g.put(kName, std::string("x"));
    Outcome open = g.call("path_open", {i32(s), i32(0), i32(kName), i32(1), i32(0), i64(0), i64(0),
                                        i32(0), i32(kOut)});
    CHECK((open.value == kEnotdir || open.value == kEbadf || open.value == 76));
    CHECK(g.call("fd_readdir", {i32(s), i32(kBuf), i32(64), i64(0), i32(kOut)}).value != 0);
    close(sv[0]);
    close(sv[1]);
  }
}

TEST_CASE("faasm_net: at most 64 sockets per Faaslet, however made") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode);
    g.wasi->network = true;
    int made = 0;
    Outcome o;
    for (int i = 0; i < 200; ++i) {
      o = g.call("socket", {i32(kGuestAfInet), i32(kGuestDgram), i32(0), i32(kOut)});
      if (!o.succeeded()) break;
      ++made;
    }
    CHECK(made == 64);
    CHECK(o.value == kEmfile);
    // accept counts too: a listener at the limit accepts nothing.
    CHECK(g.call("fd_close", {i32(3)}).succeeded());
    const int32_t l = makeSocket(g, kGuestStream);
    auto any = guestIn4(0);
    g.put(kAddr, any.data(), any.size());
    REQUIRE(g.call("bind", {i32(l), i32(kAddr), i32(16)}).succeeded());
    REQUIRE(g.call("listen", {i32(l), i32(4)}).succeeded());
    uint32_t len = 16;
    g.put(kLen, &len, 4);
    REQUIRE(g.call("getsockname", {i32(l), i32(kAddr), i32(kLen)}).succeeded());
    sockaddr_in a{};
    a.sin_family = AF_INET;
    std::memcpy(&a.sin_port, g.mem() + kAddr + 2, 2);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    CHECK(g.call("accept", {i32(l), i32(0), i32(0), i32(0), i32(kOut)}).value == kEmfile);
    // ... and so does preview1's sock_accept, which a guest may import itself.
    CHECK(g.call("sock_accept", {i32(l), i32(0), i32(kOut)}).value == kEmfile);
    CHECK(g.call("fd_close", {i32(4)}).succeeded());
    CHECK(g.call("accept", {i32(l), i32(0), i32(0), i32(0), i32(kOut)}).succeeded());
    close(c);
  }
}

TEST_CASE("faasm_net: without the grant nothing leaves the Faaslet") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    Guest g(mode); // WasiContext::network is false
    Listener listener;
    const int32_t udp = makeSocket(g, kGuestDgram);
    const int32_t tcp = makeSocket(g, kGuestStream);
    auto addr = guestIn4(listener.port);
    g.put(kAddr, addr.data(), addr.size());
    uint32_t sixteen = 16;
    g.put(kLen, &sixteen, 4);
    CHECK(g.call("connect", {i32(udp), i32(kAddr), i32(16)}).value == kEnetunreach);
    CHECK(g.call("connect", {i32(tcp), i32(kAddr), i32(16)}).value == kEnetunreach);
    CHECK(g.call("sendto", {i32(udp), i32(kBuf), i32(4), i32(0), i32(kAddr), i32(16), i32(kOut)})
              .value == kEnetunreach);
    CHECK(g.call("bind", {i32(tcp), i32(kAddr), i32(16)}).value == kEnetunreach);
    CHECK(g.call("listen", {i32(tcp), i32(1)}).value == kEnetunreach);
    CHECK(g.call("getsockname", {i32(udp), i32(kAddr), i32(kLen)}).value == kEnetunreach);
    CHECK(listener.received() == 0);
  }
}
