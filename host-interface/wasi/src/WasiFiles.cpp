// Files and directories under preopens: path_open, path_filestat_get,
// path_create_directory, path_unlink_file, path_remove_directory,
// path_rename, path_readlink, fd_filestat_get, fd_filestat_set_size,
// fd_readdir, fd_advise, fd_allocate.
//
// ---------------------------------------------------------------------------
// SANDBOX-CRITICAL: every path a guest names is resolved here, and nowhere
// else. A mistake lets a guest read or write any file the host can.
//
// All resolution goes through resolveBeneath(): openat2() relative to the
// directory fd the guest names, with RESOLVE_BENEATH (no absolute paths, no
// `..` above the start, no symlink whose target leaves it: the kernel checks
// every step, including symlinks met on the way) and RESOLVE_NO_MAGICLINKS
// (no /proc/self/fd-style jumps). Operations on a final name (mkdir, unlink,
// rename) resolve the *parent* that way and then act on the last component
// relative to that parent fd, which the kernel never follows out: `..` as a
// last component only ever fails (EEXIST, ENOTEMPTY, EBUSY), and a symlink
// as last component is the link itself.
//
// A kernel without openat2 (before 5.6) gets ENOSYS for every path: there is
// no unsafe fallback. Escapes report ENOTCAPABLE (76), as other WASI hosts do.
// ---------------------------------------------------------------------------
#include "WasiPrivate.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

