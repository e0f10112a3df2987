// A guest of ordinary BSD-socket C (sys/socket.h, netdb.h, poll.h) for the
// networking tests (tests/e2e-net/net.py). Each mode prints what it saw, one
// line per check, "ok ..." or "FAIL ...", and exits 0 only if all passed:
//   tcp-echo HOST PORT       connect, send a line, read the echo, peer name
//   udp-echo HOST PORT       sendto/recvfrom a datagram to the host's echo
//   http-get HOST PORT PATH  an HTTP/1.1 GET: prints the status and the body
//   poll2 HOST PORT          two connections to the echo server; only the
//                            one written to becomes readable
//   resolve                  getaddrinfo of localhost, numeric names, errors
//   serve PORT               listen, print "listening ADDR PORT", accept one
//                            connection, echo a line back upper-cased
//   sink PORT                listen, print "listening ADDR PORT", accept one
//                            connection, read to its end, print "received N"
//   unreach HOST PORT        connect and sendto: ENETUNREACH, at once
//   exhaust                  sockets until the per-Faaslet limit (EMFILE)
//   confuse                  socket calls on a non-socket and file calls on
//                            a socket: errors, never a crash
//   options                  setsockopt/getsockopt round trips
// HOST may be "gateway": the host's side of the Faaslet's veth pair, found
// from the Faaslet's own address (see docs/Networking.md). ADDR is that own
// address (127.0.0.1 when there is no route into the veth block).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int failures = 0;

static void check(int ok, const char* what, int err) {
  if (ok) {
    printf("ok %s\n", what);
  } else {
    printf("FAIL %s (errno %d: %s)\n", what, err, strerror(err));
    failures++;
  }
  fflush(stdout);
}

// The address the host is at: numeric, or "gateway" (the Faaslet's own
// address on its veth, minus one; learned with a UDP socket connected into
// the pool, which sends nothing).
static struct sockaddr_in hostAddr(const char* host, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (strcmp(host, "gateway") == 0) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in probe = a, self;
    socklen_t len = sizeof self;
    inet_pton(AF_INET, "100.64.0.1", &probe.sin_addr);
    probe.sin_port = htons(9);
    if (s < 0 || connect(s, (struct sockaddr*)&probe, sizeof probe) != 0 ||
        getsockname(s, (struct sockaddr*)&self, &len) != 0) {
      check(0, "find the gateway", errno);
      exit(1);
    }
    close(s);
    a.sin_addr.s_addr = htonl(ntohl(self.sin_addr.s_addr) - 1);
  } else if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    check(0, "numeric host", EINVAL);
    exit(1);
  }
  return a;
}

// The Faaslet's own address: the source a UDP socket connected into the
// veth block gets (sends nothing); 127.0.0.1 when there is no route there.
static void ownAddress(char* text, size_t size) {
  struct sockaddr_in probe, self;
  socklen_t len = sizeof self;
  memset(&probe, 0, sizeof probe);
  probe.sin_family = AF_INET;
  probe.sin_port = htons(9);
  inet_pton(AF_INET, "100.64.0.1", &probe.sin_addr);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s >= 0 && connect(s, (struct sockaddr*)&probe, sizeof probe) == 0 &&
      getsockname(s, (struct sockaddr*)&self, &len) == 0)
    inet_ntop(AF_INET, &self.sin_addr, text, (socklen_t)size);
  else
    snprintf(text, size, "127.0.0.1");
  if (s >= 0) close(s);
}

static int connectTo(struct sockaddr_in a) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) {
    int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  return s;
}

