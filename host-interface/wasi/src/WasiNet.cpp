// Module "faasm_net": the BSD sockets preview1 lacks (socket, connect, bind,
// listen, accept with the peer's address, sendto, recvfrom, get/setsockopt,
// getsockname, getpeername, getaddrinfo), over the same descriptor table as
// WASI's files (docs/Networking.md). The guest side is the sysroot's
// <sys/socket.h>, <netdb.h> and <arpa/inet.h>.
//
// ---------------------------------------------------------------------------
// SANDBOX-CRITICAL. Every address, option value and length comes from guest
// memory, which may change under the host at any moment (a state page
// another Faaslet writes, a second guest thread). So, as GuestMemory.h asks:
// each sockaddr, option value, hint and in/out length is copied into host
// memory once (guestLoad*, never read in place), and the host uses only its
// copy, converted from the guest's layout (wasi-libc's: families 1 and 2,
// 16-byte alignment) into a host sockaddr it builds itself, so the kernel
// never sees a guest byte as an address. A buffer's bytes (payload) go
// through a GuestSpan checked once. Every pointer range is checked before
// anything happens (a bad one traps HostPointerOutOfBounds), lengths in
// 64-bit arithmetic. Only sockets this module or the embedder made are
// sockets: a file, directory or stdio fd is ENOTSOCK, and a socket is never
// a file (fd_seek ESPIPE, path_* ENOTDIR). A Faaslet holds at most
// kMaxSockets sockets (EMFILE beyond). Without the network grant
// (WasiContext::network) socket() makes no socket: it hands out a copy of
// WasiContext::unreachable (connected to nothing), and every other call
// answers ENETUNREACH at once, before any system call.
// ---------------------------------------------------------------------------
#include "WasiPrivate.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace faasm::wasi {
namespace {

inline constexpr const char* kNetModule = "faasm_net";

// The guest's constants (wasi-libc's headers and the sysroot's).
constexpr uint16_t kGuestAfInet = 1, kGuestAfInet6 = 2;
constexpr int32_t kGuestSockDgram = 5, kGuestSockStream = 6;
constexpr int32_t kGuestSockNonblock = 0x4000, kGuestSockCloexec = 0x2000;
constexpr int32_t kGuestMsgPeek = 0x1, kGuestMsgWaitall = 0x2, kGuestMsgDontwait = 0x40,
                  kGuestMsgNosignal = 0x4000;
constexpr int32_t kGuestSolSocket = 0x7fffffff;
// A guest sockaddr_in is 16 bytes (8 used), a sockaddr_in6 32 (28 used):
// wasi-libc aligns both to 16.
constexpr uint32_t kGuestIn4Size = 16, kGuestIn6Size = 32;
// Longer addresses are EINVAL, as Linux refuses more than a sockaddr_storage.
constexpr uint32_t kMaxAddrLen = 128;

// getaddrinfo's answers (glibc's values, which the sysroot's netdb.h uses).
constexpr int32_t kEaiBadflags = -1, kEaiNoname = -2, kEaiFamily = -6, kEaiSocktype = -7,
                  kEaiService = -8;
constexpr uint32_t kAiPassive = 0x1, kAiNumerichost = 0x4, kAiNumericserv = 0x400;
constexpr uint32_t kMaxAddrinfo = 16; // records one call may return
constexpr uint64_t kMaxNameLen = 253; // a DNS name
constexpr uint64_t kMaxServiceLen = 32;

// A record getaddrinfo writes for the guest: family, socktype, protocol,
// address length (i32 each), then the address in the guest's layout.
struct GuestAddrinfo {
  int32_t family, socktype, protocol, addrlen;
  uint8_t addr[kGuestIn6Size];
};
static_assert(sizeof(GuestAddrinfo) == 48);

struct GuestHints {
  int32_t flags, family, socktype, protocol;
};

// A host address the host built from the guest's copy.
struct HostAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
};

