// The local tier. TENANCY-CRITICAL (see LocalState.h): every file of a user
// is reached through the user's directory descriptor with O_NOFOLLOW, and
// every change of a file's size is made under the user's ledger lock after
// charging or before refunding the bytes.
#include "faasm/state/LocalState.h"

#include "Sha256.h"

#include "faasm/abi/Abi.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm::state {
namespace {

constexpr uint64_t kMagic = 0x31657461'74536d46ull;       // "FmState1"
constexpr uint64_t kLedgerMagic = 0x31656761'73556d46ull; // "FmUsage1"
constexpr size_t kMaxPlainName = 200;
constexpr const char* kLedgerName = ".usage";
constexpr const char* kAppendSuffix = ".append";
constexpr const char* kUserPrefix = "faasm-";
constexpr uint64_t kAppendHeader = 16; // u64 count, u64 bytes
// The ledger: u64 magic, u64 bytes charged, u64 generation, u32 length and
// the user's name; its first page is mapped by every store using it, for
// the generation (an atomic u64 bumped whenever an object is removed, so
// that stores drop what they cached).
constexpr uint64_t kLedgerGenerationOffset = 16;
constexpr uint64_t kLedgerNameOffset = 24;
constexpr uint64_t kLedgerBytes = 4096;
// In a value's header: the key, as u32 length then bytes, for keys().
// (at most the 1024 bytes the host functions accept; a longer key is listed
// by its file name)
constexpr uint64_t kKeyOffset = 64;
constexpr uint64_t kMaxStoredKey = 1024;
// In a value's header: the dirty bitmap (StateObject::kDirtyBits bits).
constexpr uint64_t kDirtyOffset = 2048;
static_assert(kKeyOffset + 4 + kMaxStoredKey <= kDirtyOffset);
static_assert(kDirtyOffset + StateObject::kDirtyBits / 8 == kHeaderBytes);

// Holds an flock for the life of the guard. flock excludes other open file
// descriptions only: every guard here locks a descriptor opened for it.
class FlockGuard {
public:
  FlockGuard(int fd, int op) : fd_(fd) {
    while (flock(fd_, op) != 0 && errno == EINTR) {
    }
  }
  ~FlockGuard() { flock(fd_, LOCK_UN); }
  FlockGuard(const FlockGuard&) = delete;
  FlockGuard& operator=(const FlockGuard&) = delete;

private:
  int fd_;
};

bool preadAll(int fd, uint8_t* out, uint64_t length, uint64_t offset) {
  while (length) {
    ssize_t n = pread(fd, out, length, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n, length -= uint64_t(n), offset += uint64_t(n);
  }
  return true;
}

bool pwriteAll(int fd, const uint8_t* data, uint64_t length, uint64_t offset) {
  while (length) {
    ssize_t n = pwrite(fd, data, length, off_t(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n, length -= uint64_t(n), offset += uint64_t(n);
  }
  return true;
}

// openat relative to a user's directory, never following a symlink.
int openIn(int dirFd, const std::string& name, int flags) {
  int fd;
  do {
    fd = ::openat(dirFd, name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

void closeKeepingErrno(int fd) {
  int e = errno;
  ::close(fd);
  errno = e;
}

std::string defaultDirectory() {
  const char* env = std::getenv("FAASM_STATE_DIR");
  return env && *env ? env : "/dev/shm";
}

bool isPlain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// The bytes a nameOf() came from, or nullopt for a hashed name.
std::optional<std::string> unescape(std::string_view name) {
  if (!name.empty() && name[0] == '#') return std::nullopt;
  if (name == "%") return std::string();
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '%' && i + 2 < name.size()) {
      out += char(std::strtoul(std::string(name.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += name[i];
    }
  }
  return out;
}

// Regular files of a user's directory other than the ledger: their bytes
// (st_size) and how many.
uint64_t countDirectory(int dirFd, uint64_t* filesOut) {
  uint64_t bytes = 0, files = 0;
  int fd = openIn(dirFd, ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return 0;
  DIR* d = fdopendir(fd);
  if (!d) {
    ::close(fd);
    return 0;
  }
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue; // ".", "..", the ledger: names never start with '.'
    struct stat st{};
    if (fstatat(dirFd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      bytes += uint64_t(st.st_size);
      ++files;
    }
  }
  closedir(d);
  if (filesOut) *filesOut = files;
  return bytes;
}

// A user's ledger, locked exclusively for the life of this object, through
// a descriptor of its own. Charges are written back when it ends.
class Ledger {
public:
  Ledger(int dirFd, std::string_view user, uint64_t quota) : dirFd_(dirFd), quota_(quota) {
    fd_ = openIn(dirFd, kLedgerName, O_RDWR | O_CREAT);
    if (fd_ < 0) return;
    while (flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      closeKeepingErrno(fd_);
      fd_ = -1;
      return;
    }
    uint64_t head[2] = {0, 0};
    struct stat st{};
    bool valid = fstat(fd_, &st) == 0 && st.st_size >= 16 &&
                 preadAll(fd_, reinterpret_cast<uint8_t*>(head), 16, 0) && head[0] == kLedgerMagic;
    if (valid) {
      charged_ = head[1];
      return;
    }
    // A new ledger, or one a crash left half written: count, and name the user.
    uint32_t length = uint32_t(user.size());
    pwriteAll(fd_, reinterpret_cast<const uint8_t*>(&length), 4, kLedgerNameOffset);
    pwriteAll(fd_, reinterpret_cast<const uint8_t*>(user.data()), user.size(),
              kLedgerNameOffset + 4);
    recount();
  }
  ~Ledger() {
    if (fd_ < 0) return;
    if (dirty_) {
      uint64_t head[2] = {kLedgerMagic, charged_};
      pwriteAll(fd_, reinterpret_cast<const uint8_t*>(head), 16, 0);
    }
    flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  bool ok() const { return fd_ >= 0; }
  uint64_t charged() const { return charged_; }

  // Charges `delta` more bytes; false with errno EDQUOT if that passes the
  // quota even after counting the directory again.
  bool charge(uint64_t delta) {
    if (fits(delta)) return add(delta);
    recount();
    if (fits(delta)) return add(delta);
    errno = EDQUOT;
    return false;
  }
  void refund(uint64_t delta) {
    charged_ -= std::min(delta, charged_);
    dirty_ = true;
  }
  // Sets the charge to what the directory holds.
  uint64_t recount(uint64_t* files = nullptr) {
    charged_ = countDirectory(dirFd_, files);
    dirty_ = true;
    return charged_;
  }
  // The user name the ledger records.
  std::string user() const {
    uint32_t length = 0;
    if (!preadAll(fd_, reinterpret_cast<uint8_t*>(&length), 4, kLedgerNameOffset) ||
        length > kLedgerBytes - kLedgerNameOffset - 4)
      return {};
    std::string out(length, '\0');
    if (length &&
        !preadAll(fd_, reinterpret_cast<uint8_t*>(out.data()), length, kLedgerNameOffset + 4))
      return {};
    return out;
  }

private:
  bool fits(uint64_t delta) const { return delta <= quota_ && charged_ <= quota_ - delta; }
  bool add(uint64_t delta) {
    charged_ += delta;
    dirty_ = true;
    return true;
  }
  int dirFd_;
  int fd_ = -1;
  uint64_t quota_;
  uint64_t charged_ = 0;
  bool dirty_ = false;
};

// Opens file `name` of a user's directory, creating it `initialSize` bytes
// long (zero) if missing and `create`: the creation, the charge and the
// first size are one step under the ledger lock, so every file of the
// directory has been charged for. A file found shorter than `initialSize`
// (its creator died half way) is completed the same way. `created` says
// whether this call made it. -1 with errno on failure (EDQUOT: over quota).
int openCharged(int dirFd, std::string_view user, uint64_t quota, const std::string& name,
                uint64_t initialSize, bool create, bool* created = nullptr) {
  if (created) *created = false;
  int fd = openIn(dirFd, name, O_RDWR);
  struct stat st{};
  if (fd >= 0) {
    if (fstat(fd, &st) != 0) {
      closeKeepingErrno(fd);
      return -1;
    }
    if (uint64_t(st.st_size) >= initialSize) return fd;
    ::close(fd);
  } else if (errno != ENOENT || !create) {
    return -1;
  }
  Ledger ledger(dirFd, user, quota);
  if (!ledger.ok()) return -1;
  fd = openIn(dirFd, name, O_RDWR | (create ? O_CREAT : 0));
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0) {
    closeKeepingErrno(fd);
    return -1;
  }
  uint64_t size = uint64_t(st.st_size);
  if (size >= initialSize) return fd;
  bool charged = ledger.charge(initialSize - size);
  if (!charged || ftruncate(fd, off_t(initialSize)) != 0) {
    int e = errno;
    if (charged) ledger.refund(initialSize - size);
    if (size == 0) unlinkat(dirFd, name.c_str(), 0); // never a file nobody paid for
    ::close(fd);
    errno = e;
    return -1;
  }
  if (created) *created = size == 0;
  return fd;
}

} // namespace

struct LocalStateStore::UserDir {
  int fd = -1;
  std::string user;
  LocalStateStore* store = nullptr;
  void* ledgerPage = nullptr; // the ledger's first page, shared
  std::atomic<uint64_t>* generation = nullptr;
  UserDir() = default;
  UserDir(const UserDir&) = delete;
  UserDir& operator=(const UserDir&) = delete;
  ~UserDir() {
    if (ledgerPage) munmap(ledgerPage, kLedgerBytes);
    if (fd >= 0) ::close(fd);
  }
  // After removing objects: every store drops what it cached of this user.
  void bumpGeneration() { generation->fetch_add(1, std::memory_order_acq_rel); }
};

struct StateObject::Header {
  std::atomic<uint64_t> magic;
  std::atomic<uint64_t> size;
  std::atomic<uint64_t> syncedVersion;
  std::atomic<uint64_t> reserved[5];
  uint8_t key[kDirtyOffset - 64];
  std::atomic<uint64_t> dirty[kDirtyBits / 64];
};

static_assert(sizeof(std::atomic<uint64_t>) == 8 && std::atomic<uint64_t>::is_always_lock_free,
              "the header is shared between processes: its atomics must be lock free");

// ----- LocalStateStore ---------------------------------------------------------

LocalStateStore& LocalStateStore::instance() {
  static LocalStateStore* store = new LocalStateStore(defaultDirectory()); // never destroyed
  return *store;
}

LocalStateStore::LocalStateStore(std::string directory, uint64_t quotaBytes)
    : directory_(std::move(directory)), owner_(geteuid()), quota_(quotaBytes) {}
LocalStateStore::~LocalStateStore() = default;

void LocalStateStore::setDirectory(std::string directory) {
  std::lock_guard lock(mutex_);
  for (auto& [id, object] : objects_)
    retired_.push_back(std::move(object));
  objects_.clear();
  for (auto& [name, dir] : users_)
    retiredUsers_.push_back(std::move(dir)); // retired objects still point at them
  users_.clear();
  directory_ = std::move(directory);
}

void LocalStateStore::setQuota(uint64_t bytes) {
  quota_.store(bytes, std::memory_order_relaxed);
}
uint64_t LocalStateStore::quota() const {
  return quota_.load(std::memory_order_relaxed);
}

std::optional<uint64_t> LocalStateStore::parseSize(std::string_view text) {
  if (text.empty()) return std::nullopt;
  uint64_t unit = 1;
  switch (text.back()) {
  case 'K':
  case 'k': unit = uint64_t(1) << 10; break;
  case 'M':
  case 'm': unit = uint64_t(1) << 20; break;
  case 'G':
  case 'g': unit = uint64_t(1) << 30; break;
  default: break;
  }
  if (unit != 1) text.remove_suffix(1);
  if (text.empty() || text.size() > 19) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + uint64_t(c - '0');
  }
  if (value > UINT64_MAX / unit) return std::nullopt;
  return value * unit;
}

uint64_t LocalStateStore::defaultQuota() {
  const char* env = std::getenv("FAASM_STATE_QUOTA");
  if (!env || !*env) return kDefaultQuotaBytes;
  if (std::optional<uint64_t> bytes = parseSize(env)) return *bytes;
  static std::once_flag warned;
  std::call_once(warned, [env] {
    std::fprintf(stderr, "faasm: FAASM_STATE_QUOTA=%s is not a size; using %llu bytes\n", env,
                 static_cast<unsigned long long>(kDefaultQuotaBytes));
  });
  return kDefaultQuotaBytes;
}

std::string LocalStateStore::nameOf(std::string_view bytes) {
  static const char* hex = "0123456789ABCDEF";
  if (bytes.empty()) return "%"; // a file needs a name; an escape is never a lone '%'
  std::string name;
  for (unsigned char c : bytes) {
    if (isPlain(c)) {
      name += char(c);
    } else {
      name += '%';
      name += hex[c >> 4];
      name += hex[c & 15];
    }
    if (name.size() > kMaxPlainName) return "#" + sha256Hex(bytes);
  }
  return name;
}

std::string LocalStateStore::userDirectoryName(std::string_view user) {
  return kUserPrefix + nameOf(user);
}

std::string LocalStateStore::pathOf(std::string_view fileName) const {
  return directory_ + "/" + std::string(fileName);
}

LocalStateStore::UserDir* LocalStateStore::userDir(std::string_view user, bool create) {
  std::string name = userDirectoryName(user);
  if (auto it = users_.find(name); it != users_.end()) return it->second.get();
  std::string path = pathOf(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    // mkdirat, not mkdir: the Faaslet seccomp filter allows the *at calls only.
    if (mkdirat(AT_FDCWD, path.c_str(), 0700) != 0 && errno != EEXIST) return nullptr;
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) return nullptr;
  // In a shared directory such as /dev/shm, someone else's directory of
  // that name must not receive this user's state.
  struct stat st{};
  if (fstat(fd, &st) != 0 || st.st_uid != owner_ || (st.st_mode & 0077) != 0) {
    ::close(fd);
    errno = EACCES;
    return nullptr;
  }
  auto dir = std::make_unique<UserDir>();
  dir->fd = fd;
  dir->user = std::string(user);
  dir->store = this;
  // The ledger's first page (never charged: its name starts with '.').
  int ledger = openIn(fd, kLedgerName, O_RDWR | O_CREAT);
  if (ledger < 0) return nullptr;
  struct stat lst{};
  bool sized = fstat(ledger, &lst) == 0 && (uint64_t(lst.st_size) >= kLedgerBytes ||
                                            ftruncate(ledger, off_t(kLedgerBytes)) == 0);
  void* page = sized ? mmap(nullptr, kLedgerBytes, PROT_READ | PROT_WRITE, MAP_SHARED, ledger, 0)
                     : MAP_FAILED;
  closeKeepingErrno(ledger);
  if (page == MAP_FAILED) return nullptr;
  dir->ledgerPage = page;
  dir->generation = reinterpret_cast<std::atomic<uint64_t>*>(static_cast<uint8_t*>(page) +
                                                             kLedgerGenerationOffset);
  UserDir* raw = dir.get();
  users_.emplace(std::move(name), std::move(dir));
  return raw;
}

bool LocalStateStore::prepareUser(std::string_view user, uid_t owner, gid_t group) {
  std::lock_guard lock(mutex_);
  std::string path = pathOf(userDirectoryName(user));
  if (mkdirat(AT_FDCWD, path.c_str(), 0700) != 0 && errno != EEXIST) return false;
  if (geteuid() == 0 && owner != 0) {
    // Made by root for an unprivileged Faaslet: hand the directory and its
    // ledger over (the ledger is created here, while this process may).
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    struct stat st{};
    bool ours = fstat(fd, &st) == 0 && (st.st_uid == 0 || st.st_uid == owner);
    int ledger = ours ? openIn(fd, kLedgerName, O_RDWR | O_CREAT) : -1;
    bool handed = ledger >= 0 && fchown(ledger, owner, group) == 0 && fchown(fd, owner, group) == 0;
    if (ledger >= 0) closeKeepingErrno(ledger);
    closeKeepingErrno(fd);
    if (!ours) errno = EACCES;
    if (!handed) return false;
  }
  owner_ = owner;
  // A directory cached under the old expectation is opened again.
  if (auto it = users_.find(userDirectoryName(user)); it != users_.end()) {
    retiredUsers_.push_back(std::move(it->second));
    users_.erase(it);
  }
  return userDir(user, true) != nullptr;
}

std::string LocalStateStore::userDirectoryPath(std::string_view user) const {
  return pathOf(userDirectoryName(user));
}

StateObject* LocalStateStore::open(std::string_view user, std::string_view key, bool create) {
  std::string name = nameOf(key);
  std::string id = nameOf(user) + "/" + name;
  std::lock_guard lock(mutex_);
  UserDir* dir = userDir(user, create);
  if (!dir) return nullptr;
  uint64_t generation = dir->generation->load(std::memory_order_acquire);
  if (auto it = objects_.find(id); it != objects_.end()) {
    if (it->second->generation_ == generation) return it->second.get();
    // Something of the user was removed since (remove, clearUser): open
    // what the name holds now.
    retired_.push_back(std::move(it->second));
    objects_.erase(it);
  }
  bool created = false;
  int fd = openCharged(dir->fd, dir->user, quota(), name, kHeaderBytes, create, &created);
  if (fd < 0) return nullptr;
  void* h = mmap(nullptr, kHeaderBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED) {
    closeKeepingErrno(fd);
    return nullptr;
  }
  std::unique_ptr<StateObject> object(new StateObject);
  object->fd_ = fd;
  object->name_ = name;
  object->path_ = pathOf(userDirectoryName(user)) + "/" + name;
  object->user_ = dir;
  object->generation_ = generation;
  object->header_ = static_cast<StateObject::Header*>(h);
  if (created) {
    uint32_t length = uint32_t(std::min<uint64_t>(key.size(), kMaxStoredKey));
    pwriteAll(fd, reinterpret_cast<const uint8_t*>(&length), 4, kKeyOffset);
    pwriteAll(fd, reinterpret_cast<const uint8_t*>(key.data()), length, kKeyOffset + 4);
  }
  // A fresh file reads as zeros: size 0. The magic only marks the layout.
  uint64_t expected = 0;
  object->header_->magic.compare_exchange_strong(expected, kMagic);
  StateObject* raw = object.get();
  objects_.emplace(std::move(id), std::move(object));
  return raw;
}

bool LocalStateStore::remove(std::string_view user, std::string_view key) {
  std::lock_guard lock(mutex_);
  UserDir* dir = userDir(user, false);
  if (!dir) return errno == ENOENT;
  std::string name = nameOf(key);
  if (auto it = objects_.find(nameOf(user) + "/" + name); it != objects_.end()) {
    retired_.push_back(std::move(it->second));
    objects_.erase(it);
  }
  Ledger ledger(dir->fd, dir->user, quota());
  if (!ledger.ok()) return false;
  dir->bumpGeneration();
  bool ok = true;
  for (const std::string& file : {name, name + kAppendSuffix}) {
    struct stat st{};
    if (fstatat(dir->fd, file.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      ok &= errno == ENOENT;
      continue;
    }
    if (unlinkat(dir->fd, file.c_str(), 0) == 0)
      ledger.refund(uint64_t(st.st_size));
    else
      ok &= errno == ENOENT;
  }
  return ok;
}

// Append lists are opened per operation: each operation then has an open file
// description of its own, so its flock excludes other threads as well. A
// list removed while we waited for its lock is opened again.
bool LocalStateStore::appendElement(std::string_view user, std::string_view key,
                                    const uint8_t* data, uint32_t length) {
  UserDir* dir;
  {
    std::lock_guard lock(mutex_);
    dir = userDir(user, true);
  }
  if (!dir) return false;
  std::string name = nameOf(key) + kAppendSuffix;
  for (;;) {
    int fd = openCharged(dir->fd, dir->user, quota(), name, kAppendHeader, true);
    if (fd < 0) return false;
    bool ok = false, retry = false;
    int e = 0;
    {
      FlockGuard guard(fd, LOCK_EX);
      uint64_t head[2] = {0, 0}; // count, bytes
      struct stat st{};
      if (fstat(fd, &st) != 0) {
        e = errno;
      } else if (st.st_nlink == 0) {
        retry = true;
      } else if (!preadAll(fd, reinterpret_cast<uint8_t*>(head), 16, 0)) {
        e = errno ? errno : EIO;
      } else {
        uint64_t at = kAppendHeader + head[1];
        uint64_t end = at + 4 + uint64_t(length);
        ok = true;
        if (end > uint64_t(st.st_size)) {
          // Grown (and charged) a wasm page at a time, as values are: most
          // appends then touch no ledger.
          uint64_t grown = abi::roundUpToWasmPages(end);
          Ledger ledger(dir->fd, dir->user, quota());
          ok = ledger.ok() && ledger.charge(grown - uint64_t(st.st_size));
          if (ok && ftruncate(fd, off_t(grown)) != 0) {
            ok = false;
            int te = errno;
            ledger.refund(grown - uint64_t(st.st_size));
            errno = te;
          }
          if (!ok) e = errno;
        }
        ok = ok && pwriteAll(fd, reinterpret_cast<const uint8_t*>(&length), 4, at) &&
             pwriteAll(fd, data, length, at + 4);
        head[0] += 1;
        head[1] += 4 + uint64_t(length);
        ok = ok && pwriteAll(fd, reinterpret_cast<const uint8_t*>(head), 16, 0);
        if (!ok && !e) e = errno ? errno : EIO;
      }
    }
    ::close(fd);
    if (retry) continue;
    errno = e;
    return ok;
  }
}

uint64_t LocalStateStore::readAppended(std::string_view user, std::string_view key, uint8_t* out,
                                       uint64_t outLength, uint32_t nElems) {
  UserDir* dir;
  {
    std::lock_guard lock(mutex_);
    dir = userDir(user, false);
  }
  if (!dir) return 0;
  int fd = openIn(dir->fd, nameOf(key) + kAppendSuffix, O_RDONLY);
  if (fd < 0) return 0;
  uint64_t copied = 0;
  {
    FlockGuard guard(fd, LOCK_SH);
    uint64_t head[2] = {0, 0};
    if (preadAll(fd, reinterpret_cast<uint8_t*>(head), 16, 0)) {
      uint64_t at = kAppendHeader;
      for (uint64_t i = 0; i < nElems && i < head[0] && copied < outLength; ++i) {
        uint32_t length = 0;
        if (!preadAll(fd, reinterpret_cast<uint8_t*>(&length), 4, at)) break;
        uint64_t take = std::min<uint64_t>(length, outLength - copied);
        if (!preadAll(fd, out + copied, take, at + 4)) break;
        copied += take;
        at += 4 + uint64_t(length);
      }
    }
  }
  ::close(fd);
  return copied;
}

bool LocalStateStore::clearAppended(std::string_view user, std::string_view key) {
  UserDir* dir;
  {
    std::lock_guard lock(mutex_);
    dir = userDir(user, false);
  }
  if (!dir) return errno == ENOENT;
  std::string name = nameOf(key) + kAppendSuffix;
  int fd = openIn(dir->fd, name, O_RDWR);
  if (fd < 0) return errno == ENOENT;
  bool ok = true;
  {
    FlockGuard guard(fd, LOCK_EX);
    Ledger ledger(dir->fd, dir->user, quota());
    struct stat st{};
    ok = ledger.ok() && fstat(fd, &st) == 0;
    // Unlinked, not truncated: a waiting appender sees the link gone and
    // starts a new list.
    if (ok && st.st_nlink > 0) {
      ok = unlinkat(dir->fd, name.c_str(), 0) == 0;
      if (ok) ledger.refund(uint64_t(st.st_size));
    }
  }
  ::close(fd);
  return ok;
}

std::vector<LocalStateStore::UserUsage> LocalStateStore::users() {
  std::vector<UserUsage> out;
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    DIR* d = opendir(directory_.c_str());
    if (!d) return out;
    while (dirent* e = readdir(d))
      if (std::strncmp(e->d_name, kUserPrefix, std::strlen(kUserPrefix)) == 0)
        names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    int fd = ::open(pathOf(name).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st{};
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid()) {
      std::string fallback =
          unescape(std::string_view(name).substr(std::strlen(kUserPrefix))).value_or(name);
      Ledger ledger(fd, fallback, quota());
      if (ledger.ok()) {
        UserUsage u;
        u.bytes = ledger.recount(&u.files);
        u.user = ledger.user();
        if (u.user.empty()) u.user = fallback;
        out.push_back(std::move(u));
      }
    }
    ::close(fd);
  }
  return out;
}

std::vector<LocalStateStore::KeyUsage> LocalStateStore::keys(std::string_view user) {
  UserDir* dir;
  {
    std::lock_guard lock(mutex_);
    dir = userDir(user, false);
  }
  std::vector<KeyUsage> out;
  if (!dir) return out;
  {
    Ledger ledger(dir->fd, dir->user, quota());
    if (ledger.ok()) ledger.recount();
  }
  int fd = openIn(dir->fd, ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return out;
  DIR* d = fdopendir(fd);
  if (!d) {
    ::close(fd);
    return out;
  }
  std::map<std::string, KeyUsage> byName;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    struct stat st{};
    if (fstatat(dir->fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
      continue;
    bool isAppend = name.size() > std::strlen(kAppendSuffix) &&
                    name.compare(name.size() - std::strlen(kAppendSuffix), std::string::npos,
                                 kAppendSuffix) == 0;
    std::string base = isAppend ? name.substr(0, name.size() - std::strlen(kAppendSuffix)) : name;
    KeyUsage& k = byName[base];
    (isAppend ? k.appendBytes : k.valueBytes) += uint64_t(st.st_size);
  }
  closedir(d);
  for (auto& [name, k] : byName) {
    if (std::optional<std::string> key = unescape(name)) {
      k.key = *key;
    } else if (int vf = openIn(dir->fd, name, O_RDONLY); vf >= 0) {
      uint32_t length = 0;
      if (preadAll(vf, reinterpret_cast<uint8_t*>(&length), 4, kKeyOffset) &&
          length <= kMaxStoredKey) {
        k.key.resize(length);
        if (!preadAll(vf, reinterpret_cast<uint8_t*>(k.key.data()), length, kKeyOffset + 4))
          k.key = name;
      }
      ::close(vf);
    } else {
      k.key = name;
    }
    out.push_back(std::move(k));
  }
  return out;
}

uint64_t LocalStateStore::usage(std::string_view user) {
  UserDir* dir;
  {
    std::lock_guard lock(mutex_);
    dir = userDir(user, false);
  }
  if (!dir) return 0;
  Ledger ledger(dir->fd, dir->user, quota());
  return ledger.ok() ? ledger.recount() : 0;
}

bool LocalStateStore::clearUser(std::string_view user) {
  std::lock_guard lock(mutex_);
  UserDir* dir = userDir(user, false);
  if (!dir) return errno == ENOENT;
  std::string prefix = nameOf(user) + "/";
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (it->first.compare(0, prefix.size(), prefix) == 0) {
      retired_.push_back(std::move(it->second));
      it = objects_.erase(it);
    } else {
      ++it;
    }
  }
  Ledger ledger(dir->fd, dir->user, quota());
  if (!ledger.ok()) return false;
  int fd = openIn(dir->fd, ".", O_RDONLY | O_DIRECTORY);
  if (fd < 0) return false;
  DIR* d = fdopendir(fd);
  if (!d) {
    ::close(fd);
    return false;
  }
  std::vector<std::string> names;
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') names.push_back(e->d_name);
  closedir(d);
  dir->bumpGeneration();
  bool ok = true;
  for (const std::string& name : names)
    ok &= unlinkat(dir->fd, name.c_str(), 0) == 0 || errno == ENOENT;
  ledger.recount();
  return ok;
}

// ----- StateObject ---------------------------------------------------------------

StateObject::~StateObject() {
  if (header_) munmap(header_, kHeaderBytes);
  if (fd_ >= 0) ::close(fd_);
}

uint64_t StateObject::size() const {
  static_assert(sizeof(Header) == kHeaderBytes);
  return header_->size.load(std::memory_order_acquire);
}

bool StateObject::ensureCapacity(uint64_t length) {
  uint64_t want = kHeaderBytes + abi::roundUpToWasmPages(length);
  struct stat st{};
  if (fstat(fd_, &st) != 0) return false;
  if (uint64_t(st.st_size) >= want) return true;
  Ledger ledger(user_->fd, user_->user, user_->store->quota());
  if (!ledger.ok() || fstat(fd_, &st) != 0) return false;
  uint64_t size = uint64_t(st.st_size);
  if (size >= want) return true; // grown by someone else meanwhile: never shrink it
  if (!ledger.charge(want - size)) return false;
  if (ftruncate(fd_, off_t(want)) != 0) {
    int e = errno;
    ledger.refund(want - size);
    errno = e;
    return false;
  }
  return true;
}

bool StateObject::ensureSize(uint64_t length) {
  if (!ensureCapacity(length)) return false;
  uint64_t old = header_->size.load(std::memory_order_acquire);
  while (old < length &&
         !header_->size.compare_exchange_weak(old, length, std::memory_order_acq_rel)) {
  }
  return true;
}

bool StateObject::setSize(uint64_t length) {
  if (!ensureCapacity(length)) return false;
  header_->size.store(length, std::memory_order_release);
  return true;
}

bool StateObject::read(uint64_t offset, uint8_t* out, uint64_t length) const {
  return preadAll(fd_, out, length, kHeaderBytes + offset);
}

bool StateObject::write(uint64_t offset, const uint8_t* data, uint64_t length) {
  return pwriteAll(fd_, data, length, kHeaderBytes + offset);
}

int StateObject::lock(bool exclusive, uint64_t byte) const {
  int fd = openIn(user_->fd, name_, O_RDWR);
  if (fd < 0) return -1;
  struct flock fl{};
  fl.l_type = short(exclusive ? F_WRLCK : F_RDLCK);
  fl.l_whence = SEEK_SET;
  fl.l_start = off_t(byte);
  fl.l_len = 1;
  while (fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    closeKeepingErrno(fd);
    return -1;
  }
  return fd;
}

void StateObject::unlock(int lockFd) {
  if (lockFd >= 0) ::close(lockFd); // closing the last descriptor drops the OFD lock
}

namespace {
uint64_t granuleOf(uint64_t offset) {
  return std::min(offset / StateObject::kDirtyGranule, StateObject::kDirtyBits - 1);
}
} // namespace

void StateObject::markDirty(uint64_t offset, uint64_t length) {
  if (!length) return;
  uint64_t first = granuleOf(offset);
  uint64_t last = granuleOf(length - 1 > UINT64_MAX - offset ? UINT64_MAX : offset + length - 1);
  for (uint64_t word = first / 64; word <= last / 64; ++word) {
    uint64_t lo = word == first / 64 ? first % 64 : 0;
    uint64_t hi = word == last / 64 ? last % 64 : 63;
    uint64_t upTo = hi == 63 ? ~uint64_t(0) : (uint64_t(1) << (hi + 1)) - 1;
    uint64_t bits = upTo & ~((uint64_t(1) << lo) - 1);
    header_->dirty[word].fetch_or(bits, std::memory_order_release);
  }
}

void StateObject::markAllDirty() {
  for (auto& word : header_->dirty)
    word.store(~uint64_t(0), std::memory_order_release);
}

void StateObject::clearDirty() {
  for (auto& word : header_->dirty)
    word.store(0, std::memory_order_release);
}

void StateObject::clearDirty(uint64_t offset, uint64_t length, uint64_t size) {
  uint64_t end = length > size - std::min(offset, size) ? size : offset + length;
  uint64_t first = (offset + kDirtyGranule - 1) / kDirtyGranule;
  for (uint64_t g = first; g < kDirtyBits; ++g) {
    uint64_t from = g * kDirtyGranule;
    uint64_t to = g == kDirtyBits - 1 ? size : from + kDirtyGranule;
    if (from >= end || (to > end && end != size)) break;
    header_->dirty[g / 64].fetch_and(~(uint64_t(1) << (g % 64)), std::memory_order_acq_rel);
  }
}

bool StateObject::anyDirty() const {
  for (const auto& word : header_->dirty)
    if (word.load(std::memory_order_acquire)) return true;
  return false;
}

namespace {
// Appends the granules set in `bits` (word `w`) to `runs`, merged, clipped to size.
void addGranules(std::vector<ByteRun>& runs, uint64_t w, uint64_t bits, uint64_t size) {
  while (bits) {
    uint64_t bit = uint64_t(__builtin_ctzll(bits));
    bits &= bits - 1;
    uint64_t granule = w * 64 + bit;
    uint64_t from = granule * StateObject::kDirtyGranule;
    if (from >= size) return;
    uint64_t to = granule == StateObject::kDirtyBits - 1
                      ? size
                      : std::min(size, from + StateObject::kDirtyGranule);
    if (!runs.empty() && runs.back().offset + runs.back().length == from)
      runs.back().length += to - from;
    else
      runs.push_back({from, to - from});
  }
}
} // namespace

std::vector<ByteRun> StateObject::takeDirty(uint64_t size) {
  std::vector<ByteRun> runs;
  for (uint64_t w = 0; w < kDirtyBits / 64; ++w)
    if (uint64_t bits = header_->dirty[w].exchange(0, std::memory_order_acq_rel))
      addGranules(runs, w, bits, size);
  return runs;
}

std::vector<ByteRun> StateObject::dirtyRuns(uint64_t size) const {
  std::vector<ByteRun> runs;
  for (uint64_t w = 0; w < kDirtyBits / 64; ++w)
    if (uint64_t bits = header_->dirty[w].load(std::memory_order_acquire))
      addGranules(runs, w, bits, size);
  return runs;
}

uint64_t StateObject::syncedVersion() const {
  return header_->syncedVersion.load(std::memory_order_acquire);
}

void StateObject::setSyncedVersion(uint64_t version) {
  header_->syncedVersion.store(version, std::memory_order_release);
}

} // namespace faasm::state
