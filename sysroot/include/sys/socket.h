/* The sysroot's <sys/socket.h>: wasi-libc's, then the socket calls of module
 * faasm_net it leaves out (faasm/net.h, docs/Networking.md). */
#ifndef FAASM_SYSROOT_SYS_SOCKET_H
#define FAASM_SYSROOT_SYS_SOCKET_H
#pragma GCC system_header
#include <faasm/net.h>
#include_next <sys/socket.h>
#endif
