/* The guest side of module "faasm_net" (docs/Networking.md): the BSD socket
 * calls wasi-libc leaves out (socket, connect, bind, listen, sendto,
 * recvfrom, setsockopt, getsockname, getpeername), and better versions of
 * those it has (accept with the peer's address, send/recv with
 * MSG_DONTWAIT, getsockopt beyond SO_TYPE), on top of the host's imports.
 * Included by the sysroot's <sys/socket.h> (faasm/netdb.h has the rest); wasi-libc's own types
 * (struct sockaddr and its family numbers, socklen_t, struct pollfd) stay as wasi-libc defines
 * them.
 *
 * Definitions are weak: every file that includes a socket header carries
 * them, the link keeps one, and wasi-libc's archive members of the same
 * names (accept, send, recv, getsockopt) are never pulled in. No library is
 * linked: the sysroot stays headers only.
 *
 * Errors: the imports return a WASI errno, which is wasi-libc's errno. */
#ifndef FAASM_NET_H
#define FAASM_NET_H
#pragma GCC system_header

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What wasi-libc's headers define only for upstream musl (Linux values; the
 * host translates each). */
#ifndef PF_INET
#define PF_UNSPEC AF_UNSPEC
#define PF_INET AF_INET
#define PF_INET6 AF_INET6
#endif
#ifndef SOMAXCONN
#define SOMAXCONN 128
#endif
#ifndef SO_REUSEADDR
#define SO_REUSEADDR 2
#define SO_ERROR 4
#define SO_BROADCAST 6
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_LINGER 13
#define SO_ACCEPTCONN 30
#define SO_RCVTIMEO 66
#define SO_SNDTIMEO 67
#endif
#ifndef MSG_DONTWAIT
#define MSG_DONTWAIT 0x40
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0x4000 /* always in effect: a gone peer is EPIPE */
#endif

#define FAASM_NET_IMPORT(n) __attribute__((import_module("faasm_net"), import_name(#n)))
#define FAASM_NET_DEF __attribute__((weak))

/* The imports: each returns 0 or a WASI errno; results through pointers. */
int32_t __faasm_net_socket(int32_t domain, int32_t type, int32_t protocol, int32_t* fd)
    FAASM_NET_IMPORT(socket);
int32_t __faasm_net_connect(int32_t fd, const void* addr, uint32_t addrlen)
    FAASM_NET_IMPORT(connect);
int32_t __faasm_net_bind(int32_t fd, const void* addr, uint32_t addrlen) FAASM_NET_IMPORT(bind);
int32_t __faasm_net_listen(int32_t fd, int32_t backlog) FAASM_NET_IMPORT(listen);
int32_t __faasm_net_accept(int32_t fd, int32_t flags, void* addr, uint32_t* addrlen, int32_t* newFd)
    FAASM_NET_IMPORT(accept);
int32_t __faasm_net_sendto(int32_t fd, const void* buf, uint32_t len, int32_t flags,
                           const void* addr, uint32_t addrlen, uint32_t* sent)
    FAASM_NET_IMPORT(sendto);
int32_t __faasm_net_recvfrom(int32_t fd, void* buf, uint32_t len, int32_t flags, void* addr,
                             uint32_t* addrlen, uint32_t* received) FAASM_NET_IMPORT(recvfrom);
int32_t __faasm_net_getsockopt(int32_t fd, int32_t level, int32_t name, void* value, uint32_t* len)
    FAASM_NET_IMPORT(getsockopt);
int32_t __faasm_net_setsockopt(int32_t fd, int32_t level, int32_t name, const void* value,
                               uint32_t len) FAASM_NET_IMPORT(setsockopt);
int32_t __faasm_net_getsockname(int32_t fd, void* addr, uint32_t* addrlen)
    FAASM_NET_IMPORT(getsockname);
int32_t __faasm_net_getpeername(int32_t fd, void* addr, uint32_t* addrlen)
    FAASM_NET_IMPORT(getpeername);
/* Records of 48 bytes: family, socktype, protocol, addrlen (i32), then the
 * address (32 bytes, the guest's layout). Returns 0 or an EAI_* value. */
