/* The WASI preview1 subset the benchmark kernels import, for modules
 * translated by wasm2c (WABT 1.0.32, Debian 12) with `-n kernel`, and the
 * host main() that runs their _start.
 *
 * It is a benchmark peer, not a sandbox: stdio only, no preopened
 * directories, an empty environment. Exit statuses follow faasm-run: the
 * guest's own code, 134 with `trap: <reason>` on stderr when it traps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "kernel.h"
#include "wasm-rt-impl.h"

enum { kSuccess = 0, kBadf = 8, kFault = 21, kInval = 28, kIo = 29, kSpipe = 70 };

struct Z_wasi_snapshot_preview1_instance_t {
  wasm_rt_memory_t* memory;
  int argc;
  char** argv;
};
typedef struct Z_wasi_snapshot_preview1_instance_t Wasi;

/* Guest pointers are checked against the memory before every use. */
static int inBounds(const Wasi* w, uint64_t offset, uint64_t length) {
  return offset + length <= w->memory->size;
}

static uint8_t* at(const Wasi* w, uint32_t offset) {
  return w->memory->data + offset;
}

static void store32(Wasi* w, uint32_t offset, uint32_t value) {
  memcpy(at(w, offset), &value, 4);
}
static void store64(Wasi* w, uint32_t offset, uint64_t value) {
  memcpy(at(w, offset), &value, 8);
}
static uint32_t load32(const Wasi* w, uint32_t offset) {
  uint32_t value;
  memcpy(&value, at(w, offset), 4);
  return value;
}

u32 Z_wasi_snapshot_preview1Z_args_sizes_get(Wasi* w, u32 countOut, u32 bytesOut) {
  if (!inBounds(w, countOut, 4) || !inBounds(w, bytesOut, 4)) return kFault;
  uint32_t bytes = 0;
  for (int i = 0; i < w->argc; i++)
    bytes += (uint32_t)strlen(w->argv[i]) + 1;
  store32(w, countOut, (uint32_t)w->argc);
  store32(w, bytesOut, bytes);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_args_get(Wasi* w, u32 pointersOut, u32 bytesOut) {
  uint32_t cursor = bytesOut;
  for (int i = 0; i < w->argc; i++) {
    uint32_t length = (uint32_t)strlen(w->argv[i]) + 1;
    if (!inBounds(w, pointersOut + 4ull * i, 4) || !inBounds(w, cursor, length)) return kFault;
    store32(w, pointersOut + 4 * (uint32_t)i, cursor);
    memcpy(at(w, cursor), w->argv[i], length);
    cursor += length;
  }
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_environ_sizes_get(Wasi* w, u32 countOut, u32 bytesOut) {
  if (!inBounds(w, countOut, 4) || !inBounds(w, bytesOut, 4)) return kFault;
  store32(w, countOut, 0);
  store32(w, bytesOut, 0);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_environ_get(Wasi* w, u32 pointersOut, u32 bytesOut) {
  (void)w, (void)pointersOut, (void)bytesOut;
  return kSuccess;
}

static int hostClock(uint32_t id, clockid_t* out) {
  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID};
  if (id >= 4) return 0;
  *out = clocks[id];
  return 1;
}

u32 Z_wasi_snapshot_preview1Z_clock_time_get(Wasi* w, u32 id, u64 precision, u32 timeOut) {
  (void)precision;
  clockid_t clock;
  struct timespec ts;
  if (!hostClock(id, &clock)) return kInval;
  if (!inBounds(w, timeOut, 8)) return kFault;
  if (clock_gettime(clock, &ts) != 0) return kInval;
  store64(w, timeOut, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_clock_res_get(Wasi* w, u32 id, u32 resolutionOut) {
  clockid_t clock;
  struct timespec ts;
  if (!hostClock(id, &clock)) return kInval;
  if (!inBounds(w, resolutionOut, 8)) return kFault;
  if (clock_getres(clock, &ts) != 0) return kInval;
  store64(w, resolutionOut, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_fd_write(Wasi* w, u32 fd, u32 iovs, u32 iovCount, u32 writtenOut) {
  if (fd != 1 && fd != 2) return kBadf;
  if (!inBounds(w, iovs, 8ull * iovCount) || !inBounds(w, writtenOut, 4)) return kFault;
  uint32_t total = 0;
  for (uint32_t i = 0; i < iovCount; i++) {
    uint32_t buffer = load32(w, iovs + 8 * i), length = load32(w, iovs + 8 * i + 4);
    if (!inBounds(w, buffer, length)) return kFault;
    while (length > 0) {
      ssize_t n = write((int)fd, at(w, buffer), length);
      if (n < 0) {
        if (errno == EINTR) continue;
        return kIo;
      }
      buffer += (uint32_t)n, length -= (uint32_t)n, total += (uint32_t)n;
    }
  }
  store32(w, writtenOut, total);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_fd_read(Wasi* w, u32 fd, u32 iovs, u32 iovCount, u32 readOut) {
  if (fd != 0) return kBadf;
  if (!inBounds(w, readOut, 4)) return kFault;
  (void)iovs, (void)iovCount;
  store32(w, readOut, 0); /* stdin is empty for the kernels */
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_fd_close(Wasi* w, u32 fd) {
  (void)w;
  return fd <= 2 ? kSuccess : kBadf;
}

u32 Z_wasi_snapshot_preview1Z_fd_seek(Wasi* w, u32 fd, u64 offset, u32 whence, u32 positionOut) {
  (void)w, (void)offset, (void)whence, (void)positionOut;
  return fd <= 2 ? kSpipe : kBadf;
}

/* struct fdstat: u8 filetype, u16 flags at 2, u64 rights at 8 and 16. */
u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(Wasi* w, u32 fd, u32 statOut) {
  if (fd > 2) return kBadf;
  if (!inBounds(w, statOut, 24)) return kFault;
  memset(at(w, statOut), 0, 24);
  *at(w, statOut) = 2; /* character device */
  store64(w, statOut + 8, ~0ull);
  store64(w, statOut + 16, ~0ull);
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_get(Wasi* w, u32 fd, u32 prestatOut) {
  (void)w, (void)fd, (void)prestatOut;
  return kBadf; /* no preopened directories */
}

u32 Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(Wasi* w, u32 fd, u32 path, u32 length) {
  (void)w, (void)fd, (void)path, (void)length;
  return kBadf;
}

u32 Z_wasi_snapshot_preview1Z_random_get(Wasi* w, u32 buffer, u32 length) {
  if (!inBounds(w, buffer, length)) return kFault;
  while (length > 0) {
    uint32_t chunk = length < 256 ? length : 256;
    if (getentropy(at(w, buffer), chunk) != 0) return kIo;
    buffer += chunk, length -= chunk;
  }
  return kSuccess;
}

u32 Z_wasi_snapshot_preview1Z_sched_yield(Wasi* w) {
  (void)w;
  return kSuccess;
}

void Z_wasi_snapshot_preview1Z_proc_exit(Wasi* w, u32 code) {
  (void)w;
  exit((int)code);
}

int main(int argc, char** argv) {
  static Z_kernel_instance_t instance;
  Wasi wasi = {NULL, argc, argv};
  wasm_rt_init();
  Z_kernel_init_module();
  Z_kernel_instantiate(&instance, &wasi);
  wasi.memory = Z_kernelZ_memory(&instance);
  wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    fprintf(stderr, "trap: %s\n", wasm_rt_strerror(trap));
    return 134;
  }
  Z_kernelZ__start(&instance);
  Z_kernel_free(&instance);
  wasm_rt_free();
  return 0;
}