namespace faasm::wasi {
namespace {

using host::guestCheck;
using host::guestSpan;
using host::guestStore;
using host::guestStoreBytes;

// oflags
constexpr uint32_t kOflagCreat = 1, kOflagDirectory = 2, kOflagExcl = 4, kOflagTrunc = 8;
// fdflags
constexpr uint32_t kFdflagAppend = 1, kFdflagDsync = 2, kFdflagNonblock = 4, kFdflagRsync = 8,
                   kFdflagSync = 16;
constexpr uint32_t kLookupSymlinkFollow = 1;

// Linux's PATH_MAX, NUL included: longer paths are ENAMETOOLONG there too.
constexpr uint32_t kPathMax = 4096;

// Copies the guest path [ptr, ptr + len) into `out`, once: every check and
// every use below sees this copy, never guest memory. Traps if the range
// lies outside memory; ENAMETOOLONG for paths of kPathMax bytes or more.
int32_t copyPath(VMContext* vm, int32_t ptr, int32_t len, std::string& out) {
  guestCheck(vm, uint32_t(ptr), uint32_t(len));
  if (uint32_t(len) >= kPathMax) return kEnametoolong;
  out = host::guestLoadString(vm, uint32_t(ptr), uint32_t(len));
  return kSuccess;
}

// The directory behind guest fd `fd`, or -1 with the WASI errno in outErr.
int directoryFd(VMContext* vm, int32_t fd, int32_t& outErr) {
  WasiContext::File* f = fileOf(vm, fd);
  if (!f) {
    outErr = hostFdOf(vm, fd) >= 0 ? kEnotdir : kEbadf;
    return -1;
  }
  if (!f->isDirectory) {
    outErr = kEnotdir;
    return -1;
  }
  return f->fd;
}

int32_t errnoOfResolve(int e) {
  // EXDEV from openat2 with RESOLVE_BENEATH: the path tried to leave.
  return e == EXDEV ? kEnotcapable : fromHostErrno(e);
}

// openat2(dir, path, flags | O_CLOEXEC, mode) beneath dir. Returns the fd, or
// -1 with errno set.
int resolveBeneath(int dir, const std::string& path, uint64_t flags, uint64_t mode) {
  if (path.empty()) {
    errno = ENOENT;
    return -1;
  }
  if (path.find('\0') != std::string::npos) {
    errno = EINVAL;
    return -1;
  }
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  // O_TMPFILE contains O_DIRECTORY's bit: test it whole. openat2 refuses a
  // mode without O_CREAT or O_TMPFILE.
  how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  for (;;) {
    long fd = syscall(SYS_openat2, dir, path.c_str(), &how, sizeof how);
    if (fd >= 0) return int(fd);
    if (errno == EINTR || errno == EAGAIN) continue;
    return -1;
  }
}

// Splits `path` into a parent directory (resolved beneath `dir`, returned as
// an O_PATH fd the caller closes) and its last component. -1 and a WASI
// errno on failure.
int resolveParent(int dir, const std::string& fullPath, std::string& outLast, int32_t& outErr) {
  std::string path = fullPath;
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  size_t slash = path.rfind('/');
  // An absolute path keeps its "/" parent, which resolveBeneath refuses.
  std::string parent = slash == std::string::npos ? std::string(".")
                       : slash == 0               ? std::string("/")
                                                  : path.substr(0, slash);
  outLast = slash == std::string::npos ? path : path.substr(slash + 1);
  if (outLast.empty() || path.empty()) {
    outErr = kEnoent;
    return -1;
  }
  int fd = resolveBeneath(dir, parent, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) outErr = errnoOfResolve(errno);
  return fd;
}

// filestat: dev u64, ino u64, filetype u8 (+7), nlink u64, size u64,
// atim u64, mtim u64, ctim u64 = 64 bytes.
void storeFilestat(VMContext* vm, uint32_t ptr, const struct stat& st) {
  auto nanos = [](const timespec& t) {
    return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
  };
  uint64_t fields[8] = {uint64_t(st.st_dev),   uint64_t(st.st_ino),  0,
                        uint64_t(st.st_nlink), uint64_t(st.st_size), nanos(st.st_atim),
                        nanos(st.st_mtim),     nanos(st.st_ctim)};
  uint8_t out[64];
  std::memcpy(out, fields, sizeof out);
  out[16] = filetypeOf(st.st_mode);
  guestStoreBytes(vm, ptr, out, sizeof out);
}

// Stdio: a stream with no host file behind it as far as the guest can tell
// (no device, inode, size or times of faasm-run's own output file).
void storeStdioFilestat(VMContext* vm, uint32_t ptr, int hostFd) {
  uint8_t out[64] = {};
  out[16] = stdioFiletype(hostFd);
  guestStoreBytes(vm, ptr, out, sizeof out);
}

// ----- path_open -----------------------------------------------------------------

int32_t openImpl(VMContext* vm, int dir, const std::string& path, uint32_t dirflags,
                 uint32_t oflags, uint64_t rightsBase, uint64_t rightsInheriting, uint32_t fdflags,
                 int32_t& outFd) {
  bool wantRead = rightsBase & (kRightFdRead | kRightFdReaddir);
  bool wantWrite = rightsBase & (kRightFdWrite | kRightFdAllocate | kRightFdFilestatSetSize);
  uint64_t flags = 0;
  if (oflags & kOflagDirectory) flags |= O_DIRECTORY;
  if (wantWrite && !(oflags & kOflagDirectory))
    flags |= wantRead ? O_RDWR : O_WRONLY;
  else
    flags |= O_RDONLY;
  if (oflags & kOflagCreat) flags |= O_CREAT;
  if (oflags & kOflagExcl) flags |= O_EXCL;
  if (oflags & kOflagTrunc) flags |= O_TRUNC;
  if (fdflags & kFdflagAppend) flags |= O_APPEND;
  if (fdflags & kFdflagNonblock) flags |= O_NONBLOCK;
  if (fdflags & kFdflagDsync) flags |= O_DSYNC;
  if (fdflags & (kFdflagSync | kFdflagRsync)) flags |= O_SYNC;
  if (!(dirflags & kLookupSymlinkFollow)) flags |= O_NOFOLLOW;
  int fd = resolveBeneath(dir, path, flags, 0644);
  if (fd < 0) {
    // O_NOFOLLOW on a final symlink answers ELOOP, as WASI wants.
    return errnoOfResolve(errno);
  }
  struct stat st{};
  fstat(fd, &st);
  auto file = std::make_shared<WasiContext::File>();
  file->fd = fd;
  file->isDirectory = S_ISDIR(st.st_mode);
  file->rightsBase = rightsBase;
  file->rightsInheriting = rightsInheriting;
  auto& files = wasiContextOf(vm).files;
  int32_t next = 3;
  while (files.count(next))
    ++next; // lowest free, as POSIX does
  files[next] = std::move(file);
  outFd = next;
  return kSuccess;
}

int32_t pathOpen(VMContext* vm, int32_t dirFd, int32_t dirflags, int32_t pathPtr, int32_t pathLen,
                 int32_t oflags, int64_t rightsBase, int64_t rightsInheriting, int32_t fdflags,
                 int32_t outPtr) {
  std::string path;
  int32_t err = copyPath(vm, pathPtr, pathLen, path);
  guestCheck(vm, uint32_t(outPtr), 4);
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, err);
  if (dir < 0) return err;
  int32_t fd = -1;
  err = openImpl(vm, dir, path, uint32_t(dirflags), uint32_t(oflags), uint64_t(rightsBase),
                 uint64_t(rightsInheriting), uint32_t(fdflags), fd);
  if (err == kSuccess) guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(fd));
  return err;
}

