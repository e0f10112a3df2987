// Descriptors: fd_write, fd_read, fd_pwrite, fd_pread, fd_close, fd_seek,
// fd_tell, fd_sync, fd_datasync, fd_fdstat_get, fd_fdstat_set_flags,
// fd_prestat_get, fd_prestat_dir_name, for stdio (0..2) and the preopens and
// files of WasiFiles.cpp (3 and up).
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace faasm::wasi {
namespace {

using host::guestBytes;
using host::guestLoad;
using host::guestStore;

int hostFd(VMContext* vm, int32_t fd) {
  return hostFdOf(vm, fd);
}

// A preopened directory or a directory is not a byte stream.
bool isDirectoryFd(VMContext* vm, int32_t fd) {
  WasiContext::File* f = fileOf(vm, fd);
  return f && f->isDirectory;
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
// offset < 0: at the file position (readv/writev), else preadv/pwritev there.
template <bool Write>
int32_t transfer(VMContext* vm, int32_t fd, int32_t iovsArg, int32_t countArg, int32_t outPtr,
                 int64_t offset = -1) {
  uint32_t iovs = uint32_t(iovsArg), count = uint32_t(countArg);
  validateIovecs(vm, iovs, count);
  guestBytes(vm, uint32_t(outPtr), 4);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  if (isDirectoryFd(vm, fd)) return kEisdir;
  if (offset >= 0 && fd <= 2) return kEspipe;
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
    ssize_t done;
    if (offset < 0)
      done = Write ? writev(host, batch, int(n)) : readv(host, batch, int(n));
    else
      done = Write ? pwritev(host, batch, int(n), off_t(uint64_t(offset) + total))
                   : preadv(host, batch, int(n), off_t(uint64_t(offset) + total));
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

int32_t fdPwrite(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int64_t offset, int32_t out) {
  if (offset < 0) {
    validateIovecs(vm, uint32_t(iovs), uint32_t(n));
    guestBytes(vm, uint32_t(out), 4);
    return hostFd(vm, fd) < 0 ? kEbadf : kEinval;
  }
  return transfer<true>(vm, fd, iovs, n, out, offset);
}
int32_t fdPread(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int64_t offset, int32_t out) {
  if (offset < 0) {
    validateIovecs(vm, uint32_t(iovs), uint32_t(n));
    guestBytes(vm, uint32_t(out), 4);
    return hostFd(vm, fd) < 0 ? kEbadf : kEinval;
  }
  return transfer<false>(vm, fd, iovs, n, out, offset);
}

int32_t fdClose(VMContext* vm, int32_t fd) {
  if (hostFd(vm, fd) < 0) return kEbadf;
  if (fd > 2) {
    wasiContextOf(vm).files.erase(fd); // closes the host descriptor
    return kSuccess;
  }
  // The host's own stdio stays open; the guest just loses the descriptor.
  wasiContextOf(vm).stdioFds[fd] = -1;
  return kSuccess;
}

int32_t fdSeek(VMContext* vm, int32_t fd, int64_t offset, int32_t whence, int32_t outPtr) {
  guestBytes(vm, uint32_t(outPtr), 8);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  if (whence < 0 || whence > 2) return kEinval; // WASI SET/CUR/END are 0/1/2, as on Linux
  if (fd <= 2) return kEspipe;                  // stdio is a stream to the guest
  if (isDirectoryFd(vm, fd)) return kEisdir;
  off_t at = lseek(host, off_t(offset), whence);
  if (at < 0) return fromHostErrno(errno);
  guestStore<uint64_t>(vm, uint32_t(outPtr), uint64_t(at));
  return kSuccess;
}

int32_t fdTell(VMContext* vm, int32_t fd, int32_t outPtr) {
  guestBytes(vm, uint32_t(outPtr), 8);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  if (fd <= 2) return kEspipe;
  if (isDirectoryFd(vm, fd)) return kEisdir;
  off_t at = lseek(host, 0, SEEK_CUR);
  if (at < 0) return fromHostErrno(errno);
  guestStore<uint64_t>(vm, uint32_t(outPtr), uint64_t(at));
  return kSuccess;
}

int32_t fdSync(VMContext* vm, int32_t fd) {
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  return fsync(host) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdDatasync(VMContext* vm, int32_t fd) {
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  return fdatasync(host) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdFdstatGet(VMContext* vm, int32_t fd, int32_t statPtr) {
  uint8_t* out = guestBytes(vm, uint32_t(statPtr), 24);
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  struct stat st{};
  uint8_t filetype = kFiletypeUnknown;
  if (fstat(host, &st) == 0) {
    if (S_ISCHR(st.st_mode))
      filetype = kFiletypeCharacterDevice;
    else if (S_ISREG(st.st_mode))
      filetype = kFiletypeRegularFile;
  }
  uint64_t rights =
      kRightPollFdReadwrite | kRightFdFdstatSetFlags | (fd == 0 ? kRightFdRead : kRightFdWrite);
  uint64_t inheriting = 0;
  uint16_t flags = 0;
  (void)kRightFdSeek;
  (void)kRightFdTell;
  if (WasiContext::File* f = fileOf(vm, fd)) {
    filetype = filetypeOf(st.st_mode);
    rights = f->rightsBase;
    inheriting = f->rightsInheriting;
    int hostFlags = fcntl(host, F_GETFL);
    if (hostFlags >= 0 && (hostFlags & O_APPEND)) flags |= 1;   // fdflags.append
    if (hostFlags >= 0 && (hostFlags & O_NONBLOCK)) flags |= 4; // fdflags.nonblock
  }
  std::memset(out, 0, 24);
  out[0] = filetype;                                            // fs_filetype
  guestStore<uint16_t>(vm, uint32_t(statPtr) + 2, flags);       // fs_flags
  guestStore<uint64_t>(vm, uint32_t(statPtr) + 8, rights);      // fs_rights_base
  guestStore<uint64_t>(vm, uint32_t(statPtr) + 16, inheriting); // fs_rights_inheriting
  return kSuccess;
}

int32_t fdFdstatSetFlags(VMContext* vm, int32_t fd, int32_t flags) {
  int host = hostFd(vm, fd);
  if (host < 0) return kEbadf;
  if (fd <= 2) {
    // APPEND (1) is meaningless on a stream; NONBLOCK/SYNC are not offered.
    return (uint32_t(flags) & ~1u) ? kEnotsup : kSuccess;
  }
  if (uint32_t(flags) & ~5u) return kEnotsup; // only APPEND and NONBLOCK
  int hostFlags = fcntl(host, F_GETFL);
  if (hostFlags < 0) return fromHostErrno(errno);
  hostFlags &= ~(O_APPEND | O_NONBLOCK);
  if (flags & 1) hostFlags |= O_APPEND;
  if (flags & 4) hostFlags |= O_NONBLOCK;
  return fcntl(host, F_SETFL, hostFlags) == 0 ? kSuccess : fromHostErrno(errno);
}

// prestat: u8 tag (0: dir), u32 name length at offset 4.
int32_t fdPrestatGet(VMContext* vm, int32_t fd, int32_t ptr) {
  uint8_t* out = guestBytes(vm, uint32_t(ptr), 8);
  WasiContext::File* f = fileOf(vm, fd);
  if (!f || !f->isPreopen) return kEbadf;
  std::memset(out, 0, 8);
  guestStore<uint32_t>(vm, uint32_t(ptr) + 4, uint32_t(f->guestPath.size()));
  return kSuccess;
}

int32_t fdPrestatDirName(VMContext* vm, int32_t fd, int32_t ptr, int32_t len) {
  uint8_t* out = guestBytes(vm, uint32_t(ptr), uint32_t(len));
  WasiContext::File* f = fileOf(vm, fd);
  if (!f || !f->isPreopen) return kEbadf;
  if (uint32_t(len) < f->guestPath.size()) return kEnametoolong;
  std::memcpy(out, f->guestPath.data(), f->guestPath.size());
  return kSuccess;
}

} // namespace

void addFd(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&fdWrite>(kWasiModule, "fd_write"));
  out.push_back(host::hostFunction<&fdRead>(kWasiModule, "fd_read"));
  out.push_back(host::hostFunction<&fdPwrite>(kWasiModule, "fd_pwrite"));
  out.push_back(host::hostFunction<&fdPread>(kWasiModule, "fd_pread"));
  out.push_back(host::hostFunction<&fdTell>(kWasiModule, "fd_tell"));
  out.push_back(host::hostFunction<&fdSync>(kWasiModule, "fd_sync"));
  out.push_back(host::hostFunction<&fdDatasync>(kWasiModule, "fd_datasync"));
  out.push_back(host::hostFunction<&fdClose>(kWasiModule, "fd_close"));
  out.push_back(host::hostFunction<&fdSeek>(kWasiModule, "fd_seek"));
  out.push_back(host::hostFunction<&fdFdstatGet>(kWasiModule, "fd_fdstat_get"));
  out.push_back(host::hostFunction<&fdFdstatSetFlags>(kWasiModule, "fd_fdstat_set_flags"));
  out.push_back(host::hostFunction<&fdPrestatGet>(kWasiModule, "fd_prestat_get"));
  out.push_back(host::hostFunction<&fdPrestatDirName>(kWasiModule, "fd_prestat_dir_name"));
}

} // namespace faasm::wasi