// The guest's address (its one copy, `n` bytes) as a host address.
int32_t toHost(const uint8_t* g, uint32_t n, HostAddr& out) {
  if (n < 2) return kEinval;
  uint16_t family;
  std::memcpy(&family, g, 2);
  if (family == kGuestAfInet) {
    if (n < 8) return kEinval;
    sockaddr_in in{};
    in.sin_family = AF_INET;
    std::memcpy(&in.sin_port, g + 2, 2);
    std::memcpy(&in.sin_addr, g + 4, 4);
    std::memcpy(&out.ss, &in, sizeof in);
    out.len = sizeof in;
    return kSuccess;
  }
  if (family == kGuestAfInet6) {
    if (n < 28) return kEinval;
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    std::memcpy(&in6.sin6_port, g + 2, 2);
    std::memcpy(&in6.sin6_flowinfo, g + 4, 4);
    std::memcpy(&in6.sin6_addr, g + 8, 16);
    std::memcpy(&in6.sin6_scope_id, g + 24, 4);
    std::memcpy(&out.ss, &in6, sizeof in6);
    out.len = sizeof in6;
    return kSuccess;
  }
  return kEafnosupport;
}

// A host address in the guest's layout; its guest length, 0 if the family
// is none the guest knows (it then gets an empty address).
uint32_t toGuest(const sockaddr_storage& ss, uint8_t out[kGuestIn6Size]) {
  std::memset(out, 0, kGuestIn6Size);
  if (ss.ss_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, &ss, sizeof in);
    std::memcpy(out, &kGuestAfInet, 2);
    std::memcpy(out + 2, &in.sin_port, 2);
    std::memcpy(out + 4, &in.sin_addr, 4);
    return kGuestIn4Size;
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &ss, sizeof in6);
    std::memcpy(out, &kGuestAfInet6, 2);
    std::memcpy(out + 2, &in6.sin6_port, 2);
    std::memcpy(out + 4, &in6.sin6_flowinfo, 4);
    std::memcpy(out + 8, &in6.sin6_addr, 16);
    std::memcpy(out + 24, &in6.sin6_scope_id, 4);
    return kGuestIn6Size;
  }
  return 0;
}

// Copies the guest's address [ptr, ptr + len) once and converts it. The
// whole range is checked (a trap) before the length is judged.
int32_t loadAddr(VMContext* vm, uint32_t ptr, uint32_t len, HostAddr& out) {
  host::guestCheck(vm, ptr, len);
  if (len > kMaxAddrLen) return kEinval;
  uint8_t copy[kMaxAddrLen];
  host::guestLoadArrayInto<uint8_t>(vm, ptr, len, copy);
  return toHost(copy, len, out);
}

// An out-address the guest gave: `ptr` (0: none wanted) and the in/out
// length at `lenPtr`, read once here. check() before the system call,
// store() after it.
struct OutAddr {
  uint32_t ptr = 0, lenPtr = 0, cap = 0;
  void check(VMContext* vm, uint32_t p, uint32_t lp) {
    ptr = p;
    lenPtr = lp;
    if (!ptr) return;
    cap = host::guestLoad<uint32_t>(vm, lenPtr); // one copy; also checks lenPtr
    host::guestCheck(vm, ptr, cap);
  }
  void store(VMContext* vm, const sockaddr_storage& ss) const {
    if (!ptr) return;
    uint8_t g[kGuestIn6Size];
    uint32_t n = toGuest(ss, g);
    host::guestStoreBytes(vm, ptr, g, std::min(n, cap));
    host::guestStore<uint32_t>(vm, lenPtr, n);
  }
};

// The host socket behind guest fd `fd` with `rights`, or -1 and the errno.
int socketOf(VMContext* vm, int32_t fd, uint64_t rights, int32_t& err) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) {
    err = kEbadf;
    return -1;
  }
  if (!d.socket) {
    err = kEnotsock;
    return -1;
  }
  // Without the grant every call past socket() answers ENETUNREACH, before
  // any system call (the Faaslet's seccomp filter allows none of them).
  if (!wasiContextOf(vm).network) {
    err = kEnetunreach;
    return -1;
  }
  if (!d.has(rights)) {
    err = kEnotcapable;
    return -1;
  }
  return d.host;
}

// A new socket in the guest's table, its number stored at `outPtr`.
void insertSocket(VMContext* vm, int host, uint32_t outPtr) {
  auto file = ownedFile(host);
  file->isSocket = true;
  file->rightsBase = kSocketRights;
  file->rightsInheriting = kSocketRights;
  int32_t guestFd = insertFile(vm, std::move(file));
  host::guestStore<uint32_t>(vm, outPtr, uint32_t(guestFd));
}

