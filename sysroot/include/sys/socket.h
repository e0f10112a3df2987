/* The sysroot's <sys/socket.h>: wasi-libc's, then the socket calls of module
 * faasm_net it leaves out (faasm/net.h, docs/Networking.md). */
#ifndef FAASM_SYSROOT_SYS_SOCKET_H
#define FAASM_SYSROOT_SYS_SOCKET_H
#pragma GCC system_header
// clang-format off: wasi-libc's header first, whose types faasm/net.h uses.
#include_next <sys/socket.h>
#include <faasm/net.h>
// clang-format on
#endif
