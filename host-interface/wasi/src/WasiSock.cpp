// sock_accept, sock_recv, sock_send, sock_shutdown: preview1's sockets, which
// act only on sockets the embedder pre-opened (WasiContext::addSocket);
// preview1 has no call that makes one. A guest fd that is not a socket is
// ENOTSOCK, and so is stdio whatever the host holds behind it: it is a
// stream to the guest (WasiFd.cpp), and shutting down or peeking at the
// host's own socket is not the guest's to do.
#include "WasiPrivate.h"

#include <cerrno>
#include <sys/socket.h>
#include <sys/uio.h>

namespace faasm::wasi {
namespace {

constexpr uint32_t kFdflagNonblock = 4;
constexpr uint32_t kRiflagRecvPeek = 1, kRiflagRecvWaitall = 2;
constexpr uint16_t kRoflagRecvDataTruncated = 1;
constexpr uint32_t kSdflagRd = 1, kSdflagWr = 2;

struct GuestIovec {
  uint32_t buf;
  uint32_t len;
};
static_assert(sizeof(GuestIovec) == 8);
constexpr uint32_t kIovMax = 1024; // Linux's IOV_MAX, as fd_read and fd_write

// Copies the guest's iovec array once and checks each buffer; the system
// call then uses only these host iovecs (as fd_read/fd_write do).
int32_t copyIovecs(VMContext* vm, uint32_t iovs, uint32_t count, std::vector<iovec>& out) {
  host::guestCheck(vm, iovs, uint64_t(count) * sizeof(GuestIovec));
  if (count > kIovMax) return kEinval;
  std::vector<GuestIovec> copy = host::guestLoadArray<GuestIovec>(vm, iovs, count);
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    host::GuestSpan span = host::guestSpan(vm, copy[i].buf, copy[i].len);
    out[i].iov_base = span.data();
    out[i].iov_len = span.size();
  }
  return kSuccess;
}

// The socket behind `fd` with `rights`, or -1 and the errno.
int socketFd(VMContext* vm, int32_t fd, uint64_t rights, int32_t& outErr) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) {
    outErr = kEbadf;
    return -1;
  }
  if (!d.socket) {
    outErr = kEnotsock;
    return -1;
  }
  if (!d.has(rights)) {
    outErr = kEnotcapable;
    return -1;
  }
  return d.host;
}

int32_t sockAccept(VMContext* vm, int32_t fd, int32_t flags, int32_t outPtr) {
  host::guestCheck(vm, uint32_t(outPtr), 4);
  int32_t err = kSuccess;
  int host = socketFd(vm, fd, kRightSockAccept, err);
  if (host < 0) return err;
  if (uint32_t(flags) & ~kFdflagNonblock) return kEinval;
  int conn;
  do {
    conn = accept4(host, nullptr, nullptr,
                   SOCK_CLOEXEC | ((uint32_t(flags) & kFdflagNonblock) ? SOCK_NONBLOCK : 0));
  } while (conn < 0 && errno == EINTR);
  if (conn < 0) return fromHostErrno(errno);
  auto file = ownedFile(conn);
  file->isSocket = true;
  // A connection gets what the listener passes on, as path_open's files do.
  uint64_t inheriting = fdView(vm, fd).rightsInheriting;
  file->rightsBase = inheriting & kSocketRights & ~kRightSockAccept;
  file->rightsInheriting = inheriting;
  int32_t guestFd = insertFile(vm, std::move(file));
  host::guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(guestFd));
  return kSuccess;
}

int32_t sockRecv(VMContext* vm, int32_t fd, int32_t iovs, int32_t count, int32_t riflags,
                 int32_t outLenPtr, int32_t outFlagsPtr) {
  std::vector<iovec> buffers;
  int32_t err = copyIovecs(vm, uint32_t(iovs), uint32_t(count), buffers);
  host::guestCheck(vm, uint32_t(outLenPtr), 4);
  host::guestCheck(vm, uint32_t(outFlagsPtr), 2);
  if (err != kSuccess) return err;
  int host = socketFd(vm, fd, kRightFdRead, err);
  if (host < 0) return err;
  if (uint32_t(riflags) & ~(kRiflagRecvPeek | kRiflagRecvWaitall)) return kEinval;
  msghdr msg{};
  msg.msg_iov = buffers.data();
  msg.msg_iovlen = buffers.size();
  int hostFlags = ((riflags & kRiflagRecvPeek) ? MSG_PEEK : 0) |
                  ((riflags & kRiflagRecvWaitall) ? MSG_WAITALL : 0) | MSG_CMSG_CLOEXEC;
  ssize_t n;
  do {
    n = recvmsg(host, &msg, hostFlags);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fromHostErrno(errno);
  uint16_t roflags = (msg.msg_flags & MSG_TRUNC) ? kRoflagRecvDataTruncated : 0;
  host::guestStore<uint32_t>(vm, uint32_t(outLenPtr), uint32_t(n));
  host::guestStore<uint16_t>(vm, uint32_t(outFlagsPtr), roflags);
  return kSuccess;
}

// siflags has no flags in preview1: any bit is ENOTSUP. MSG_NOSIGNAL: a
// peer that went away is EPIPE, never a SIGPIPE that kills the Faaslet.
int32_t sockSend(VMContext* vm, int32_t fd, int32_t iovs, int32_t count, int32_t siflags,
                 int32_t outLenPtr) {
  std::vector<iovec> buffers;
  int32_t err = copyIovecs(vm, uint32_t(iovs), uint32_t(count), buffers);
  host::guestCheck(vm, uint32_t(outLenPtr), 4);
  if (err != kSuccess) return err;
  int host = socketFd(vm, fd, kRightFdWrite, err);
  if (host < 0) return err;
  if (siflags != 0) return kEnotsup;
  msghdr msg{};
  msg.msg_iov = buffers.data();
  msg.msg_iovlen = buffers.size();
  ssize_t n;
  do {
    n = sendmsg(host, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fromHostErrno(errno);
  host::guestStore<uint32_t>(vm, uint32_t(outLenPtr), uint32_t(n));
  return kSuccess;
}

int32_t sockShutdown(VMContext* vm, int32_t fd, int32_t how) {
  int32_t err = kSuccess;
  int host = socketFd(vm, fd, kRightSockShutdown, err);
  if (host < 0) return err;
  int hostHow;
  switch (uint32_t(how)) {
  case kSdflagRd: hostHow = SHUT_RD; break;
  case kSdflagWr: hostHow = SHUT_WR; break;
  case kSdflagRd | kSdflagWr: hostHow = SHUT_RDWR; break;
  default: return kEinval;
  }
  return shutdown(host, hostHow) == 0 ? kSuccess : fromHostErrno(errno);
}

} // namespace

void addSock(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&sockAccept>(kWasiModule, "sock_accept"));
  out.push_back(host::hostFunction<&sockRecv>(kWasiModule, "sock_recv"));
  out.push_back(host::hostFunction<&sockSend>(kWasiModule, "sock_send"));
  out.push_back(host::hostFunction<&sockShutdown>(kWasiModule, "sock_shutdown"));
}

} // namespace faasm::wasi