int32_t netSocket(VMContext* vm, int32_t domain, int32_t type, int32_t protocol, int32_t outPtr) {
  host::guestCheck(vm, uint32_t(outPtr), 4);
  int hostDomain;
  if (domain == kGuestAfInet)
    hostDomain = AF_INET;
  else if (domain == kGuestAfInet6)
    hostDomain = AF_INET6;
  else
    return kEafnosupport;
  int32_t base = type & ~(kGuestSockNonblock | kGuestSockCloexec);
  int hostType;
  if (base == kGuestSockStream)
    hostType = SOCK_STREAM;
  else if (base == kGuestSockDgram)
    hostType = SOCK_DGRAM;
  else
    return kEprototype;
  if (protocol != 0 && !(hostType == SOCK_STREAM && protocol == IPPROTO_TCP) &&
      !(hostType == SOCK_DGRAM && protocol == IPPROTO_UDP))
    return kEprotonosupport;
  if (socketCount(vm) >= kMaxSockets) return kEmfile;
  WasiContext& ctx = wasiContextOf(vm);
  if (!ctx.network) {
    if (!ctx.prepareUnreachableSocket().empty()) return kEnfile;
    // A copy: closing it closes the shared descriptor only with the last.
    int32_t guestFd = insertFile(vm, std::make_shared<WasiContext::File>(*ctx.unreachable));
    host::guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(guestFd));
    return kSuccess;
  }
  // Always close-on-exec: a Faaslet never execs, and nothing may leak if it did.
  int host = ::socket(hostDomain,
                      hostType | SOCK_CLOEXEC | ((type & kGuestSockNonblock) ? SOCK_NONBLOCK : 0),
                      protocol);
  if (host < 0) return fromHostErrno(errno);
  insertSocket(vm, host, uint32_t(outPtr));
  return kSuccess;
}