// ----- stat ------------------------------------------------------------------------

int32_t fdFilestatGet(VMContext* vm, int32_t fd, int32_t ptr) {
  guestCheck(vm, uint32_t(ptr), 64);
  int host = hostFdOf(vm, fd);
  if (host < 0) return kEbadf;
  if (isStdio(fd)) {
    storeStdioFilestat(vm, uint32_t(ptr), host);
    return kSuccess;
  }
  struct stat st{};
  if (fstat(host, &st) != 0) return fromHostErrno(errno);
  storeFilestat(vm, uint32_t(ptr), st);
  return kSuccess;
}

int32_t pathStatImpl(int dir, const std::string& path, uint32_t lookup, struct stat& st) {
  uint64_t flags = O_PATH | ((lookup & kLookupSymlinkFollow) ? 0 : O_NOFOLLOW);
  int fd = resolveBeneath(dir, path, flags, 0);
  if (fd < 0) return errnoOfResolve(errno);
  int rc = fstat(fd, &st);
  int e = errno;
  close(fd);
  return rc == 0 ? kSuccess : fromHostErrno(e);
}

int32_t pathFilestatGet(VMContext* vm, int32_t dirFd, int32_t lookup, int32_t pathPtr,
                        int32_t pathLen, int32_t ptr) {
  std::string path;
  int32_t err = copyPath(vm, pathPtr, pathLen, path);
  guestCheck(vm, uint32_t(ptr), 64);
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, err);
  if (dir < 0) return err;
  struct stat st{};
  err = pathStatImpl(dir, path, uint32_t(lookup), st);
  if (err == kSuccess) storeFilestat(vm, uint32_t(ptr), st);
  return err;
}

