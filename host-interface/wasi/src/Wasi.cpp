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
  auto file = std::make_shared<File>();
  file->fd = fd;
  file->isDirectory = true;
  file->isPreopen = true;
  file->guestPath = guestPath.empty() ? hostDir : guestPath;
  file->rightsBase = ~uint64_t(0) >> 34; // every preview1 right (bits 0..29)
  file->rightsInheriting = ~uint64_t(0) >> 34;
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

WasiContext::File* fileOf(VMContext* vm, int32_t fd) {
  if (fd < 3) return nullptr;
  auto& files = wasiContextOf(vm).files;
  auto it = files.find(fd);
  return it == files.end() ? nullptr : it->second.get();
}

int hostFdOf(VMContext* vm, int32_t fd) {
  if (isStdio(fd)) return wasiContextOf(vm).stdioFds[fd];
  WasiContext::File* f = fileOf(vm, fd);
  return f ? f->fd : -1;
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
  case EAGAIN: return kEagain;
  case EBADF: return kEbadf;
  case EFAULT: return kEfault;
  case EINTR: return kEintr;
  case EINVAL: return kEinval;
  case EPERM: return kEperm;
  case EPIPE: return kEpipe;
  case ESPIPE: return kEspipe;
  case ENOSYS: return kEnosys;
  case EBUSY: return kEbusy;
  case EDQUOT: return kEdquot;
  case EEXIST: return kEexist;
  case EFBIG: return kEfbig;
  case EISDIR: return kEisdir;
  case ELOOP: return kEloop;
  case EMFILE: return kEmfile;
  case EMLINK: return kEmlink;
  case ENAMETOOLONG: return kEnametoolong;
  case ENFILE: return kEnfile;
  case ENOENT: return kEnoent;
  case ENOMEM: return kEnomem;
  case ENOSPC: return kEnospc;
  case ENOTDIR: return kEnotdir;
  case ENOTEMPTY: return kEnotempty;
  case EOPNOTSUPP: return kEnotsup;
  case EOVERFLOW: return kEoverflow;
  case EROFS: return kErofs;
  case ETXTBSY: return kEtxtbsy;
  case EXDEV: return kExdev;
  default: return kEio;
  }
}
} // namespace faasm::wasi