int32_t netConnect(VMContext* vm, int32_t fd, int32_t addr, int32_t addrlen) {
  HostAddr a;
  int32_t err = loadAddr(vm, uint32_t(addr), uint32_t(addrlen), a);
  if (err != kSuccess) return err;
  int host = socketOf(vm, fd, 0, err);
  if (host < 0) return err;
  // EINTR is not retried: the connection goes on in the background, as for
  // any interrupted connect (the guest polls for it or sees EALREADY).
  return ::connect(host, a.sa(), a.len) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t netBind(VMContext* vm, int32_t fd, int32_t addr, int32_t addrlen) {
  HostAddr a;
  int32_t err = loadAddr(vm, uint32_t(addr), uint32_t(addrlen), a);
  if (err != kSuccess) return err;
  int host = socketOf(vm, fd, 0, err);
  if (host < 0) return err;
  return ::bind(host, a.sa(), a.len) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t netListen(VMContext* vm, int32_t fd, int32_t backlog) {
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, kRightSockAccept, err);
  if (host < 0) return err;
  // The kernel caps the backlog at somaxconn; a negative one means the default.
  return ::listen(host, backlog < 0 ? SOMAXCONN : backlog) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t netAccept(VMContext* vm, int32_t fd, int32_t flags, int32_t addr, int32_t addrlenPtr,
                  int32_t outPtr) {
  OutAddr out;
  out.check(vm, uint32_t(addr), uint32_t(addrlenPtr));
  host::guestCheck(vm, uint32_t(outPtr), 4);
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, kRightSockAccept, err);
  if (host < 0) return err;
  if (flags & ~(kGuestSockNonblock | kGuestSockCloexec)) return kEinval;
  if (socketCount(vm) >= kMaxSockets) return kEmfile;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  int conn;
  do {
    conn = ::accept4(host, reinterpret_cast<sockaddr*>(&ss), &sl,
                     SOCK_CLOEXEC | ((flags & kGuestSockNonblock) ? SOCK_NONBLOCK : 0));
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) return fromHostErrno(errno);
  insertSocket(vm, conn, uint32_t(outPtr));
  out.store(vm, ss);
  return kSuccess;
}

// The guest's send/recv flags as the host's, or -1 for one not supported.
int hostMsgFlags(int32_t flags, bool receiving) {
  int32_t allowed = kGuestMsgDontwait | (receiving ? kGuestMsgPeek | kGuestMsgWaitall : 0) |
                    (receiving ? 0 : kGuestMsgNosignal);
  if (flags & ~allowed) return -1;
  return ((flags & kGuestMsgDontwait) ? MSG_DONTWAIT : 0) |
         ((flags & kGuestMsgPeek) ? MSG_PEEK : 0) | ((flags & kGuestMsgWaitall) ? MSG_WAITALL : 0);
}

// MSG_NOSIGNAL always: a peer that went away is EPIPE, never a SIGPIPE
// that kills the Faaslet. addr 0: no address (a connected socket).
int32_t netSendto(VMContext* vm, int32_t fd, int32_t buf, int32_t len, int32_t flags, int32_t addr,
                  int32_t addrlen, int32_t outPtr) {
  host::GuestSpan span = host::guestSpan(vm, uint32_t(buf), uint32_t(len));
  HostAddr a;
  int32_t addrErr = kSuccess;
  if (addr) addrErr = loadAddr(vm, uint32_t(addr), uint32_t(addrlen), a);
  host::guestCheck(vm, uint32_t(outPtr), 4);
  if (addrErr != kSuccess) return addrErr;
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, kRightFdWrite, err);
  if (host < 0) return err;
  int hostFlags = hostMsgFlags(flags, false);
  if (hostFlags < 0) return kEnotsup;
  ssize_t n;
  do {
    n = ::sendto(host, span.data(), span.size(), hostFlags | MSG_NOSIGNAL, addr ? a.sa() : nullptr,
                 addr ? a.len : 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fromHostErrno(errno);
  host::guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(n));
  return kSuccess;
}

int32_t netRecvfrom(VMContext* vm, int32_t fd, int32_t buf, int32_t len, int32_t flags,
                    int32_t addr, int32_t addrlenPtr, int32_t outPtr) {
  host::GuestSpan span = host::guestSpan(vm, uint32_t(buf), uint32_t(len));
  OutAddr out;
  out.check(vm, uint32_t(addr), uint32_t(addrlenPtr));
  host::guestCheck(vm, uint32_t(outPtr), 4);
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, kRightFdRead, err);
  if (host < 0) return err;
  int hostFlags = hostMsgFlags(flags, true);
  if (hostFlags < 0) return kEnotsup;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ssize_t n;
  do {
    n = ::recvfrom(host, span.data(), span.size(), hostFlags, reinterpret_cast<sockaddr*>(&ss),
                   &sl);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fromHostErrno(errno);
  out.store(vm, ss);
  host::guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(n));
  return kSuccess;
}

int32_t netName(VMContext* vm, int32_t fd, int32_t addr, int32_t addrlenPtr, bool peer) {
  OutAddr out;
  out.check(vm, uint32_t(addr), uint32_t(addrlenPtr));
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, 0, err);
  if (host < 0) return err;
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  int r = peer ? ::getpeername(host, reinterpret_cast<sockaddr*>(&ss), &sl)
               : ::getsockname(host, reinterpret_cast<sockaddr*>(&ss), &sl);
  if (r != 0) return fromHostErrno(errno);
  out.store(vm, ss);
  return kSuccess;
}

int32_t netGetsockname(VMContext* vm, int32_t fd, int32_t addr, int32_t addrlenPtr) {
  return netName(vm, fd, addr, addrlenPtr, false);
}
int32_t netGetpeername(VMContext* vm, int32_t fd, int32_t addr, int32_t addrlenPtr) {
  return netName(vm, fd, addr, addrlenPtr, true);
}

