/* The rest of module faasm_net's guest side (docs/Networking.md):
 * getaddrinfo and friends for <netdb.h>, and the calls of <arpa/inet.h>
 * wasi-libc leaves out. Included by the sysroot's <netdb.h> and
 * <arpa/inet.h>, after wasi-libc's <netinet/in.h> and <arpa/inet.h>, whose
 * types these need. Weak definitions, as in faasm/net.h. */
#ifndef FAASM_NETDB_H
#define FAASM_NETDB_H
#pragma GCC system_header

// clang-format off: the socket calls, then wasi-libc's address types.
#include <faasm/net.h>
#include <netinet/in.h>
#include <arpa/inet.h>
// clang-format on

#ifdef __cplusplus
extern "C" {
#endif

/* <netdb.h>: getaddrinfo for the names the host answers (numeric
 * addresses, localhost, the host's /etc/hosts as read when the function
 * started); no DNS. EAI_* are glibc's values. */
struct addrinfo {
  int ai_flags;
  int ai_family;
  int ai_socktype;
  int ai_protocol;
  socklen_t ai_addrlen;
  struct sockaddr* ai_addr;
  char* ai_canonname;
  struct addrinfo* ai_next;
};

#define AI_PASSIVE 0x01
#define AI_CANONNAME 0x02
#define AI_NUMERICHOST 0x04
#define AI_V4MAPPED 0x08
#define AI_ALL 0x10
#define AI_ADDRCONFIG 0x20
#define AI_NUMERICSERV 0x400

#define NI_NUMERICHOST 0x01
#define NI_NUMERICSERV 0x02
#define NI_NOFQDN 0x04
#define NI_NAMEREQD 0x08
#define NI_DGRAM 0x10
#define NI_MAXHOST 255
#define NI_MAXSERV 32

#define EAI_BADFLAGS -1
#define EAI_NONAME -2
#define EAI_AGAIN -3
#define EAI_FAIL -4
#define EAI_NODATA -5
#define EAI_FAMILY -6
#define EAI_SOCKTYPE -7
#define EAI_SERVICE -8
#define EAI_MEMORY -10
#define EAI_SYSTEM -11
#define EAI_OVERFLOW -12

struct __faasm_net_addrinfo_record {
  int32_t family, socktype, protocol, addrlen;
  uint8_t addr[32];
};

int getaddrinfo(const char* __restrict node, const char* __restrict service,
                const struct addrinfo* __restrict hints, struct addrinfo** __restrict res);
void freeaddrinfo(struct addrinfo* ai);
const char* gai_strerror(int error);
int getnameinfo(const struct sockaddr* __restrict addr, socklen_t addrlen, char* __restrict host,
                socklen_t hostlen, char* __restrict serv, socklen_t servlen, int flags);

FAASM_NET_DEF void freeaddrinfo(struct addrinfo* ai) {
  while (ai) {
    struct addrinfo* next = ai->ai_next;
    free(ai->ai_canonname);
    free(ai);
    ai = next;
  }
}

FAASM_NET_DEF int getaddrinfo(const char* __restrict node, const char* __restrict service,
                              const struct addrinfo* __restrict hints,
                              struct addrinfo** __restrict res) {
  struct __faasm_net_addrinfo_record records[16];
  int32_t h[4] = {0, 0, 0, 0};
  uint32_t count = 0;
  int32_t r;
  struct addrinfo *head = 0, **tail = &head;
  uint32_t i;
  if (hints) {
    h[0] = hints->ai_flags;
    h[1] = hints->ai_family;
    h[2] = hints->ai_socktype;
    h[3] = hints->ai_protocol;
  }
  r = __faasm_net_getaddrinfo(node, node ? (uint32_t)strlen(node) : 0, service,
                              service ? (uint32_t)strlen(service) : 0, hints ? h : 0, records, 16,
                              &count);
  if (r) return r;
  for (i = 0; i < count; ++i) {
    /* One allocation: the entry and its address (freed as one). */
    struct addrinfo* ai = (struct addrinfo*)calloc(1, sizeof(struct addrinfo) + 32);
    if (!ai) {
      freeaddrinfo(head);
      return EAI_MEMORY;
    }
    ai->ai_flags = h[0];
    ai->ai_family = records[i].family;
    ai->ai_socktype = records[i].socktype;
    ai->ai_protocol = records[i].protocol;
    ai->ai_addrlen = (socklen_t)records[i].addrlen;
    ai->ai_addr = (struct sockaddr*)(void*)((char*)ai + sizeof(struct addrinfo));
    memcpy(ai->ai_addr, records[i].addr, 32);
    if (i == 0 && node && (h[0] & AI_CANONNAME)) ai->ai_canonname = strdup(node);
    *tail = ai;
    tail = &ai->ai_next;
  }
  *res = head;
  return 0;
}

FAASM_NET_DEF const char* gai_strerror(int error) {
  switch (error) {
  case 0: return "Success";
  case EAI_BADFLAGS: return "Invalid flags";
  case EAI_NONAME: return "Name does not resolve";
  case EAI_AGAIN: return "Try again";
  case EAI_FAIL: return "Non-recoverable error";
  case EAI_FAMILY: return "Unrecognized address family or invalid length";
  case EAI_SOCKTYPE: return "Unrecognized socket type";
  case EAI_SERVICE: return "Unrecognized service";
  case EAI_MEMORY: return "Out of memory";
  case EAI_SYSTEM: return "System error";
  case EAI_OVERFLOW: return "Overflow";
  default: return "Unknown error";
  }
}

/* Always numeric (there is no reverse lookup): NI_NAMEREQD is EAI_NONAME. */
FAASM_NET_DEF int getnameinfo(const struct sockaddr* __restrict addr, socklen_t addrlen,
                              char* __restrict host, socklen_t hostlen, char* __restrict serv,
                              socklen_t servlen, int flags) {
  const void* ip;
  in_port_t port;
  if (!addr) return EAI_FAMILY;
  if (addr->sa_family == AF_INET && addrlen >= 8) {
    ip = &((const struct sockaddr_in*)(const void*)addr)->sin_addr;
    port = ((const struct sockaddr_in*)(const void*)addr)->sin_port;
  } else if (addr->sa_family == AF_INET6 && addrlen >= 28) {
    ip = &((const struct sockaddr_in6*)(const void*)addr)->sin6_addr;
    port = ((const struct sockaddr_in6*)(const void*)addr)->sin6_port;
  } else {
    return EAI_FAMILY;
  }
  if (host && hostlen) {
    if (flags & NI_NAMEREQD) return EAI_NONAME;
    if (!inet_ntop(addr->sa_family, ip, host, hostlen)) return EAI_OVERFLOW;
  }
  if (serv && servlen) {
    unsigned p = (unsigned)((port >> 8) | ((port & 0xff) << 8));
    char digits[6];
    int n = 0, k;
    do {
      digits[n++] = (char)('0' + p % 10);
      p /= 10;
    } while (p);
    if ((socklen_t)n + 1 > servlen) return EAI_OVERFLOW;
    for (k = 0; k < n; ++k)
      serv[k] = digits[n - 1 - k];
    serv[n] = 0;
  }
  return 0;
}

/* <arpa/inet.h>'s calls wasi-libc leaves out. */
in_addr_t inet_addr(const char* text);
char* inet_ntoa(struct in_addr in);
FAASM_NET_DEF in_addr_t inet_addr(const char* text) {
  struct in_addr a;
  return inet_pton(AF_INET, text, &a) == 1 ? a.s_addr : (in_addr_t)-1;
}
FAASM_NET_DEF char* inet_ntoa(struct in_addr in) {
  static char text[16];
  inet_ntop(AF_INET, &in, text, sizeof text);
  return text;
}

#ifdef __cplusplus
}
#endif

#endif
