// Files and directories under preopens: path_open, path_filestat_get,
// path_filestat_set_times, path_create_directory, path_unlink_file,
// path_remove_directory, path_rename, path_link, path_symlink,
// path_readlink, fd_filestat_get, fd_filestat_set_size,
// fd_filestat_set_times, fd_readdir, fd_advise, fd_allocate.
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
// path_link with symlink following resolves each final symlink itself, one
// component at a time beneath the preopen, and links what it ends on with
// linkat(..., 0), which never follows. path_filestat_set_times opens what
// it names beneath the preopen and sets the times through that descriptor
// (the seccomp filter allows utimensat only without a path). path_symlink
// makes nothing: a symlink a guest planted in a host directory could point
// anywhere for the host's own programs, so it answers EPERM, as Linux does
// on a file system without symlinks (Landlock and seccomp forbid making one
// anyway).
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

// The directory behind guest fd `fd`, which must hold `rights`, or -1 with
// the WASI errno in outErr.
int directoryFd(VMContext* vm, int32_t fd, uint64_t rights, int32_t& outErr) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) {
    outErr = kEbadf;
    return -1;
  }
  if (!d.directory) {
    outErr = kEnotdir;
    return -1;
  }
  if (!d.has(rights)) {
    outErr = kEnotcapable;
    return -1;
  }
  return d.host;
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
  if (oflags & ~uint32_t(kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc)) return kEinval;
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
  auto file = ownedFile(fd);
  file->isDirectory = S_ISDIR(st.st_mode);
  file->rightsBase = rightsBase;
  file->rightsInheriting = rightsInheriting;
  outFd = insertFile(vm, std::move(file));
  return kSuccess;
}

int32_t pathOpen(VMContext* vm, int32_t dirFd, int32_t dirflags, int32_t pathPtr, int32_t pathLen,
                 int32_t oflags, int64_t rightsBase, int64_t rightsInheriting, int32_t fdflags,
                 int32_t outPtr) {
  std::string path;
  int32_t err = copyPath(vm, pathPtr, pathLen, path);
  guestCheck(vm, uint32_t(outPtr), 4);
  if (err != kSuccess) return err;
  // The new fd's rights come from the directory's inheriting rights: asking
  // for more is ENOTCAPABLE, as is creating or truncating without the right.
  uint64_t need = kRightPathOpen | ((uint32_t(oflags) & kOflagCreat) ? kRightPathCreateFile : 0) |
                  ((uint32_t(oflags) & kOflagTrunc) ? kRightPathFilestatSetSize : 0);
  int dir = directoryFd(vm, dirFd, need, err);
  if (dir < 0) return err;
  // Bits the witx does not define are ignored (Go asks for all 32), not
  // refused: they grant nothing.
  rightsBase &= int64_t(kAllRights);
  rightsInheriting &= int64_t(kAllRights);
  uint64_t inheritable = fdView(vm, dirFd).rightsInheriting;
  if ((uint64_t(rightsBase) | uint64_t(rightsInheriting)) & ~inheritable) return kEnotcapable;
  int32_t fd = -1;
  err = openImpl(vm, dir, path, uint32_t(dirflags), uint32_t(oflags), uint64_t(rightsBase),
                 uint64_t(rightsInheriting), uint32_t(fdflags), fd);
  if (err == kSuccess) guestStore<uint32_t>(vm, uint32_t(outPtr), uint32_t(fd));
  return err;
}

// ----- stat ------------------------------------------------------------------------

int32_t fdFilestatGet(VMContext* vm, int32_t fd, int32_t ptr) {
  guestCheck(vm, uint32_t(ptr), 64);
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (!d.has(kRightFdFilestatGet)) return kEnotcapable;
  if (d.stream) {
    storeStdioFilestat(vm, uint32_t(ptr), d.host);
    return kSuccess;
  }
  struct stat st{};
  if (fstat(d.host, &st) != 0) return fromHostErrno(errno);
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
  int dir = directoryFd(vm, dirFd, kRightPathFilestatGet, err);
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
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEinval;
  if (!d.has(kRightFdFilestatSetSize)) return kEnotcapable;
  if (size < 0) return kEinval;
  return ftruncate(d.host, off_t(size)) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdAdvise(VMContext* vm, int32_t fd, int64_t, int64_t, int32_t advice) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEspipe;
  if (!d.has(kRightFdAdvise)) return kEnotcapable;
  return advice < 0 || advice > 5 ? kEinval : kSuccess; // advice only
}

