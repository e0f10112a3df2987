#include "Protocol.h"

#include "faasm/isolation/RawSyscall.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace faasm::faaslet::protocol {
namespace {

// Only sendmsg/recvmsg: they are what the Faaslet's seccomp allow-list
// (loader/isolation) permits on descriptors, send/recv (sendto/recvfrom) are not.
ssize_t sendSome(int fd, const void* data, uint64_t size) {
  iovec iov{const_cast<void*>(data), size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  return ::sendmsg(fd, &msg, MSG_NOSIGNAL);
}

ssize_t recvSome(int fd, void* data, uint64_t size) {
  iovec iov{data, size};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  return ::recvmsg(fd, &msg, 0);
}

bool sendAll(int fd, const void* data, uint64_t size) {
  return transferAll(fd, static_cast<const uint8_t*>(data), size, sendSome);
}

bool recvAll(int fd, void* data, uint64_t size) {
  return transferAll(fd, static_cast<uint8_t*>(data), size, recvSome);
}

} // namespace

bool send(int fd, Msg type, uint32_t a, int32_t b, const void* payload, uint64_t length,
          int passFd) {
  Header h{uint32_t(type), a, b, 0, length};
  if (passFd >= 0) {
    iovec iov{&h, sizeof h};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &passFd, sizeof(int));
    ssize_t n;
    do
      n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    if (size_t(n) < sizeof h && !sendAll(fd, reinterpret_cast<uint8_t*>(&h) + n, sizeof h - n))
      return false;
  } else if (!sendAll(fd, &h, sizeof h)) {
    return false;
  }
  return length == 0 || sendAll(fd, payload, length);
}

bool receive(int fd, Message& out, int* outFd) {
  Header h{};
  if (outFd) *outFd = -1;
  iovec iov{&h, sizeof h};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c), sizeof(int));
      if (outFd)
        *outFd = passed;
      else
        ::close(passed);
    }
  }
  if (size_t(n) < sizeof h && !recvAll(fd, reinterpret_cast<uint8_t*>(&h) + n, sizeof h - n))
    return false;
  if (h.length > kMaxPayload) return false;
  out.type = Msg(h.type);
  out.a = h.a;
  out.b = h.b;
  out.payload.resize(h.length);
  return h.length == 0 || recvAll(fd, out.payload.data(), h.length);
}

bool receiveHeader(int fd, Header& out) {
  return recvAll(fd, &out, sizeof out);
}

bool receiveBytes(int fd, void* data, uint64_t length) {
  return length == 0 || recvAll(fd, data, length);
}

void dieWithParent(pid_t parent) {
  // Raw system calls: a new Faaslet's first steps (isolation/RawSyscall.h).
  if (isolation::rawSyscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL) != 0 ||
      isolation::rawSyscall(SYS_getppid) != parent)
    _exit(kLostScheduler);
}

} // namespace faasm::faaslet::protocol
