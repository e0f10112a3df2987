// Descriptors: fd_write, fd_read, fd_pwrite, fd_pread, fd_close, fd_seek,
// fd_tell, fd_sync, fd_datasync, fd_fdstat_get, fd_fdstat_set_flags,
// fd_fdstat_set_rights, fd_renumber, fd_prestat_get, fd_prestat_dir_name,
// for stdio and the preopens, files and sockets of the table.
//
// Rights: each call needs the rights the witx gives it, and answers
// ENOTCAPABLE without them; fd_fdstat_set_rights only ever removes rights.
//
// Stdio is a stream to the guest, whatever the host descriptor behind it is
// (a terminal, a pipe, or faasm-run's own output file): every call that would
// act on it as a file answers as it would for a pipe and never reaches the
// host descriptor (docs/Security.md, "Host functions and guest memory").
#include "WasiPrivate.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace faasm::wasi {
namespace {

using host::guestCheck;
using host::guestSpan;
using host::guestStore;
using host::guestStoreBytes;

// An iovec or ciovec as the guest lays it out.
struct GuestIovec {
  uint32_t buf;
  uint32_t len;
};
static_assert(sizeof(GuestIovec) == 8);

// Linux's IOV_MAX: readv and writev refuse more buffers with EINVAL.
constexpr uint32_t kIovMax = 1024;

// The host's copy of a guest iovec array, as host iovecs over checked spans
// of guest memory. Small arrays (printf's two) live on the stack.
class HostIovecs {
public:
  iovec* data() { return count_ <= kInline ? inline_ : heap_.data(); }
  int count() const { return int(count_); }
  void resize(uint32_t count) {
    count_ = count;
    if (count > kInline) heap_.resize(count);
  }

private:
  static constexpr uint32_t kInline = 8;
  uint32_t count_ = 0;
  iovec inline_[kInline];
  std::vector<iovec> heap_;
};

// Copies the guest's iovec array once and turns each entry into a host
// iovec over a checked span of guest memory, before any I/O: the transfer
// uses only these, so nothing the guest (or a read into its memory) writes
// to the array afterwards matters. Traps if the array or any buffer lies
// outside memory; EINVAL for more than kIovMax entries.
int32_t copyIovecs(VMContext* vm, uint32_t iovs, uint32_t count, HostIovecs& out) {
  guestCheck(vm, iovs, uint64_t(count) * sizeof(GuestIovec));
  if (count > kIovMax) return kEinval;
  GuestIovec copy[kIovMax];
  host::guestLoadArrayInto<GuestIovec>(vm, iovs, count, copy);
  out.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    host::GuestSpan span = guestSpan(vm, copy[i].buf, copy[i].len);
    out.data()[i].iov_base = span.data();
    out.data()[i].iov_len = span.size();
  }
  return kSuccess;
}

// One readv/writev (offset < 0) or preadv/pwritev at `offset`: with at most
// kIovMax buffers, one system call moves everything it can.
template <bool Write>
int32_t transfer(VMContext* vm, int32_t fd, int32_t iovsArg, int32_t countArg, int32_t outPtr,
                 int64_t offset) {
  HostIovecs iovs;
  int32_t err = copyIovecs(vm, uint32_t(iovsArg), uint32_t(countArg), iovs);
  guestCheck(vm, uint32_t(outPtr), 4);
  if (err != kSuccess) return err;
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (offset >= 0 && d.stream) return kEspipe;
  if (!d.has((Write ? kRightFdWrite : kRightFdRead) | (offset >= 0 ? kRightFdSeek : 0)))
    return kEnotcapable;
  if (d.directory) return kEisdir;
  int host = d.host;
  ssize_t done;
  do {
    if (offset < 0)
      done =
          Write ? writev(host, iovs.data(), iovs.count()) : readv(host, iovs.data(), iovs.count());
    else
      done = Write ? pwritev(host, iovs.data(), iovs.count(), off_t(offset))
                   : preadv(host, iovs.data(), iovs.count(), off_t(offset));
  } while (done < 0 && errno == EINTR);
  if (done < 0) return fromHostErrno(errno);
  guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(done));
  return kSuccess;
}

int32_t fdWrite(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int32_t out) {
  return transfer<true>(vm, fd, iovs, n, out, -1);
}
int32_t fdRead(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int32_t out) {
  return transfer<false>(vm, fd, iovs, n, out, -1);
}