int32_t fdAllocate(VMContext* vm, int32_t fd, int64_t offset, int64_t len) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  if (d.stream || d.socket) return kEspipe;
  if (!d.has(kRightFdAllocate)) return kEnotcapable;
  if (offset < 0 || len <= 0) return kEinval;
  return posix_fallocate(d.host, off_t(offset), off_t(len)) == 0 ? kSuccess : kEio;
}

// ----- times -------------------------------------------------------------------------

// fstflags
constexpr uint32_t kFstAtim = 1, kFstAtimNow = 2, kFstMtim = 4, kFstMtimNow = 8;

// The two timespecs of utimensat for WASI times and fstflags, or EINVAL for
// unknown flags or a time given both as a value and as "now".
int32_t timesOf(uint64_t atim, uint64_t mtim, uint32_t flags, timespec out[2]) {
  if (flags & ~(kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow)) return kEinval;
  if ((flags & kFstAtim) && (flags & kFstAtimNow)) return kEinval;
  if ((flags & kFstMtim) && (flags & kFstMtimNow)) return kEinval;
  auto one = [](uint64_t nanos, bool set, bool now) {
    if (now) return timespec{0, UTIME_NOW};
    if (!set) return timespec{0, UTIME_OMIT};
    return timespec{time_t(nanos / 1'000'000'000ull), long(nanos % 1'000'000'000ull)};
  };
  out[0] = one(atim, flags & kFstAtim, flags & kFstAtimNow);
  out[1] = one(mtim, flags & kFstMtim, flags & kFstMtimNow);
  return kSuccess;
}

// futimens: utimensat without a path, the only form the seccomp filter allows.
int32_t setTimesOfFd(int fd, const timespec times[2]) {
  return futimens(fd, times) == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t fdFilestatSetTimes(VMContext* vm, int32_t fd, int64_t atim, int64_t mtim, int32_t flags) {
  FdView d = fdView(vm, fd);
  if (!d.valid()) return kEbadf;
  // A stream has no times the guest may set (the host's file behind it is
  // not the guest's): stdio lacks the right.
  if (!d.has(kRightFdFilestatSetTimes)) return kEnotcapable;
  timespec times[2];
  int32_t err = timesOf(uint64_t(atim), uint64_t(mtim), uint32_t(flags), times);
  if (err != kSuccess) return err;
  return setTimesOfFd(d.host, times);
}

// Opens what `path` names beneath `dir` (following a final symlink if
// `follow`) to set its times through the descriptor: for reading, or for
// writing if it may not be read (setting "now" needs only write access).
// Non-blocking, so a FIFO does not wait for a peer. The times of a symlink
// itself (no follow, and the last component is one) are ENOTSUP: that
// would need utimensat with a path, which the Faaslet may not call.
int32_t pathSetTimesImpl(int dir, const std::string& path, bool follow, const timespec times[2]) {
  uint64_t common = O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW);
  int fd = resolveBeneath(dir, path, O_RDONLY | common, 0);
  if (fd < 0 && (errno == EACCES || errno == EPERM))
    fd = resolveBeneath(dir, path, O_WRONLY | common, 0);
  if (fd < 0) {
    int e = errno;
    if (e == ELOOP && !follow) {
      struct stat st{};
      if (pathStatImpl(dir, path, 0, st) == kSuccess && S_ISLNK(st.st_mode)) return kEnotsup;
    }
    return errnoOfResolve(e);
  }
  int32_t err = setTimesOfFd(fd, times);
  close(fd);
  return err;
}