// The options a guest may read or set, and how their values are laid out.
enum class OptKind { Int, Timeval, Linger, Type, ReadOnlyInt };
struct Option {
  int32_t guestLevel, guestName;
  int hostLevel, hostName;
  OptKind kind;
};
constexpr int32_t kGuestIpprotoTcp = 6, kGuestIpprotoIpv6 = 41;
constexpr Option kOptions[] = {
    {kGuestSolSocket, 2, SOL_SOCKET, SO_REUSEADDR, OptKind::Int},
    {kGuestSolSocket, 3, SOL_SOCKET, SO_TYPE, OptKind::Type},
    {kGuestSolSocket, 4, SOL_SOCKET, SO_ERROR, OptKind::ReadOnlyInt},
    {kGuestSolSocket, 6, SOL_SOCKET, SO_BROADCAST, OptKind::Int},
    {kGuestSolSocket, 7, SOL_SOCKET, SO_SNDBUF, OptKind::Int},
    {kGuestSolSocket, 8, SOL_SOCKET, SO_RCVBUF, OptKind::Int},
    {kGuestSolSocket, 9, SOL_SOCKET, SO_KEEPALIVE, OptKind::Int},
    {kGuestSolSocket, 13, SOL_SOCKET, SO_LINGER, OptKind::Linger},
    {kGuestSolSocket, 30, SOL_SOCKET, SO_ACCEPTCONN, OptKind::ReadOnlyInt},
    {kGuestSolSocket, 66, SOL_SOCKET, SO_RCVTIMEO, OptKind::Timeval},
    {kGuestSolSocket, 67, SOL_SOCKET, SO_SNDTIMEO, OptKind::Timeval},
    {kGuestIpprotoTcp, 1, IPPROTO_TCP, TCP_NODELAY, OptKind::Int},
    {kGuestIpprotoTcp, 4, IPPROTO_TCP, TCP_KEEPIDLE, OptKind::Int},
    {kGuestIpprotoTcp, 5, IPPROTO_TCP, TCP_KEEPINTVL, OptKind::Int},
    {kGuestIpprotoTcp, 6, IPPROTO_TCP, TCP_KEEPCNT, OptKind::Int},
    {kGuestIpprotoIpv6, 26, IPPROTO_IPV6, IPV6_V6ONLY, OptKind::Int},
};

const Option* findOption(int32_t level, int32_t name) {
  for (const Option& o : kOptions)
    if (o.guestLevel == level && o.guestName == name) return &o;
  return nullptr;
}

// The guest's struct timeval: two i64 (wasi-libc's time_t and suseconds_t).
struct GuestTimeval {
  int64_t sec, usec;
};

int32_t netSetsockopt(VMContext* vm, int32_t fd, int32_t level, int32_t name, int32_t val,
                      int32_t len) {
  host::guestCheck(vm, uint32_t(val), uint32_t(len));
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, 0, err);
  if (host < 0) return err;
  const Option* o = findOption(level, name);
  if (!o) return kEnoprotoopt;
  uint32_t n = uint32_t(len);
  int r;
  switch (o->kind) {
  case OptKind::Int: {
    if (n < 4) return kEinval;
    int32_t v = host::guestLoad<int32_t>(vm, uint32_t(val));
    int hv = v;
    r = ::setsockopt(host, o->hostLevel, o->hostName, &hv, sizeof hv);
    break;
  }
  case OptKind::Timeval: {
    if (n < sizeof(GuestTimeval)) return kEinval;
    GuestTimeval g = host::guestLoad<GuestTimeval>(vm, uint32_t(val));
    timeval tv{};
    tv.tv_sec = time_t(g.sec);
    tv.tv_usec = suseconds_t(g.usec);
    r = ::setsockopt(host, o->hostLevel, o->hostName, &tv, sizeof tv);
    break;
  }
  case OptKind::Linger: {
    if (n < 8) return kEinval;
    struct {
      int32_t onoff, seconds;
    } g = host::guestLoad<decltype(g)>(vm, uint32_t(val));
    linger l{g.onoff, g.seconds};
    r = ::setsockopt(host, o->hostLevel, o->hostName, &l, sizeof l);
    break;
  }
  default: return kEnoprotoopt; // read-only
  }
  return r == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t netGetsockopt(VMContext* vm, int32_t fd, int32_t level, int32_t name, int32_t val,
                      int32_t lenPtr) {
  uint32_t cap = host::guestLoad<uint32_t>(vm, uint32_t(lenPtr)); // one copy
  host::guestCheck(vm, uint32_t(val), cap);
  int32_t err = kSuccess;
  int host = socketOf(vm, fd, 0, err);
  if (host < 0) return err;
  const Option* o = findOption(level, name);
  if (!o) return kEnoprotoopt;
  uint8_t out[16];
  uint32_t n = 0;
  switch (o->kind) {
  case OptKind::Int:
  case OptKind::ReadOnlyInt:
  case OptKind::Type: {
    int hv = 0;
    socklen_t sl = sizeof hv;
    if (::getsockopt(host, o->hostLevel, o->hostName, &hv, &sl) != 0) return fromHostErrno(errno);
    int32_t v = hv;
    if (o->kind == OptKind::Type)
      v = hv == SOCK_STREAM ? kGuestSockStream : hv == SOCK_DGRAM ? kGuestSockDgram : 0;
    else if (o->hostName == SO_ERROR && o->hostLevel == SOL_SOCKET)
      v = fromHostErrno(hv);
    n = 4;
    std::memcpy(out, &v, 4);
    break;
  }
  case OptKind::Timeval: {
    timeval tv{};
    socklen_t sl = sizeof tv;
    if (::getsockopt(host, o->hostLevel, o->hostName, &tv, &sl) != 0) return fromHostErrno(errno);
    GuestTimeval g{int64_t(tv.tv_sec), int64_t(tv.tv_usec)};
    n = sizeof g;
    std::memcpy(out, &g, n);
    break;
  }
  case OptKind::Linger: {
    linger l{};
    socklen_t sl = sizeof l;
    if (::getsockopt(host, o->hostLevel, o->hostName, &l, &sl) != 0) return fromHostErrno(errno);
    int32_t g[2] = {l.l_onoff, l.l_linger};
    n = 8;
    std::memcpy(out, g, n);
    break;
  }
  }
  if (cap < n) return kEinval;
  host::guestStoreBytes(vm, uint32_t(val), out, n);
  host::guestStore<uint32_t>(vm, uint32_t(lenPtr), n);
  return kSuccess;
}

