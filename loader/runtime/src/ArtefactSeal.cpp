// ---------------------------------------------------------------------------
// SUBTLE: the seal check is what stands between a file someone put in the
// functions directory and code running in the runtime (before this check a
// .so's constructors ran at dlopen, before anything looked at it). It reads
// the file once, whole, and every later step uses those bytes only: the file
// can change after the read without effect. Order: the seal's shape, the
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

Expected<SealedImage> readSealedArtefact(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return makeError("no such file");
    return makeError("cannot open: " + errnoText());
  }
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    std::string e = "cannot open: " + errnoText();
    ::close(fd);
    return makeError(e);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return makeError("not a regular file");
  }
  if (uint64_t(st.st_size) > kMaxArtefactBytes) {
    ::close(fd);
    return makeError("larger than " + std::to_string(kMaxArtefactBytes >> 20) +
                     " MiB: not an artefact this runtime loads");
  }
  // Read to the end, whatever fstat said: the size that counts is what was read.
  std::vector<uint8_t> bytes(size_t(st.st_size) + 1);
  size_t got = 0;
  for (;;) {
    if (got == bytes.size()) {
      if (bytes.size() > kMaxArtefactBytes) break;
      bytes.resize(std::min<size_t>(bytes.size() * 2, kMaxArtefactBytes + 1));
    }
    ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string e = "cannot read: " + errnoText();
      ::close(fd);
      return makeError(e);
    }
    if (n == 0) break;
    got += size_t(n);
  }
  ::close(fd);
  if (got > kMaxArtefactBytes)
    return makeError("larger than " + std::to_string(kMaxArtefactBytes >> 20) +
                     " MiB: not an artefact this runtime loads");
  bytes.resize(got);

  abi::ArtefactSeal seal;
  if (got < sizeof seal || (std::memcpy(&seal, bytes.data() + got - sizeof seal, sizeof seal),
                            std::memcmp(seal.magic, abi::kSealMagic, sizeof seal.magic) != 0))
    return makeError("not a sealed faasm artefact (truncated, or not made by faasm-codegen): "
                     "compile the module with faasm-codegen");
  if (seal.version != abi::kSealVersion || seal.sealBytes != sizeof seal)
    return makeError("sealed in format " + std::to_string(seal.version) + ", this runtime reads " +
                     std::to_string(abi::kSealVersion) +
                     ": recompile the module with this faasm-codegen");
  if (seal.imageBytes != got - sizeof seal)
    return makeError("truncated or extended since it was compiled (its seal records " +
                     std::to_string(seal.imageBytes) + " bytes, the file holds " +
                     std::to_string(got - sizeof seal) + "): recompile it");
  SealedImage out;
  bytes.resize(got - sizeof seal);
  out.imageDigest = abi::Sha256::of(bytes);
  if (!abi::equalDigests(out.imageDigest, seal.imageDigest))
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
  std::memcpy(out.sourceDigest.data(), seal.sourceDigest, out.sourceDigest.size());
  out.image = std::move(bytes);
  return out;
}

} // namespace faasm::runtime::detail
