#include "ArtefactSeal.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace faasm::codegen {
namespace {

std::string errnoText() {
  return std::strerror(errno);
}

// Reads a key file if it is private enough to be a key ("" on success).
std::string readKeyFile(const std::string& path, abi::ArtefactKey& key) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "cannot read the artefact key " + path + ": " + errnoText();
  struct stat st{};
  char text[80] = {};
  ssize_t n = -1;
  bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular) n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (!regular) return "the artefact key " + path + " is not a regular file";
  if (!abi::artefactKeyFileIsPrivate(st.st_uid, st.st_mode, geteuid()))
    return "the artefact key " + path +
           " may be read or replaced by others (it must be owned by root or this user and have "
           "mode 0600 or 0640)";
  std::optional<abi::ArtefactKey> parsed =
      n > 0 ? abi::parseArtefactKey(std::string_view(text, size_t(n))) : std::nullopt;
  explicit_bzero(text, sizeof text);
  if (!parsed) return "the artefact key " + path + " is not 64 hex digits";
  key = *parsed;
  return {};
}

// mkdir -p, mode 0700 for what it creates.
bool makeDirectories(const std::string& dir) {
  for (size_t at = dir.find('/', 1);; at = dir.find('/', at + 1)) {
    std::string prefix = dir.substr(0, at);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
    if (at == std::string::npos) return true;
  }
}

// Creates the per-user key: 32 random bytes, written to a private temporary
// file that is then linked into place, so that two compilers starting at once
// agree on one key (the second one's link fails and it reads the first's).
std::string createKeyFile(const std::string& path, abi::ArtefactKey& key) {
  std::string dir = path.substr(0, path.rfind('/'));
  if (!makeDirectories(dir))
    return "cannot create " + dir + " for the artefact key: " + errnoText();
  abi::ArtefactKey fresh;
  if (getrandom(fresh.data(), fresh.size(), 0) != ssize_t(fresh.size()))
    return "cannot make an artefact key: getrandom: " + errnoText();
  std::string text = abi::hexOf(fresh) + "\n";
  explicit_bzero(fresh.data(), fresh.size());
  std::string tmp = dir + "/.artefact-key.XXXXXX";
  int fd = mkostemp(tmp.data(), O_CLOEXEC); // mode 0600
  if (fd < 0) return "cannot create the artefact key in " + dir + ": " + errnoText();
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && fsync(fd) == 0;
  explicit_bzero(text.data(), text.size());
  ok = ::close(fd) == 0 && ok;
  int linked = ok ? ::link(tmp.c_str(), path.c_str()) : -1;
  int linkErrno = errno;
  ::unlink(tmp.c_str());
  if (!ok) return "cannot write the artefact key in " + dir + ": " + errnoText();
  if (linked != 0 && linkErrno != EEXIST)
    return "cannot create the artefact key " + path + ": " + std::strerror(linkErrno);
  return readKeyFile(path, key);
}

} // namespace

std::string loadOrCreateArtefactKey(abi::ArtefactKey& key) {
  if (const char* env = std::getenv(abi::kArtefactKeyEnv); env && *env) {
    std::optional<abi::ArtefactKey> parsed = abi::parseArtefactKey(env);
    if (!parsed) return std::string(abi::kArtefactKeyEnv) + " is not 64 hex digits";
    key = *parsed;
    return {};
  }
  struct stat st{};
  if (lstat(abi::kSystemArtefactKeyPath, &st) == 0)
    return readKeyFile(abi::kSystemArtefactKeyPath, key);
  std::string user = abi::userArtefactKeyPath(std::getenv("XDG_CONFIG_HOME"), std::getenv("HOME"));
  if (user.empty())
    return std::string("no artefact key: set ") + abi::kArtefactKeyEnv + " or HOME, or create " +
           abi::kSystemArtefactKeyPath;
  if (lstat(user.c_str(), &st) == 0) return readKeyFile(user, key);
  return createKeyFile(user, key);
}

std::string sealArtefact(const std::string& path, const abi::Digest& sourceDigest,
                         const abi::ArtefactKey& key) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return "cannot seal " + path + ": " + errnoText();
  std::vector<uint8_t> image;
  uint8_t buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string e = "cannot seal " + path + ": " + errnoText();
      ::close(fd);
      return e;
    }
    if (n == 0) break;
    image.insert(image.end(), buffer, buffer + n);
  }
  abi::ArtefactSeal seal{};
  std::memcpy(seal.magic, abi::kSealMagic, sizeof seal.magic);
  seal.version = abi::kSealVersion;
  seal.sealBytes = sizeof seal;
  seal.imageBytes = image.size();
  abi::Digest imageDigest = abi::Sha256::of(image);
  std::memcpy(seal.imageDigest, imageDigest.data(), sizeof seal.imageDigest);
  std::memcpy(seal.sourceDigest, sourceDigest.data(), sizeof seal.sourceDigest);
  std::array<uint8_t, 8> keyId = abi::artefactKeyId(key);
  std::memcpy(seal.keyId, keyId.data(), sizeof seal.keyId);
  abi::Digest mac = abi::artefactSealMac(key, seal);
  std::memcpy(seal.mac, mac.data(), sizeof seal.mac);
  bool ok = pwrite(fd, &seal, sizeof seal, off_t(image.size())) == ssize_t(sizeof seal);
  int saved = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return "cannot seal " + path + ": " + std::strerror(saved);
  return {};
}

} // namespace faasm::codegen
