/* The sysroot's <netdb.h> (wasi-libc has none): getaddrinfo, freeaddrinfo,
 * gai_strerror and a numeric getnameinfo over module faasm_net
 * (faasm/netdb.h, docs/Networking.md). No DNS, no gethostbyname. */
#ifndef FAASM_SYSROOT_NETDB_H
#define FAASM_SYSROOT_NETDB_H
#pragma GCC system_header
// clang-format off: wasi-libc's types first, which faasm/netdb.h uses.
#include <netinet/in.h>
#include <arpa/inet.h>
#include <faasm/netdb.h>
// clang-format on
#endif