int32_t pathFilestatSetTimes(VMContext* vm, int32_t dirFd, int32_t lookup, int32_t pathPtr,
                             int32_t pathLen, int64_t atim, int64_t mtim, int32_t flags) {
  std::string path;
  int32_t err = copyPath(vm, pathPtr, pathLen, path);
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, kRightPathFilestatSetTimes, err);
  if (dir < 0) return err;
  timespec times[2];
  err = timesOf(uint64_t(atim), uint64_t(mtim), uint32_t(flags), times);
  if (err != kSuccess) return err;
  return pathSetTimesImpl(dir, path, uint32_t(lookup) & kLookupSymlinkFollow, times);
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
  int dir = directoryFd(vm, fd, kRightFdReaddir, err);
  if (dir < 0) return err;
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
  uint64_t need = Op == NameOp::Mkdir    ? kRightPathCreateDirectory
                  : Op == NameOp::Unlink ? kRightPathUnlinkFile
                                         : kRightPathRemoveDirectory;
  int dir = directoryFd(vm, dirFd, need, err);
  if (dir < 0) return err;
  return nameOpImpl(dir, path, Op);
}

// Two paths, each resolved beneath its own directory to an open parent and a
// last component: what path_rename and path_link act on.
struct PathPair {
  int oldParent = -1, newParent = -1;
  std::string oldLast, newLast;
  PathPair() = default;
  PathPair(const PathPair&) = delete;
  PathPair& operator=(const PathPair&) = delete;
  ~PathPair() {
    if (oldParent >= 0) close(oldParent);
    if (newParent >= 0) close(newParent);
  }
};

int32_t resolvePair(int oldDir, const std::string& oldPath, int newDir, const std::string& newPath,
                    PathPair& out) {
  int32_t err = kSuccess;
  out.oldParent = resolveParent(oldDir, oldPath, out.oldLast, err);
  if (out.oldParent < 0) return err;
  out.newParent = resolveParent(newDir, newPath, out.newLast, err);
  return out.newParent < 0 ? err : kSuccess;
}

// The prologue of the host functions naming two paths: both are copied
// before either error is returned (so a hostile second pointer traps even
// when the first path is bad), then each directory is checked for its right.
int32_t twoPaths(VMContext* vm, int32_t oldFd, int32_t oldPtr, int32_t oldLen, uint64_t oldRight,
                 int32_t newFd, int32_t newPtr, int32_t newLen, uint64_t newRight,
                 std::string& oldPath, std::string& newPath, int& oldDir, int& newDir) {
  int32_t oldErr = copyPath(vm, oldPtr, oldLen, oldPath);
  int32_t err = copyPath(vm, newPtr, newLen, newPath);
  if (oldErr != kSuccess) return oldErr;
  if (err != kSuccess) return err;
  oldDir = directoryFd(vm, oldFd, oldRight, err);
  if (oldDir < 0) return err;
  newDir = directoryFd(vm, newFd, newRight, err);
  return newDir < 0 ? err : kSuccess;
}