// A negative offset is EINVAL before anything else, as Linux's pwrite has it.
template <bool Write>
int32_t positioned(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int64_t offset,
                   int32_t out) {
  if (offset < 0) {
    HostIovecs ignored;
    copyIovecs(vm, uint32_t(iovs), uint32_t(n), ignored);
    guestCheck(vm, uint32_t(out), 4);
    return hostFdOf(vm, fd) < 0 ? kEbadf : kEinval;
  }
  return transfer<Write>(vm, fd, iovs, n, out, offset);
}
int32_t fdPwrite(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int64_t offset, int32_t out) {
  return positioned<true>(vm, fd, iovs, n, offset, out);
}
int32_t fdPread(VMContext* vm, int32_t fd, int32_t iovs, int32_t n, int64_t offset, int32_t out) {
  return positioned<false>(vm, fd, iovs, n, offset, out);
}

int32_t fdClose(VMContext* vm, int32_t fd) {
  WasiContext& ctx = wasiContextOf(vm);
  if (!fdView(vm, fd).valid()) return kEbadf;
  ctx.files.erase(fd); // the last reference to a File closes its descriptor
  // The host's own stdio stays open; the guest just loses the descriptor.
  if (fd >= 0 && fd <= 2) ctx.stdioFds[fd] = -1;
  return kSuccess;
}

int32_t fdSeek(VMContext* vm, int32_t fd, int64_t offset, int32_t whence, int32_t outPtr) {
  guestCheck(vm, uint32_t(outPtr), 8);
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEspipe; // a pipe: lseek says ESPIPE whatever the whence
  // Asking where one is (0 from the current position) is fd_tell's right.
  bool tellOnly = offset == 0 && whence == 1;
  if (!d.has(kRightFdSeek) && !(tellOnly && d.has(kRightFdTell))) return kEnotcapable;
  if (whence < 0 || whence > 2) return kEinval; // WASI SET/CUR/END are 0/1/2, as on Linux
  if (d.directory) return kEisdir;
  off_t at = lseek(d.host, off_t(offset), whence);
  if (at < 0) return fromHostErrno(errno);
  guestStore<uint64_t>(vm, uint32_t(outPtr), uint64_t(at));
  return kSuccess;
}

int32_t fdTell(VMContext* vm, int32_t fd, int32_t outPtr) {
  guestCheck(vm, uint32_t(outPtr), 8);
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEspipe;
  if (!d.has(kRightFdTell)) return kEnotcapable;
  if (d.directory) return kEisdir;
  off_t at = lseek(d.host, 0, SEEK_CUR);
  if (at < 0) return fromHostErrno(errno);
  guestStore<uint64_t>(vm, uint32_t(outPtr), uint64_t(at));
  return kSuccess;
}

// fsync and fdatasync of a pipe fail with EINVAL; the host's stdio file is
// never flushed to disk on a guest's behalf.
int32_t fdSync(VMContext* vm, int32_t fd) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEinval;
  if (!d.has(kRightFdSync)) return kEnotcapable;
  return fsync(d.host) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdDatasync(VMContext* vm, int32_t fd) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEinval;
  if (!d.has(kRightFdDatasync)) return kEnotcapable;
  return fdatasync(d.host) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdFdstatGet(VMContext* vm, int32_t fd, int32_t statPtr) {
  guestCheck(vm, uint32_t(statPtr), 24);
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  uint8_t filetype;
  uint16_t flags = 0;
  if (d.stream) {
    filetype = stdioFiletype(d.host);
  } else {
    struct stat st{};
    filetype = fstat(d.host, &st) == 0 ? filetypeOf(st.st_mode) : uint8_t(kFiletypeUnknown);
    int hostFlags = fcntl(d.host, F_GETFL);
    if (hostFlags >= 0 && (hostFlags & O_APPEND)) flags |= 1;   // fdflags.append
    if (hostFlags >= 0 && (hostFlags & O_NONBLOCK)) flags |= 4; // fdflags.nonblock
  }
  uint8_t out[24] = {};
  out[0] = filetype;                             // fs_filetype
  std::memcpy(out + 2, &flags, 2);               // fs_flags
  std::memcpy(out + 8, &d.rightsBase, 8);        // fs_rights_base
  std::memcpy(out + 16, &d.rightsInheriting, 8); // fs_rights_inheriting
  guestStoreBytes(vm, uint32_t(statPtr), out, sizeof out);
  return kSuccess;
}