int32_t __faasm_net_getaddrinfo(const char* node, uint32_t nodeLen, const char* service,
                                uint32_t serviceLen, const void* hints, void* records,
                                uint32_t capacity, uint32_t* count) FAASM_NET_IMPORT(getaddrinfo);

static inline int __faasm_net_result(int32_t error, int value) {
  if (error) {
    errno = error;
    return -1;
  }
  return value;
}

int socket(int domain, int type, int protocol);
int connect(int fd, const struct sockaddr* addr, socklen_t len);
int bind(int fd, const struct sockaddr* addr, socklen_t len);
int listen(int fd, int backlog);
int getsockname(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len);
int getpeername(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len);
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
               socklen_t addrlen);
ssize_t recvfrom(int fd, void* __restrict buf, size_t len, int flags,
                 struct sockaddr* __restrict addr, socklen_t* __restrict addrlen);
int setsockopt(int fd, int level, int name, const void* value, socklen_t len);

FAASM_NET_DEF int socket(int domain, int type, int protocol) {
  int32_t fd = -1;
  return __faasm_net_result(__faasm_net_socket(domain, type, protocol, &fd), fd);
}
FAASM_NET_DEF int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  return __faasm_net_result(__faasm_net_connect(fd, addr, len), 0);
}
FAASM_NET_DEF int bind(int fd, const struct sockaddr* addr, socklen_t len) {
  return __faasm_net_result(__faasm_net_bind(fd, addr, len), 0);
}
FAASM_NET_DEF int listen(int fd, int backlog) {
  return __faasm_net_result(__faasm_net_listen(fd, backlog), 0);
}
FAASM_NET_DEF int accept4(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len,
                          int flags) {
  int32_t conn = -1;
  return __faasm_net_result(__faasm_net_accept(fd, flags, addr, addr ? len : 0, &conn), conn);
}
FAASM_NET_DEF int accept(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len) {
  return accept4(fd, addr, len, 0);
}
FAASM_NET_DEF ssize_t sendto(int fd, const void* buf, size_t len, int flags,
                             const struct sockaddr* addr, socklen_t addrlen) {
  uint32_t sent = 0;
  int r = __faasm_net_result(
      __faasm_net_sendto(fd, buf, len, flags, addr, addr ? addrlen : 0, &sent), 0);
  return r < 0 ? -1 : (ssize_t)sent;
}
FAASM_NET_DEF ssize_t recvfrom(int fd, void* __restrict buf, size_t len, int flags,
                               struct sockaddr* __restrict addr, socklen_t* __restrict addrlen) {
  uint32_t received = 0;
  int r = __faasm_net_result(
      __faasm_net_recvfrom(fd, buf, len, flags, addr, addr ? addrlen : 0, &received), 0);
  return r < 0 ? -1 : (ssize_t)received;
}
FAASM_NET_DEF ssize_t send(int fd, const void* buf, size_t len, int flags) {
  return sendto(fd, buf, len, flags, 0, 0);
}
FAASM_NET_DEF ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return recvfrom(fd, buf, len, flags, 0, 0);
}
FAASM_NET_DEF int getsockopt(int fd, int level, int name, void* __restrict value,
                             socklen_t* __restrict len) {
  return __faasm_net_result(__faasm_net_getsockopt(fd, level, name, value, len), 0);
}
FAASM_NET_DEF int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
  return __faasm_net_result(__faasm_net_setsockopt(fd, level, name, value, len), 0);
}
FAASM_NET_DEF int getsockname(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len) {
  if (!addr) {
    errno = EFAULT;
    return -1;
  }
  return __faasm_net_result(__faasm_net_getsockname(fd, addr, len), 0);
}
FAASM_NET_DEF int getpeername(int fd, struct sockaddr* __restrict addr, socklen_t* __restrict len) {
  if (!addr) {
    errno = EFAULT;
    return -1;
  }
  return __faasm_net_result(__faasm_net_getpeername(fd, addr, len), 0);
}

#ifdef __cplusplus
}
#endif

#endif
