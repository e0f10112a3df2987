/* The sysroot's <arpa/inet.h>: wasi-libc's, then the socket calls of module
 * faasm_net it leaves out (faasm/net.h, docs/Networking.md). */
#ifndef FAASM_SYSROOT_ARPA_INET_H
#define FAASM_SYSROOT_ARPA_INET_H
#pragma GCC system_header
// clang-format off: wasi-libc's header first, whose types faasm/netdb.h uses.
#include_next <arpa/inet.h>
#include <faasm/netdb.h>
// clang-format on
#endif