int32_t fdFdstatSetFlags(VMContext* vm, int32_t fd, int32_t flags) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream) {
    // APPEND (1) is meaningless on a stream; NONBLOCK/SYNC are not offered
    // (they would change the host's own descriptor).
    return (uint32_t(flags) & ~1u) ? kEnotsup : kSuccess;
  }
  if (!d.has(kRightFdFdstatSetFlags)) return kEnotcapable;
  if (uint32_t(flags) & ~5u) return kEnotsup; // only APPEND and NONBLOCK
  int hostFlags = fcntl(d.host, F_GETFL);
  if (hostFlags < 0) return fromHostErrno(errno);
  hostFlags &= ~(O_APPEND | O_NONBLOCK);
  if (flags & 1) hostFlags |= O_APPEND;
  if (flags & 4) hostFlags |= O_NONBLOCK;
  return fcntl(d.host, F_SETFL, hostFlags) == 0 ? kSuccess : fromHostErrno(errno);
}

// The File behind `fd` as an object the table may hold elsewhere: the
// table's own, or for an untouched stdio stream a new stream File over the
// host's descriptor (never owned: closing it leaves the host's stdio open).
std::shared_ptr<WasiContext::File> tableEntryOf(WasiContext& ctx, int32_t fd) {
  auto it = ctx.files.find(fd);
  if (it != ctx.files.end()) return it->second;
  if (fd < 0 || fd > 2 || ctx.stdioFds[fd] < 0) return nullptr;
  auto f = std::make_shared<WasiContext::File>();
  f->fd = ctx.stdioFds[fd];
  f->isStream = true;
  f->rightsBase = kStreamRights;
  return f;
}

// Rights only shrink: asking for one the fd does not have is ENOTCAPABLE.
// The File is replaced, never changed (a warm Faaslet's baseline shares it).
int32_t fdFdstatSetRights(VMContext* vm, int32_t fd, int64_t base, int64_t inheriting) {
  WasiContext& ctx = wasiContextOf(vm);
  std::shared_ptr<WasiContext::File> old = tableEntryOf(ctx, fd);
  if (!old) return kEbadf;
  if ((uint64_t(base) & ~old->rightsBase) || (uint64_t(inheriting) & ~old->rightsInheriting))
    return kEnotcapable;
  auto updated = std::make_shared<WasiContext::File>(*old);
  updated->rightsBase = uint64_t(base);
  updated->rightsInheriting = uint64_t(inheriting);
  ctx.files[fd] = std::move(updated);
  return kSuccess;
}

// fd_renumber(from, to): `to` (which must be open) becomes what `from` was
// and `from` is closed, as dup2 then close. Stdio may be either end: after
// renumbering a file to 1 (freopen does), fd 1 is that file; a stdio stream
// moved elsewhere stays a stream.
int32_t fdRenumber(VMContext* vm, int32_t from, int32_t to) {
  WasiContext& ctx = wasiContextOf(vm);
  std::shared_ptr<WasiContext::File> moving = tableEntryOf(ctx, from);
  if (!moving || !fdView(vm, to).valid()) return kEbadf;
  if (from == to) return kSuccess;
  ctx.files[to] = std::move(moving); // the last reference to what `to` held closes it
  if (to >= 0 && to <= 2) ctx.stdioFds[to] = -1;
  ctx.files.erase(from);
  if (from >= 0 && from <= 2) ctx.stdioFds[from] = -1;
  return kSuccess;
}

// prestat: u8 tag (0: dir), u32 name length at offset 4.
int32_t fdPrestatGet(VMContext* vm, int32_t fd, int32_t ptr) {
  guestCheck(vm, uint32_t(ptr), 8);
  WasiContext::File* f = fileOf(vm, fd);
  if (!f || !f->isPreopen) return kEbadf;
  uint8_t out[8] = {};
  uint32_t length = uint32_t(f->guestPath.size());
  std::memcpy(out + 4, &length, 4);
  guestStoreBytes(vm, uint32_t(ptr), out, sizeof out);
  return kSuccess;
}

int32_t fdPrestatDirName(VMContext* vm, int32_t fd, int32_t ptr, int32_t len) {
  guestCheck(vm, uint32_t(ptr), uint32_t(len));
  WasiContext::File* f = fileOf(vm, fd);
  if (!f || !f->isPreopen) return kEbadf;
  if (uint32_t(len) < f->guestPath.size()) return kEnametoolong;
  guestStoreBytes(vm, uint32_t(ptr), f->guestPath.data(), f->guestPath.size());
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
  out.push_back(host::hostFunction<&fdFdstatSetRights>(kWasiModule, "fd_fdstat_set_rights"));
  out.push_back(host::hostFunction<&fdRenumber>(kWasiModule, "fd_renumber"));
  out.push_back(host::hostFunction<&fdPrestatGet>(kWasiModule, "fd_prestat_get"));
  out.push_back(host::hostFunction<&fdPrestatDirName>(kWasiModule, "fd_prestat_dir_name"));
}

} // namespace faasm::wasi
