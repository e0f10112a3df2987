// ---------------------------------------------------------------------------
// SUBTLE: the seal check is what stands between a file someone put in the
// functions directory and code running in the runtime (before this check a
// .so's constructors ran at dlopen, before anything looked at it). It reads
// the file once, whole, into a memfd that is sealed before anything is
// checked, and every later step (the ELF check, dlopen) uses that memfd
// only: the file can change after the read without effect. Order: the seal's shape, the
// image's SHA-256 against the recorded one (catches truncation and
// corruption), the key id (a foreign platform's artefact), the MAC (a seal an
// attacker computed without the key). The key is read at each load and wiped
// after use, so it is not in the memory every Faaslet is forked from.
// ---------------------------------------------------------------------------
#include "ArtefactFile.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm::runtime::detail {
namespace {

std::string errnoText() {
  return std::strerror(errno);
}

// A key file's contents, if it is private enough to be a key.
Expected<abi::ArtefactKey> readKeyFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return makeError("cannot read the artefact key " + path + ": " + errnoText());
  struct stat st{};
  char text[80] = {};
  ssize_t n = -1;
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular) n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (!regular) return makeError("the artefact key " + path + " is not a regular file");
  if (!abi::artefactKeyFileIsPrivate(st.st_uid, st.st_mode, geteuid()))
    return makeError("the artefact key " + path +
                     " may be read or replaced by others (it must be owned by root or this user "
                     "and have mode 0600 or 0640)");
  std::optional<abi::ArtefactKey> key =
      n > 0 ? abi::parseArtefactKey(std::string_view(text, size_t(n))) : std::nullopt;
  explicit_bzero(text, sizeof text);
  if (!key) return makeError("the artefact key " + path + " is not 64 hex digits");
  return *key;
}

std::string shortHex(std::span<const uint8_t> bytes) {
  return abi::hexOf(bytes.first(std::min<size_t>(bytes.size(), 8)));
}

} // namespace

Expected<abi::ArtefactKey> loadArtefactKey() {
  if (const char* env = std::getenv(abi::kArtefactKeyEnv); env && *env) {
    std::optional<abi::ArtefactKey> key = abi::parseArtefactKey(env);
    if (!key) return makeError(std::string(abi::kArtefactKeyEnv) + " is not 64 hex digits");
    return *key;
  }
  struct stat st{};
  if (lstat(abi::kSystemArtefactKeyPath, &st) == 0) return readKeyFile(abi::kSystemArtefactKeyPath);
  std::string user = abi::userArtefactKeyPath(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  if (user.empty() || lstat(user.c_str(), &st) != 0)
    return makeError(std::string("no artefact key on this host (") + abi::kArtefactKeyEnv + ", " +
                     abi::kSystemArtefactKeyPath + (user.empty() ? "" : " or " + user) +
                     "): compile the module here with faasm-codegen, which creates one");
  return readKeyFile(user);
}

SealedImage::~SealedImage() {
  if (bytes_) munmap(const_cast<uint8_t*>(bytes_), size_);
  if (fd_ >= 0) ::close(fd_);
}

int SealedImage::releaseFd() {
  if (bytes_) munmap(const_cast<uint8_t*>(bytes_), size_);
  bytes_ = nullptr;
  size_ = 0;
  int fd = fd_;
  fd_ = -1;
  return fd;
}

Expected<std::unique_ptr<SealedImage>> readSealedArtefact(const std::string& path) {
  int file = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) {
    if (errno == ENOENT) return makeError("no such file");
    return makeError("cannot open: " + errnoText());
  }
  struct stat st{};
  if (fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
    std::string e = fstat(file, &st) != 0 ? "cannot open: " + errnoText() : "not a regular file";
    ::close(file);
    return makeError(e);
  }
  auto out = std::make_unique<SealedImage>();
  std::string base = path.substr(path.rfind('/') + 1);
  out->fd_ =
      memfd_create(("faasm:" + base.substr(0, 200)).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (out->fd_ < 0) {
    ::close(file);
    return makeError("cannot load: memfd_create: " + errnoText());
  }
  // To the end of the file, whatever fstat said: what counts is what was read.
  uint64_t total = 0;
  for (;;) {
    ssize_t n = sendfile(out->fd_, file, nullptr, kMaxArtefactBytes + 1 - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string e = "cannot read: " + errnoText();
      ::close(file);
      return makeError(e);
    }
    total += uint64_t(n);
    if (n == 0 || total > kMaxArtefactBytes) break;
  }
  ::close(file);
  if (total > kMaxArtefactBytes)
    return makeError("larger than " + std::to_string(kMaxArtefactBytes >> 20) +
                     " MiB: not an artefact this runtime loads");

  abi::ArtefactSeal seal;
  if (total < sizeof seal ||
      pread(out->fd_, &seal, sizeof seal, off_t(total - sizeof seal)) != ssize_t(sizeof seal) ||
      std::memcmp(seal.magic, abi::kSealMagic, sizeof seal.magic) != 0)
    return makeError("not a sealed faasm artefact (truncated, or not made by faasm-codegen): "
                     "compile the module with faasm-codegen");
  if (seal.version != abi::kSealVersion || seal.sealBytes != sizeof seal)
    return makeError("sealed in format " + std::to_string(seal.version) + ", this runtime reads " +
                     std::to_string(abi::kSealVersion) +
                     ": recompile the module with this faasm-codegen");
  uint64_t imageBytes = total - sizeof seal;
  if (seal.imageBytes != imageBytes)
    return makeError("truncated or extended since it was compiled (its seal records " +
                     std::to_string(seal.imageBytes) + " bytes, the file holds " +
                     std::to_string(imageBytes) + "): recompile it");
  // From here on nobody can change the image: not the file's writers (it is
  // a copy), not whoever holds the memfd (sealed).
  if (ftruncate(out->fd_, off_t(imageBytes)) != 0 ||
      fcntl(out->fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0)
    return makeError("cannot load: cannot seal the image: " + errnoText());
  if (imageBytes) {
    void* p = mmap(nullptr, imageBytes, PROT_READ, MAP_SHARED, out->fd_, 0);
    if (p == MAP_FAILED) return makeError("cannot load: cannot map the image: " + errnoText());
    out->bytes_ = static_cast<const uint8_t*>(p);
    out->size_ = imageBytes;
  }
  out->imageDigest_ = abi::Sha256::of(out->image());
  if (!abi::equalDigests(out->imageDigest_, seal.imageDigest))
    return makeError("modified since it was compiled (its SHA-256 does not match its seal): "
                     "recompile it");

  auto key = loadArtefactKey();
  if (!key) return key.error();
  std::array<uint8_t, 8> keyId = abi::artefactKeyId(key.value());
  abi::Digest mac = abi::artefactSealMac(key.value(), seal);
  explicit_bzero(key.value().data(), key.value().size());
  if (!abi::equalDigests(keyId, seal.keyId))
    return makeError("sealed with another platform's key (key id " + shortHex(seal.keyId) +
                     ", this host's is " + shortHex(keyId) +
                     "): compile the module on this platform");
  if (!abi::equalDigests(mac, seal.mac))
    return makeError("its seal is forged (the MAC does not verify under this host's key): "
                     "compile the module with faasm-codegen");
  std::memcpy(out->sourceDigest_.data(), seal.sourceDigest, out->sourceDigest_.size());
  return out;
}

} // namespace faasm::runtime::detail