static int tcpEcho(const char* host, int port) {
  struct sockaddr_in a = hostAddr(host, port);
  int s = connectTo(a);
  check(s >= 0, "connect", errno);
  if (s < 0) return 1;
  int one = 1;
  check(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY", errno);
  const char msg[] = "hello over tcp\n";
  check(send(s, msg, sizeof msg - 1, 0) == (ssize_t)(sizeof msg - 1), "send", errno);
  char buf[64];
  size_t got = 0;
  while (got < sizeof msg - 1) {
    ssize_t n = recv(s, buf + got, sizeof buf - got, 0);
    if (n <= 0) break;
    got += (size_t)n;
  }
  check(got == sizeof msg - 1 && memcmp(buf, msg, got) == 0, "echo received", errno);
  struct sockaddr_in peer;
  socklen_t len = sizeof peer;
  check(getpeername(s, (struct sockaddr*)&peer, &len) == 0 && peer.sin_family == AF_INET &&
            peer.sin_port == a.sin_port && peer.sin_addr.s_addr == a.sin_addr.s_addr,
        "getpeername", errno);
  check(shutdown(s, SHUT_WR) == 0, "shutdown", errno);
  check(recv(s, buf, sizeof buf, 0) == 0, "peer closed after shutdown", errno);
  check(close(s) == 0, "close", errno);
  return failures != 0;
}

static int udpEcho(const char* host, int port) {
  struct sockaddr_in a = hostAddr(host, port);
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  check(s >= 0, "udp socket", errno);
  struct timeval tv = {5, 0};
  check(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, "SO_RCVTIMEO", errno);
  const char msg[] = "datagram";
  check(sendto(s, msg, sizeof msg, 0, (struct sockaddr*)&a, sizeof a) == (ssize_t)sizeof msg,
        "sendto", errno);
  char buf[64];
  struct sockaddr_in from;
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr*)&from, &len);
  check(n == (ssize_t)sizeof msg && memcmp(buf, msg, sizeof msg) == 0, "recvfrom", errno);
  check(from.sin_port == a.sin_port && from.sin_addr.s_addr == a.sin_addr.s_addr,
        "reply from the echo's address", 0);
  close(s);
  return failures != 0;
}

static int poll2(const char* host, int port) {
  struct sockaddr_in a = hostAddr(host, port);
  int s1 = connectTo(a), s2 = connectTo(a);
  check(s1 >= 0 && s2 >= 0, "two connections", errno);
  if (s1 < 0 || s2 < 0) return 1;
  struct pollfd fds[2] = {{s1, POLLIN, 0}, {s2, POLLIN, 0}};
  check(poll(fds, 2, 0) == 0, "nothing readable yet", errno);
  check(send(s2, "x\n", 2, 0) == 2, "write to the second", errno);
  int n = poll(fds, 2, 10000);
  check(n == 1 && (fds[1].revents & POLLIN) && !(fds[0].revents & POLLIN),
        "only the second is readable", errno);
  fds[0].events = POLLOUT;
  fds[1].events = 0;
  n = poll(fds, 1, 10000);
  check(n == 1 && (fds[0].revents & POLLOUT), "the first is writable", errno);
  close(s1);
  close(s2);
  return failures != 0;
}

static int resolve(void) {
  struct addrinfo hints, *res = 0, *p;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo("localhost", "8080", &hints, &res);
  check(r == 0 && res, "getaddrinfo localhost", r);
  int v4 = 0, v6 = 0;
  for (p = res; p; p = p->ai_next) {
    if (p->ai_family == AF_INET) {
      struct sockaddr_in* in = (struct sockaddr_in*)(void*)p->ai_addr;
      v4 += ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK && ntohs(in->sin_port) == 8080;
    } else if (p->ai_family == AF_INET6) {
      struct sockaddr_in6* in6 = (struct sockaddr_in6*)(void*)p->ai_addr;
      v6 += IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) && ntohs(in6->sin6_port) == 8080;
    }
    check(p->ai_socktype == SOCK_STREAM && p->ai_protocol == IPPROTO_TCP, "stream entries only", 0);
  }
  check(v4 == 1 && v6 == 1, "127.0.0.1 and ::1, port 8080", 0);
  freeaddrinfo(res);
  res = 0;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  r = getaddrinfo("192.0.2.7", "53", &hints, &res);
  char text[INET_ADDRSTRLEN];
  check(r == 0 && res && !res->ai_next &&
            inet_ntop(AF_INET, &((struct sockaddr_in*)(void*)res->ai_addr)->sin_addr, text,
                      sizeof text) &&
            strcmp(text, "192.0.2.7") == 0,
        "numeric address", r);
  freeaddrinfo(res);
  check(getaddrinfo("no-such-name.invalid", "80", 0, &res) == EAI_NONAME, "unknown name", 0);
  check(getaddrinfo("localhost", "no-such-service", 0, &res) == EAI_SERVICE, "unknown service", 0);
  hints.ai_family = 99;
  check(getaddrinfo("localhost", "80", &hints, &res) == EAI_FAMILY, "bad family", 0);
  char host[NI_MAXHOST], serv[NI_MAXSERV];
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_port = htons(443);
  in.sin_addr.s_addr = inet_addr("10.1.2.3");
  check(getnameinfo((struct sockaddr*)&in, sizeof in, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0 &&
            strcmp(host, "10.1.2.3") == 0 && strcmp(serv, "443") == 0,
        "getnameinfo", 0);
  return failures != 0;
}

