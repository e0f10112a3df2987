// SUBTLE: system calls without libc, for the few a Faaslet makes between its
// fork and the guest's first instruction (dropping the zygote's descriptors,
// the parent-death signal, RLIMIT_NPROC). A Faaslet shares the zygote's code
// pages but none of their page table entries (fork copies none for a file
// mapping with no private pages), so each libc wrapper it calls there is a
// page fault, a few microseconds of every restore. These are the same system
// calls with the same arguments, so the seccomp allow-list and every check
// on them are unchanged; only the wrapper's page is not touched.
#pragma once

#include <cerrno>
#include <sys/syscall.h>
#include <unistd.h>

namespace faasm::isolation {

// System call `nr` with up to four arguments. Returns what the kernel
// returned: a negative errno on failure (errno is not set).
inline long rawSyscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0) noexcept {
#if defined(__x86_64__)
  long ret;
  register long r10 asm("r10") = d;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
               : "rcx", "r11", "memory");
  return ret;
#else
  long ret = ::syscall(nr, a, b, c, d);
  return ret == -1 ? -long(errno) : ret;
#endif
}

} // namespace faasm::isolation
