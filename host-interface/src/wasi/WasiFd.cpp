// Descriptors: fd_write, fd_read, fd_close, fd_seek, fd_fdstat_get,
// fd_fdstat_set_flags, fd_prestat_get, fd_prestat_dir_name. Only the three
// stdio descriptors exist for now; files and preopens will join them.
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace faasm::host::wasi {
namespace {

using runtime::guestBytes;
using runtime::guestLoad;
using runtime::guestStore;

constexpr uint8_t kFiletypeUnknown = 0;
constexpr uint8_t kFiletypeCharacterDevice = 2;
constexpr uint8_t kFiletypeRegularFile = 4;
constexpr uint64_t kRightFdRead = 1ull << 1;
constexpr uint64_t kRightFdSeek = 1ull << 2;
constexpr uint64_t kRightFdFdstatSetFlags = 1ull << 3;
constexpr uint64_t kRightFdTell = 1ull << 5;
constexpr uint64_t kRightFdWrite = 1ull << 6;
constexpr uint64_t kRightPollFdReadwrite = 1ull << 27;

// The host descriptor of guest fd `fd`, or -1 if it names none.
int hostFd(VMContext* vm, int32_t fd) {
  if (fd < 0 || fd > 2) return -1;
  return wasiContextOf(vm).stdioFds[fd];
}

// Validates an iovec array (8 bytes each: u32 buf, u32 len) and every buffer
// it names, before any I/O, so a bad one traps with nothing done.
void validateIovecs(VMContext* vm, uint32_t iovs, uint32_t count) {
  guestBytes(vm, iovs, uint64_t(count) * 8);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t buf = guestLoad<uint32_t>(vm, iovs + uint64_t(i) * 8);
    uint32_t len = guestLoad<uint32_t>(vm, iovs + uint64_t(i) * 8 + 4);
    guestBytes(vm, buf, len);
  }
}

// readv/writev in batches of host iovecs; stops at the first short transfer.
template <bool Write>
int32_t transfer(VMContext* vm, int32_t fd, int32_t iovsArg, int32_t countArg, int32_t outPtr) {
  uint32_t iovs = uint32_t(iovsArg), count = uint32_t(countArg);
  validateIovecs(vm, iovs, count);
  guestBytes(vm, uint32_t(outPtr), 4);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  uint64_t total = 0;
  constexpr uint32_t kBatch = 64;
  iovec batch[kBatch];
  for (uint32_t at = 0; at < count;) {
    uint32_t n = 0;
    uint64_t wanted = 0;
    for (; n < kBatch && at + n < count; ++n) {
      uint64_t entry = iovs + uint64_t(at + n) * 8;
      uint32_t buf = guestLoad<uint32_t>(vm, entry);
      uint32_t len = guestLoad<uint32_t>(vm, entry + 4);
      batch[n].iov_base = vm->memoryBase + buf;
      batch[n].iov_len = len;
      wanted += len;
    }
    ssize_t done = Write ? writev(host, batch, int(n)) : readv(host, batch, int(n));
    if (done < 0) {
      if (errno == EINTR) continue;
      if (total) break;
      return fromHostErrno(errno);
    }
    total += uint64_t(done);
    if (uint64_t(done) < wanted) break;
    at += n;
  }
  guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(total));
  return kSuccess;
}

int32_t fdWrite(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int32_t out) {
  return transfer<true>(vm, fd, iovs, n, out);
}
int32_t fdRead(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int32_t out) {
  return transfer<false>(vm, fd, iovs, n, out);
}

int32_t fdClose(VMContext* vm, int32_t fd) {
  if (hostFd(vm, fd) < 0) return kEbadf;
  // The host's own stdio stays open; the guest just loses the descriptor.
  wasiContextOf(vm).stdioFds[fd] = -1;
  return kSuccess;
}

int32_t fdSeek(VMContext* vm, int32_t fd, int64_t offset, int32_t whence, int32_t outPtr) {
  guestBytes(vm, uint32_t(outPtr), 8);
  if (hostFd(vm, fd) < 0) return kEbadf;
  if (whence < 0 || whence > 2) return kEinval;
  return kEspipe; // stdio is a stream to the guest
}

int32_t fdFdstatGet(VMContext* vm, int32_t fd, int32_t statPtr) {
  uint8_t* out = guestBytes(vm, uint32_t(statPtr), 24);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  struct stat st {};
  uint8_t filetype = kFiletypeUnknown;
  if (fstat(host, &st) == 0) {
    if (S_ISCHR(st.st_mode)) filetype = kFiletypeCharacterDevice;
    else if (S_ISREG(st.st_mode)) filetype = kFiletypeRegularFile;
  }
  uint64_t rights = kRightPollFdReadwrite | kRightFdFdstatSetFlags |
                    (fd == 0 ? kRightFdRead : kRightFdWrite);
  (void)kRightFdSeek;
  (void)kRightFdTell;
  std::memset(out, 0, 24);
  out[0] = filetype;                   // fs_filetype
  guestStore<uint16_t>(vm, uint32_t(statPtr) + 2, 0);      // fs_flags
  guestStore<uint64_t>(vm, uint32_t(statPtr) + 8, rights); // fs_rights_base
  guestStore<uint64_t>(vm, uint32_t(statPtr) + 16, 0);     // fs_rights_inheriting
  return kSuccess;
}

int32_t fdFdstatSetFlags(VMContext* vm, int32_t fd, int32_t flags) {
  if (hostFd(vm, fd) < 0) return kEbadf;
  // APPEND (1) is meaningless on a stream; NONBLOCK/SYNC are not offered.
  return (uint32_t(flags) & ~1u) ? kEnotsup : kSuccess;
}

int32_t fdPrestatGet(VMContext* vm, int32_t fd, int32_t ptr) {
  guestBytes(vm, uint32_t(ptr), 8);
  return kEbadf; // no preopened directories yet
}

int32_t fdPrestatDirName(VMContext* vm, int32_t fd, int32_t ptr, int32_t len) {
  guestBytes(vm, uint32_t(ptr), uint32_t(len));
  return kEbadf;
}

} // namespace

void registerFd(runtime::HostModuleRegistry& r) {
  r.addFunction(runtime::hostFunction<&fdWrite>(kWasiModule, "fd_write"));
  r.addFunction(runtime::hostFunction<&fdRead>(kWasiModule, "fd_read"));
  r.addFunction(runtime::hostFunction<&fdClose>(kWasiModule, "fd_close"));
  r.addFunction(runtime::hostFunction<&fdSeek>(kWasiModule, "fd_seek"));
  r.addFunction(runtime::hostFunction<&fdFdstatGet>(kWasiModule, "fd_fdstat_get"));
  r.addFunction(runtime::hostFunction<&fdFdstatSetFlags>(kWasiModule, "fd_fdstat_set_flags"));
  r.addFunction(runtime::hostFunction<&fdPrestatGet>(kWasiModule, "fd_prestat_get"));
  r.addFunction(runtime::hostFunction<&fdPrestatDirName>(kWasiModule, "fd_prestat_dir_name"));
}

} // namespace faasm::host::wasi