// On stdio these answer as for a pipe and never reach the host descriptor
// (faasm-run's own stdout may be a file): ftruncate of a pipe is EINVAL,
// posix_fadvise and posix_fallocate of one are ESPIPE.
int32_t fdFilestatSetSize(VMContext* vm, int32_t fd, int64_t size) {
  int host = hostFdOf(vm, fd);
  if (host < 0) return kEbadf;
  if (isStdio(fd)) return kEinval;
  if (size < 0) return kEinval;
  return ftruncate(host, off_t(size)) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdAdvise(VMContext* vm, int32_t fd, int64_t, int64_t, int32_t advice) {
  if (hostFdOf(vm, fd) < 0) return kEbadf;
  if (isStdio(fd)) return kEspipe;
  return advice < 0 || advice > 5 ? kEinval : kSuccess; // advice only
}

int32_t fdAllocate(VMContext* vm, int32_t fd, int64_t offset, int64_t len) {
  int host = hostFdOf(vm, fd);
  if (host < 0) return kEbadf;
  if (isStdio(fd)) return kEspipe;
  if (offset < 0 || len <= 0) return kEinval;
  return posix_fallocate(host, off_t(offset), off_t(len)) == 0 ? kSuccess : kEio;
}

// ----- directories ------------------------------------------------------------------

struct DirEntry {
  uint64_t ino;
  uint8_t type;
  std::string name;
};

uint8_t filetypeOfDtype(unsigned char t) {
  switch (t) {
  case DT_BLK: return kFiletypeBlockDevice;
  case DT_CHR: return kFiletypeCharacterDevice;
  case DT_DIR: return kFiletypeDirectory;
  case DT_REG: return kFiletypeRegularFile;
  case DT_SOCK: return kFiletypeSocketStream;
  case DT_LNK: return kFiletypeSymbolicLink;
  default: return kFiletypeUnknown;
  }
}

// Lists the directory afresh on every call; cookie n is "after entry n".
int32_t readdirImpl(int dirFd, const host::GuestSpan& out, uint64_t cookie, uint32_t& outUsed) {
  uint32_t outLen = uint32_t(out.size());
  int fd = openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fromHostErrno(errno);
  DIR* d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    return fromHostErrno(e);
  }
  std::vector<DirEntry> entries;
  while (dirent* e = readdir(d))
    entries.push_back({e->d_ino, filetypeOfDtype(e->d_type), e->d_name});
  closedir(d);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  uint32_t used = 0;
  for (uint64_t i = cookie; i < entries.size() && used < outLen; ++i) {
    // dirent: d_next u64, d_ino u64, d_namlen u32, d_type u8 (+3), then the
    // name; the last entry may be cut short, which tells the caller to ask again.
    uint8_t head[24] = {};
    uint64_t next = i + 1;
    uint32_t namlen = uint32_t(entries[i].name.size());
    std::memcpy(head + 0, &next, 8);
    std::memcpy(head + 8, &entries[i].ino, 8);
    std::memcpy(head + 16, &namlen, 4);
    head[20] = entries[i].type;
    uint32_t take = std::min<uint32_t>(24, outLen - used);
    out.write(used, head, take);
    used += take;
    take = std::min<uint32_t>(namlen, outLen - used);
    out.write(used, entries[i].name.data(), take);
    used += take;
  }
  outUsed = used;
  return kSuccess;
}

int32_t fdReaddir(VMContext* vm, int32_t fd, int32_t buf, int32_t bufLen, int64_t cookie,
                  int32_t outPtr) {
  host::GuestSpan out = guestSpan(vm, uint32_t(buf), uint32_t(bufLen));
  guestCheck(vm, uint32_t(outPtr), 4);
  int32_t err = kSuccess;
  int dir = directoryFd(vm, fd, err);
  if (dir < 0) return err == kEnotdir ? kEnotdir : err;
  uint32_t used = 0;
  err = readdirImpl(dir, out, uint64_t(cookie), used);
  if (err == kSuccess) guestStore<uint32_t>(vm, uint32_t(outPtr), used);
  return err;
}

// ----- operations on a last component -------------------------------------------------

enum class NameOp { Mkdir, Unlink, Rmdir };

int32_t nameOpImpl(int dir, const std::string& path, NameOp op) {
  std::string last;
  int32_t err = kSuccess;
  int parent = resolveParent(dir, path, last, err);
  if (parent < 0) return err;
  int rc;
  switch (op) {
  case NameOp::Mkdir: rc = mkdirat(parent, last.c_str(), 0755); break;
  case NameOp::Unlink: rc = unlinkat(parent, last.c_str(), 0); break;
  case NameOp::Rmdir: rc = unlinkat(parent, last.c_str(), AT_REMOVEDIR); break;
  }
  int e = errno;
  close(parent);
  if (rc == 0) return kSuccess;
  // Linux says EISDIR for unlink of a directory; WASI (and POSIX) want EISDIR
  // too, and ENOTDIR for rmdir of a file, as the kernel gives.
  return fromHostErrno(e);
}

template <NameOp Op> int32_t pathNameOp(VMContext* vm, int32_t dirFd, int32_t ptr, int32_t len) {
  std::string path;
  int32_t err = copyPath(vm, ptr, len, path);
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, err);
  if (dir < 0) return err;
  return nameOpImpl(dir, path, Op);
}