static int serve(int port, int sink) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  check(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "SO_REUSEADDR", errno);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  check(bind(s, (struct sockaddr*)&a, sizeof a) == 0, "bind", errno);
  check(listen(s, 4) == 0, "listen", errno);
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  check(getsockname(s, (struct sockaddr*)&bound, &len) == 0, "getsockname", errno);
  char self[INET_ADDRSTRLEN];
  ownAddress(self, sizeof self);
  printf("listening %s %d\n", self, ntohs(bound.sin_port));
  fflush(stdout);
  struct sockaddr_in peer;
  len = sizeof peer;
  int c = accept(s, (struct sockaddr*)&peer, &len);
  check(c >= 0 && len == sizeof peer && peer.sin_family == AF_INET, "accept with address", errno);
  char buf[128];
  if (sink) {
    static char big[65536];
    long total = 0;
    ssize_t got;
    while ((got = recv(c, big, sizeof big, 0)) > 0)
      total += got;
    check(got == 0, "read to the end", errno);
    printf("received %ld\n", total);
    close(c);
    close(s);
    return failures != 0;
  }
  ssize_t n = recv(c, buf, sizeof buf, 0);
  check(n > 0, "read a line", errno);
  for (ssize_t i = 0; i < n; ++i)
    if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] = (char)(buf[i] - 'a' + 'A');
  check(write(c, buf, (size_t)n) == n, "write it back", errno); // fd_write on a socket
  close(c);
  close(s);
  return failures != 0;
}

static int unreach(const char* host, int port) {
  struct sockaddr_in a = hostAddr(host, port);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  check(s >= 0, "socket without the network", errno);
  int r = connect(s, (struct sockaddr*)&a, sizeof a);
  check(r == -1 && errno == ENETUNREACH, "connect: ENETUNREACH", errno);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  r = (int)sendto(u, "x", 1, 0, (struct sockaddr*)&a, sizeof a);
  check(r == -1 && errno == ENETUNREACH, "sendto: ENETUNREACH", errno);
  struct sockaddr_in6 b;
  memset(&b, 0, sizeof b);
  b.sin6_family = AF_INET6;
  b.sin6_port = htons(80);
  inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
  int s6 = socket(AF_INET6, SOCK_STREAM, 0);
  r = connect(s6, (struct sockaddr*)&b, sizeof b);
  check(r == -1 && errno == ENETUNREACH, "connect over IPv6: ENETUNREACH", errno);
  return failures != 0;
}

static int exhaust(void) {
  int count = 0, last = 0;
  for (int i = 0; i < 1000; ++i) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
      last = errno;
      break;
    }
    count++;
  }
  printf("sockets: %d\n", count);
  check(count == 64 && last == EMFILE, "64 sockets, then EMFILE", last);
  return failures != 0;
}

