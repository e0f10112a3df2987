/* The sysroot's <netdb.h> (wasi-libc has none): getaddrinfo, freeaddrinfo,
 * gai_strerror and a numeric getnameinfo over module faasm_net
 * (faasm/netdb.h, docs/Networking.md). No DNS, no gethostbyname. */
#ifndef FAASM_SYSROOT_NETDB_H
#define FAASM_SYSROOT_NETDB_H
#pragma GCC system_header
#include <arpa/inet.h>
#include <faasm/netdb.h>
#include <netinet/in.h>
#endif