int32_t renameImpl(int oldDir, const std::string& oldPath, int newDir, const std::string& newPath) {
  std::string oldLast, newLast;
  int32_t err = kSuccess;
  int oldParent = resolveParent(oldDir, oldPath, oldLast, err);
  if (oldParent < 0) return err;
  int newParent = resolveParent(newDir, newPath, newLast, err);
  if (newParent < 0) {
    close(oldParent);
    return err;
  }
  int rc = renameat(oldParent, oldLast.c_str(), newParent, newLast.c_str());
  int e = errno;
  close(oldParent);
  close(newParent);
  return rc == 0 ? kSuccess : fromHostErrno(e);
}

int32_t pathRename(VMContext* vm, int32_t oldFd, int32_t oldPtr, int32_t oldLen, int32_t newFd,
                   int32_t newPtr, int32_t newLen) {
  std::string oldPath, newPath;
  int32_t oldErr = copyPath(vm, oldPtr, oldLen, oldPath);
  int32_t err = copyPath(vm, newPtr, newLen, newPath);
  if (oldErr != kSuccess) return oldErr;
  if (err != kSuccess) return err;
  int oldDir = directoryFd(vm, oldFd, err);
  if (oldDir < 0) return err;
  int newDir = directoryFd(vm, newFd, err);
  if (newDir < 0) return err;
  return renameImpl(oldDir, oldPath, newDir, newPath);
}

int32_t readlinkImpl(int dir, const std::string& path, const host::GuestSpan& out,
                     uint32_t& outUsed) {
  std::string last;
  int32_t err = kSuccess;
  int parent = resolveParent(dir, path, last, err);
  if (parent < 0) return err;
  ssize_t n = readlinkat(parent, last.c_str(), reinterpret_cast<char*>(out.data()), out.size());
  int e = errno;
  close(parent);
  if (n < 0) return fromHostErrno(e);
  outUsed = uint32_t(n);
  return kSuccess;
}

int32_t pathReadlink(VMContext* vm, int32_t dirFd, int32_t ptr, int32_t len, int32_t buf,
                     int32_t bufLen, int32_t outPtr) {
  std::string path;
  int32_t err = copyPath(vm, ptr, len, path);
  host::GuestSpan out = guestSpan(vm, uint32_t(buf), uint32_t(bufLen));
  guestCheck(vm, uint32_t(outPtr), 4);
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, err);
  if (dir < 0) return err;
  uint32_t used = 0;
  err = readlinkImpl(dir, path, out, used);
  if (err == kSuccess) guestStore<uint32_t>(vm, uint32_t(outPtr), used);
  return err;
}

} // namespace

void addFiles(std::vector<host::HostFunction>& out) {
  using host::hostFunction;
  out.push_back(hostFunction<&pathOpen>(kWasiModule, "path_open"));
  out.push_back(hostFunction<&fdFilestatGet>(kWasiModule, "fd_filestat_get"));
  out.push_back(hostFunction<&pathFilestatGet>(kWasiModule, "path_filestat_get"));
  out.push_back(hostFunction<&fdFilestatSetSize>(kWasiModule, "fd_filestat_set_size"));
  out.push_back(hostFunction<&fdAdvise>(kWasiModule, "fd_advise"));
  out.push_back(hostFunction<&fdAllocate>(kWasiModule, "fd_allocate"));
  out.push_back(hostFunction<&fdReaddir>(kWasiModule, "fd_readdir"));
  out.push_back(hostFunction<&pathNameOp<NameOp::Mkdir>>(kWasiModule, "path_create_directory"));
  out.push_back(hostFunction<&pathNameOp<NameOp::Unlink>>(kWasiModule, "path_unlink_file"));
  out.push_back(hostFunction<&pathNameOp<NameOp::Rmdir>>(kWasiModule, "path_remove_directory"));
  out.push_back(hostFunction<&pathRename>(kWasiModule, "path_rename"));
  out.push_back(hostFunction<&pathReadlink>(kWasiModule, "path_readlink"));
}

} // namespace faasm::wasi
