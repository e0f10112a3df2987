#include "WasiPrivate.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>

namespace faasm::wasi {
namespace {
const char kWasiStateTag = 0;
} // namespace

std::vector<host::HostFunction> hostFunctions() {
  std::vector<host::HostFunction> out;
  addArgsEnv(out);
  addClocks(out);
  addFd(out);
  addFiles(out);
  addPoll(out);
  addProc(out);
  addRandom(out);
  addSock(out);
  return out;
}

std::pair<const void*, std::shared_ptr<void>> wasiHostState(std::shared_ptr<WasiContext> context) {
  return {&kWasiStateTag, std::move(context)};
}

WasiContext& wasiContextOf(abi::VMContext* vmctx) {
  static WasiContext* empty = new WasiContext; // never destroyed
  void* state = vmctx->instance ? host::guestInstanceOf(vmctx).hostState(&kWasiStateTag) : nullptr;
  return state ? *static_cast<WasiContext*>(state) : *empty;
}

std::string WasiContext::addPreopen(const std::string& hostDir, const std::string& guestPath) {
  int fd = ::open(hostDir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return "cannot open preopen dir " + hostDir + ": " + std::strerror(errno);
  auto file = ownedFile(fd);
  file->isDirectory = true;
  file->isPreopen = true;
  file->guestPath = guestPath.empty() ? hostDir : guestPath;
  file->rightsBase = kAllRights;
  file->rightsInheriting = kAllRights;
  int32_t next = 3;
  while (files.count(next))
    ++next;
  files[next] = std::move(file);
  return {};
}

std::string WasiContext::addSocket(int hostFd) {
  struct stat st{};
  if (fstat(hostFd, &st) != 0) return std::string("cannot add socket: ") + std::strerror(errno);
  if (!S_ISSOCK(st.st_mode)) return "cannot add socket: descriptor is not a socket";
  auto file = ownedFile(hostFd);
  file->isSocket = true;
  file->rightsBase = kSocketRights;
  file->rightsInheriting = kSocketRights;
  int32_t next = 3;
  while (files.count(next))
    ++next;
  files[next] = std::move(file);
  return {};
}

std::string WasiContext::addPreopenSpec(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return addPreopen(spec, spec);
  return addPreopen(spec.substr(0, colon), spec.substr(colon + 1));
}

void WasiContext::saveBaseline() {
  baselineFiles = files;
  std::copy(std::begin(stdioFds), std::end(stdioFds), baselineStdioFds);
}

void WasiContext::restoreBaseline() {
  files = baselineFiles; // the last reference to a call's file closes it
  std::copy(std::begin(baselineStdioFds), std::end(baselineStdioFds), stdioFds);
}

std::shared_ptr<WasiContext::File> ownedFile(int fd) {
  auto file = std::make_shared<WasiContext::File>();
  file->fd = fd;
  file->owner = std::make_shared<const WasiContext::File::HostFd>(fd);
  return file;
}

WasiContext::File* fileOf(VMContext* vm, int32_t fd) {
  auto& files = wasiContextOf(vm).files;
  auto it = files.find(fd);
  return it == files.end() ? nullptr : it->second.get();
}

FdView fdView(VMContext* vm, int32_t fd) {
  FdView v;
  WasiContext& ctx = wasiContextOf(vm);
  auto it = ctx.files.find(fd);
  if (it != ctx.files.end()) {
    WasiContext::File* f = it->second.get();
    v.file = f;
    v.host = f->fd;
    v.stream = f->isStream;
    v.directory = f->isDirectory;
    v.socket = f->isSocket;
    v.rightsBase = f->rightsBase;
    v.rightsInheriting = f->rightsInheriting;
  } else if (fd >= 0 && fd <= 2 && ctx.stdioFds[fd] >= 0) {
    v.host = ctx.stdioFds[fd];
    v.stream = true;
    v.rightsBase = kStreamRights;
  }
  return v;
}

int hostFdOf(VMContext* vm, int32_t fd) {
  return fdView(vm, fd).host;
}

int32_t insertFile(VMContext* vm, std::shared_ptr<WasiContext::File> file) {
  auto& files = wasiContextOf(vm).files;
  int32_t next = 3;
  while (files.count(next))
    ++next; // lowest free, as POSIX does
  files[next] = std::move(file);
  return next;
}

uint8_t stdioFiletype(int hostFd) {
  struct stat st{};
  return fstat(hostFd, &st) == 0 && S_ISCHR(st.st_mode) ? kFiletypeCharacterDevice
                                                        : kFiletypeUnknown;
}

uint8_t filetypeOf(uint32_t mode) {
  switch (mode & S_IFMT) {
  case S_IFBLK: return kFiletypeBlockDevice;
  case S_IFCHR: return kFiletypeCharacterDevice;
  case S_IFDIR: return kFiletypeDirectory;
  case S_IFREG: return kFiletypeRegularFile;
  case S_IFSOCK: return kFiletypeSocketStream;
  case S_IFLNK: return kFiletypeSymbolicLink;
  default: return kFiletypeUnknown;
  }
}

int32_t fromHostErrno(int e) {
  switch (e) {
  case 0: return kSuccess;
  case E2BIG: return kE2big;
  case EACCES: return kEacces;
  case EADDRINUSE: return kEaddrinuse;
  case EADDRNOTAVAIL: return kEaddrnotavail;
  case EAFNOSUPPORT: return kEafnosupport;
  case EAGAIN: return kEagain;
  case EALREADY: return kEalready;
  case EBADF: return kEbadf;
  case EBADMSG: return kEbadmsg;
  case EBUSY: return kEbusy;
  case ECANCELED: return kEcanceled;
  case ECHILD: return kEchild;
  case ECONNABORTED: return kEconnaborted;
  case ECONNREFUSED: return kEconnrefused;
  case ECONNRESET: return kEconnreset;
  case EDEADLK: return kEdeadlk;
  case EDESTADDRREQ: return kEdestaddrreq;
  case EDOM: return kEdom;
  case EDQUOT: return kEdquot;
  case EEXIST: return kEexist;
  case EFAULT: return kEfault;
  case EFBIG: return kEfbig;
  case EHOSTUNREACH: return kEhostunreach;
  case EIDRM: return kEidrm;
  case EILSEQ: return kEilseq;
  case EINPROGRESS: return kEinprogress;
  case EINTR: return kEintr;
  case EINVAL: return kEinval;
  case EIO: return kEio;
  case EISCONN: return kEisconn;
  case EISDIR: return kEisdir;
  case ELOOP: return kEloop;
  case EMFILE: return kEmfile;
  case EMLINK: return kEmlink;
  case EMSGSIZE: return kEmsgsize;
  case EMULTIHOP: return kEmultihop;
  case ENAMETOOLONG: return kEnametoolong;
  case ENETDOWN: return kEnetdown;
  case ENETRESET: return kEnetreset;
  case ENETUNREACH: return kEnetunreach;
  case ENFILE: return kEnfile;
  case ENOBUFS: return kEnobufs;
  case ENODEV: return kEnodev;
  case ENOENT: return kEnoent;
  case ENOEXEC: return kEnoexec;
  case ENOLCK: return kEnolck;
  case ENOLINK: return kEnolink;
  case ENOMEM: return kEnomem;
  case ENOMSG: return kEnomsg;
  case ENOPROTOOPT: return kEnoprotoopt;
  case ENOSPC: return kEnospc;
  case ENOSYS: return kEnosys;
  case ENOTCONN: return kEnotconn;
  case ENOTDIR: return kEnotdir;
  case ENOTEMPTY: return kEnotempty;
  case ENOTRECOVERABLE: return kEnotrecoverable;
  case ENOTSOCK: return kEnotsock;
  case EOPNOTSUPP: return kEnotsup;
  case ENOTTY: return kEnotty;
  case ENXIO: return kEnxio;
  case EOVERFLOW: return kEoverflow;
  case EOWNERDEAD: return kEownerdead;
  case EPERM: return kEperm;
  case EPIPE: return kEpipe;
  case EPROTO: return kEproto;
  case EPROTONOSUPPORT: return kEprotonosupport;
  case EPROTOTYPE: return kEprototype;
  case ERANGE: return kErange;
  case EROFS: return kErofs;
  case ESPIPE: return kEspipe;
  case ESRCH: return kEsrch;
  case ESTALE: return kEstale;
  case ETIMEDOUT: return kEtimedout;
  case ETXTBSY: return kEtxtbsy;
  case EXDEV: return kExdev;
  default: return kEio;
  }
}
} // namespace faasm::wasi