int32_t renameImpl(int oldDir, const std::string& oldPath, int newDir, const std::string& newPath) {
  PathPair pair;
  int32_t err = resolvePair(oldDir, oldPath, newDir, newPath, pair);
  if (err != kSuccess) return err;
  int rc = renameat(pair.oldParent, pair.oldLast.c_str(), pair.newParent, pair.newLast.c_str());
  return rc == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t pathRename(VMContext* vm, int32_t oldFd, int32_t oldPtr, int32_t oldLen, int32_t newFd,
                   int32_t newPtr, int32_t newLen) {
  std::string oldPath, newPath;
  int oldDir = -1, newDir = -1;
  int32_t err = twoPaths(vm, oldFd, oldPtr, oldLen, kRightPathRenameSource, newFd, newPtr, newLen,
                         kRightPathRenameTarget, oldPath, newPath, oldDir, newDir);
  if (err != kSuccess) return err;
  return renameImpl(oldDir, oldPath, newDir, newPath);
}

// Follows the final symlinks of `path` beneath `dir` (at most 40, as Linux
// does, then ELOOP) and leaves in `path` a name whose last component is not
// a symlink (or does not exist). A target is taken relative to the link's
// directory and is resolved beneath `dir` again like any guest path: an
// absolute target, or `..` above `dir`, is ENOTCAPABLE.
int32_t followFinalSymlinks(int dir, std::string& path) {
  for (int hops = 0;; ++hops) {
    std::string last;
    int32_t err = kSuccess;
    int parent = resolveParent(dir, path, last, err);
    if (parent < 0) return err;
    struct stat st{};
    bool isLink =
        fstatat(parent, last.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    if (!isLink) {
      close(parent);
      return kSuccess;
    }
    if (hops == 40) {
      close(parent);
      return kEloop;
    }
    char target[kPathMax];
    ssize_t n = readlinkat(parent, last.c_str(), target, sizeof target);
    int e = errno;
    close(parent);
    if (n < 0) return fromHostErrno(e);
    if (size_t(n) >= sizeof target) return kEnametoolong;
    std::string to(target, size_t(n));
    if (to.empty()) return kEnoent;
    if (to[0] == '/') return kEnotcapable;
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
      trimmed.pop_back();
    size_t slash = trimmed.rfind('/');
    path = slash == std::string::npos ? to : trimmed.substr(0, slash + 1) + to;
    if (path.size() >= kPathMax) return kEnametoolong;
  }
}

int32_t linkImpl(int oldDir, std::string oldPath, bool follow, int newDir,
                 const std::string& newPath) {
  if (follow) {
    int32_t err = followFinalSymlinks(oldDir, oldPath);
    if (err != kSuccess) return err;
  }
  PathPair pair;
  int32_t err = resolvePair(oldDir, oldPath, newDir, newPath, pair);
  if (err != kSuccess) return err;
  // Flags 0: a last component that became a symlink since is linked as the
  // link itself, never followed out of the preopen.
  int rc = linkat(pair.oldParent, pair.oldLast.c_str(), pair.newParent, pair.newLast.c_str(), 0);
  return rc == 0 ? kSuccess : fromHostErrno(errno);
}

int32_t pathLink(VMContext* vm, int32_t oldFd, int32_t oldFlags, int32_t oldPtr, int32_t oldLen,
                 int32_t newFd, int32_t newPtr, int32_t newLen) {
  std::string oldPath, newPath;
  int oldDir = -1, newDir = -1;
  int32_t err = twoPaths(vm, oldFd, oldPtr, oldLen, kRightPathLinkSource, newFd, newPtr, newLen,
                         kRightPathLinkTarget, oldPath, newPath, oldDir, newDir);
  if (err != kSuccess) return err;
  return linkImpl(oldDir, oldPath, uint32_t(oldFlags) & kLookupSymlinkFollow, newDir, newPath);
}

// Checks what the kernel would before making the link (the new name's
// parent exists beneath the preopen, the name is free), then refuses: see
// the banner.
int32_t pathSymlink(VMContext* vm, int32_t oldPtr, int32_t oldLen, int32_t dirFd, int32_t newPtr,
                    int32_t newLen) {
  std::string target, newPath;
  int32_t targetErr = copyPath(vm, oldPtr, oldLen, target);
  int32_t err = copyPath(vm, newPtr, newLen, newPath);
  if (targetErr != kSuccess) return targetErr;
  if (err != kSuccess) return err;
  int dir = directoryFd(vm, dirFd, kRightPathSymlink, err);
  if (dir < 0) return err;
  std::string last;
  int parent = resolveParent(dir, newPath, last, err);
  if (parent < 0) return err;
  struct stat st{};
  bool exists = fstatat(parent, last.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  close(parent);
  if (exists) return kEexist;
  if (target.empty()) return kEnoent;
  return kEperm;
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
  int dir = directoryFd(vm, dirFd, kRightPathReadlink, err);
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
  out.push_back(hostFunction<&fdFilestatSetTimes>(kWasiModule, "fd_filestat_set_times"));
  out.push_back(hostFunction<&pathFilestatSetTimes>(kWasiModule, "path_filestat_set_times"));
  out.push_back(hostFunction<&pathLink>(kWasiModule, "path_link"));
  out.push_back(hostFunction<&pathSymlink>(kWasiModule, "path_symlink"));
}

} // namespace faasm::wasi