static int confuse(void) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  check(connect(1, (struct sockaddr*)&a, sizeof a) == -1 && errno == ENOTSOCK,
        "connect on stdout: ENOTSOCK", errno);
  check(listen(0, 1) == -1 && errno == ENOTSOCK, "listen on stdin: ENOTSOCK", errno);
  check(accept(2, 0, 0) == -1 && errno == ENOTSOCK, "accept on stderr: ENOTSOCK", errno);
  check(connect(999, (struct sockaddr*)&a, sizeof a) == -1 && errno == EBADF,
        "connect on no fd: EBADF", errno);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  check(lseek(s, 0, SEEK_SET) == -1 && errno == ESPIPE, "lseek on a socket: ESPIPE", errno);
  check(openat(s, "x", O_RDONLY) == -1, "openat under a socket fails", errno);
  check(socket(AF_UNIX, SOCK_STREAM, 0) == -1 && errno == EAFNOSUPPORT, "AF_UNIX: EAFNOSUPPORT",
        errno);
  check(socket(AF_INET, 3 /* raw */, 0) == -1 && errno == EPROTOTYPE, "raw: EPROTOTYPE", errno);
  check(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP) == -1 && errno == EPROTONOSUPPORT,
        "stream over UDP: EPROTONOSUPPORT", errno);
  return failures != 0;
}

static int options(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0), v = 0;
  socklen_t len = sizeof v;
  int one = 1;
  check(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0, "set SO_KEEPALIVE", errno);
  check(getsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &v, &len) == 0 && v == 1 && len == sizeof v,
        "get SO_KEEPALIVE", errno);
  int size = 65536;
  check(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) == 0, "set SO_SNDBUF", errno);
  check(getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &len) == 0 && v >= 65536, "get SO_SNDBUF", errno);
  check(getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &len) == 0 && v == SOCK_STREAM, "SO_TYPE", errno);
  struct timeval tv = {2, 500000}, back;
  socklen_t tlen = sizeof back;
  check(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0, "set SO_SNDTIMEO", errno);
  check(getsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &back, &tlen) == 0 && back.tv_sec == 2 &&
            back.tv_usec == 500000,
        "get SO_SNDTIMEO", errno);
  check(setsockopt(s, SOL_SOCKET, 12345, &one, sizeof one) == -1 && errno == ENOPROTOOPT,
        "unknown option: ENOPROTOOPT", errno);
  check(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, 2) == -1 && errno == EINVAL,
        "short value: EINVAL", errno);
  return failures != 0;
}

// A minimal HTTP/1.1 client, as a function calling a web service would be:
// one request with Connection: close, the response read to the end.
static int httpGet(const char* host, int port, const char* path) {
  int s = connectTo(hostAddr(host, port));
  check(s >= 0, "http connect", errno);
  if (s < 0) return 1;
  char request[512];
  int n = snprintf(request, sizeof request,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: faasm-net-test\r\n"
                   "Connection: close\r\n\r\n",
                   path, host, port);
  check(n > 0 && (size_t)n < sizeof request && send(s, request, (size_t)n, 0) == n,
        "http request sent", errno);
  static char response[65536];
  size_t got = 0;
  for (;;) {
    ssize_t r = recv(s, response + got, sizeof response - 1 - got, 0);
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof response - 1) break;
  }
  response[got] = 0;
  close(s);
  int status = 0;
  check(sscanf(response, "HTTP/1.%*d %d", &status) == 1, "http status line", 0);
  const char* body = strstr(response, "\r\n\r\n");
  check(body != NULL, "http header end", 0);
  printf("status %d\nbody %s\n", status, body ? body + 4 : "");
  return failures != 0 || status != 200;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (!strcmp(mode, "tcp-echo") && argc == 4) return tcpEcho(argv[2], atoi(argv[3]));
  if (!strcmp(mode, "udp-echo") && argc == 4) return udpEcho(argv[2], atoi(argv[3]));
  if (!strcmp(mode, "http-get") && argc == 5) return httpGet(argv[2], atoi(argv[3]), argv[4]);
  if (!strcmp(mode, "poll2") && argc == 4) return poll2(argv[2], atoi(argv[3]));
  if (!strcmp(mode, "resolve")) return resolve();
  if (!strcmp(mode, "serve") && argc == 3) return serve(atoi(argv[2]), 0);
  if (!strcmp(mode, "sink") && argc == 3) return serve(atoi(argv[2]), 1);
  if (!strcmp(mode, "unreach") && argc == 4) return unreach(argv[2], atoi(argv[3]));
  if (!strcmp(mode, "exhaust")) return exhaust();
  if (!strcmp(mode, "confuse")) return confuse();
  if (!strcmp(mode, "options")) return options();
  fprintf(stderr, "net: unknown mode %s\n", mode);
  return 2;
}