// A name getaddrinfo answers without asking anyone: localhost and the
// names of the host table the embedder gave (WasiContext::hosts).
void lookUp(const WasiContext& ctx, const std::string& name, std::vector<sockaddr_storage>& out) {
  std::string n = name;
  if (!n.empty() && n.back() == '.') n.pop_back();
  auto add = [&](const std::string& text) {
    sockaddr_storage ss{};
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) == 1)
      ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1)
      ss.ss_family = AF_INET6;
    else
      return;
    out.push_back(ss);
  };
  if (strcasecmp(n.c_str(), "localhost") == 0 ||
      strcasecmp(n.c_str(), "localhost.localdomain") == 0) {
    add("127.0.0.1");
    add("::1");
    return;
  }
  for (const auto& [host, address] : ctx.hosts)
    if (strcasecmp(host.c_str(), n.c_str()) == 0) add(address);
}

// getaddrinfo(node, service, hints) for names the host resolves without a
// resolver of its own: numeric addresses, localhost, and the host table the
// embedder read before confinement (/etc/hosts). Writes up to `cap` (at
// most kMaxAddrinfo) records at `out`, their count at `countPtr`. Returns 0
// or an EAI_* value.
int32_t netGetaddrinfo(VMContext* vm, int32_t node, int32_t nodeLen, int32_t service,
                       int32_t serviceLen, int32_t hintsPtr, int32_t out, int32_t cap,
                       int32_t countPtr) {
  uint32_t records = std::min(uint32_t(cap), kMaxAddrinfo);
  host::guestCheck(vm, uint32_t(out), uint64_t(uint32_t(cap)) * sizeof(GuestAddrinfo));
  host::guestCheck(vm, uint32_t(countPtr), 4);
  std::string name, serv;
  if (node) {
    host::guestCheck(vm, uint32_t(node), uint32_t(nodeLen));
    if (uint32_t(nodeLen) > kMaxNameLen) return kEaiNoname;
    name = host::guestLoadString(vm, uint32_t(node), uint32_t(nodeLen));
  }
  if (service) {
    host::guestCheck(vm, uint32_t(service), uint32_t(serviceLen));
    if (uint32_t(serviceLen) > kMaxServiceLen) return kEaiService;
    serv = host::guestLoadString(vm, uint32_t(service), uint32_t(serviceLen));
  }
  GuestHints hints{0, 0, 0, 0};
  if (hintsPtr) hints = host::guestLoad<GuestHints>(vm, uint32_t(hintsPtr));
  if (!node && !service) return kEaiNoname;
  if (uint32_t(hints.flags) & ~(kAiPassive | kAiNumerichost | kAiNumericserv | 0x2 /*CANONNAME*/))
    return kEaiBadflags;
  if (hints.family != 0 && hints.family != kGuestAfInet && hints.family != kGuestAfInet6)
    return kEaiFamily;
  if (hints.socktype != 0 && hints.socktype != kGuestSockStream &&
      hints.socktype != kGuestSockDgram)
    return kEaiSocktype;

  uint16_t port = 0;
  if (service) {
    char* end = nullptr;
    unsigned long p = std::strtoul(serv.c_str(), &end, 10);
    if (!serv.empty() && *end == '\0' && p <= 65535 && serv.find('-') == std::string::npos)
      port = uint16_t(p);
    else if (uint32_t(hints.flags) & kAiNumericserv)
      return kEaiNoname;
    else if (serv == "http")
      port = 80;
    else if (serv == "https")
      port = 443;
    else
      return kEaiService;
  }

  std::vector<sockaddr_storage> addrs;
  if (!node) {
    bool passive = uint32_t(hints.flags) & kAiPassive;
    sockaddr_storage v4{}, v6{};
    auto* in = reinterpret_cast<sockaddr_in*>(&v4);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&v6);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = passive ? in6addr_any : in6addr_loopback;
    addrs = {v4, v6};
  } else {
    sockaddr_storage ss{};
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, name.c_str(), &in->sin_addr) == 1) {
      ss.ss_family = AF_INET;
      addrs.push_back(ss);
    } else if (inet_pton(AF_INET6, name.c_str(), &in6->sin6_addr) == 1) {
      ss.ss_family = AF_INET6;
      addrs.push_back(ss);
    } else if (uint32_t(hints.flags) & kAiNumerichost) {
      return kEaiNoname;
    } else {
      lookUp(wasiContextOf(vm), name, addrs);
    }
  }

  std::vector<GuestAddrinfo> result;
  for (sockaddr_storage& ss : addrs) {
    uint16_t guestFamily = ss.ss_family == AF_INET ? kGuestAfInet : kGuestAfInet6;
    if (hints.family && hints.family != guestFamily) continue;
    if (ss.ss_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
    else
      reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    for (int32_t type : {kGuestSockStream, kGuestSockDgram}) {
      if (hints.socktype && hints.socktype != type) continue;
      GuestAddrinfo r{};
      r.family = guestFamily;
      r.socktype = type;
      r.protocol = type == kGuestSockStream ? IPPROTO_TCP : IPPROTO_UDP;
      r.addrlen = int32_t(toGuest(ss, r.addr));
      if (result.size() < records) result.push_back(r);
    }
  }
  if (result.empty()) return kEaiNoname;
  host::guestStoreBytes(vm, uint32_t(out), result.data(), result.size() * sizeof(GuestAddrinfo));
  host::guestStore<uint32_t>(vm, uint32_t(countPtr), uint32_t(result.size()));
  return kSuccess;
}

} // namespace

void addNet(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&netSocket>(kNetModule, "socket"));
  out.push_back(host::hostFunction<&netConnect>(kNetModule, "connect"));
  out.push_back(host::hostFunction<&netBind>(kNetModule, "bind"));
  out.push_back(host::hostFunction<&netListen>(kNetModule, "listen"));
  out.push_back(host::hostFunction<&netAccept>(kNetModule, "accept"));
  out.push_back(host::hostFunction<&netSendto>(kNetModule, "sendto"));
  out.push_back(host::hostFunction<&netRecvfrom>(kNetModule, "recvfrom"));
  out.push_back(host::hostFunction<&netGetsockopt>(kNetModule, "getsockopt"));
  out.push_back(host::hostFunction<&netSetsockopt>(kNetModule, "setsockopt"));
  out.push_back(host::hostFunction<&netGetsockname>(kNetModule, "getsockname"));
  out.push_back(host::hostFunction<&netGetpeername>(kNetModule, "getpeername"));
  out.push_back(host::hostFunction<&netGetaddrinfo>(kNetModule, "getaddrinfo"));
}

} // namespace faasm::wasi
