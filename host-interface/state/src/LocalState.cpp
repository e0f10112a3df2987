#include "faasm/state/LocalState.h"

#include "faasm/abi/Abi.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace faasm::state {
namespace {

constexpr uint64_t kMagic = 0x31657461'74536d46ull; // "FmState1"
constexpr size_t kMaxFileName = 200;

// Holds an flock for the life of the guard; flock excludes other open file
// descriptions only, so in-process callers also hold a mutex.
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

std::string defaultDirectory() {
  const char* env = std::getenv("FAASM_STATE_DIR");
  return env && *env ? env : "/dev/shm";
}

} // namespace

struct StateObject::Header {
  std::atomic<uint64_t> magic;
  std::atomic<uint64_t> size;
};
static_assert(sizeof(std::atomic<uint64_t>) == 8 && std::atomic<uint64_t>::is_always_lock_free,
              "the header is shared between processes: its atomics must be lock free");

// ----- LocalStateStore ---------------------------------------------------------

LocalStateStore& LocalStateStore::instance() {
  static LocalStateStore* store = new LocalStateStore(defaultDirectory()); // never destroyed
  return *store;
}

LocalStateStore::LocalStateStore(std::string directory) : directory_(std::move(directory)) {}
LocalStateStore::~LocalStateStore() = default;

void LocalStateStore::setDirectory(std::string directory) {
  std::lock_guard lock(mutex_);
  objects_.clear();
  directory_ = std::move(directory);
}

std::string LocalStateStore::fileNameOf(std::string_view key) {
  static const char* hex = "0123456789ABCDEF";
  std::string name = "faasm-";
  for (unsigned char c : key) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-';
    if (plain) {
      name += char(c);
    } else {
      name += '%';
      name += hex[c >> 4];
      name += hex[c & 15];
    }
  }
  if (name.size() > kMaxFileName) {
    uint64_t h = 0xcbf29ce484222325ull; // FNV-1a of the whole key
    for (unsigned char c : key)
      h = (h ^ c) * 0x100000001b3ull;
    char tail[20];
    std::snprintf(tail, sizeof tail, "#%016llx", static_cast<unsigned long long>(h));
    name.resize(kMaxFileName - 17);
    name += tail;
  }
  return name;
}

std::string LocalStateStore::pathOf(std::string_view fileName) const {
  return directory_ + "/" + std::string(fileName);
}

StateObject* LocalStateStore::open(std::string_view key, bool create) {
  std::string name = fileNameOf(key);
  std::lock_guard lock(mutex_);
  if (auto it = objects_.find(name); it != objects_.end()) return it->second.get();

  std::string path = pathOf(name);
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (fd < 0) return nullptr;
  // The first opener initialises the header; the flock orders it before any
  // other process's use.
  {
    FlockGuard guard(fd, LOCK_EX);
    struct stat st{};
    if (fstat(fd, &st) != 0 ||
        (uint64_t(st.st_size) < kHeaderBytes && ftruncate(fd, off_t(kHeaderBytes)) != 0)) {
      int e = errno;
      ::close(fd);
      errno = e;
      return nullptr;
    }
  }
  void* h = mmap(nullptr, kHeaderBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED) {
    int e = errno;
    ::close(fd);
    errno = e;
    return nullptr;
  }
  std::unique_ptr<StateObject> object(new StateObject);
  object->fd_ = fd;
  object->path_ = std::move(path);
  object->header_ = static_cast<StateObject::Header*>(h);
  // A fresh file reads as zeros: size 0. The magic only marks the layout.
  uint64_t expected = 0;
  object->header_->magic.compare_exchange_strong(expected, kMagic);
  StateObject* raw = object.get();
  objects_.emplace(std::move(name), std::move(object));
  return raw;
}

bool LocalStateStore::remove(std::string_view key) {
  std::string name = fileNameOf(key);
  std::lock_guard lock(mutex_);
  objects_.erase(name);
  bool ok = unlink(pathOf(name).c_str()) == 0 || errno == ENOENT;
  ok &= unlink(pathOf(name + ".append").c_str()) == 0 || errno == ENOENT;
  return ok;
}

// Append lists are opened per operation: each operation then has an open file
// description of its own, so its flock excludes other threads as well.
bool LocalStateStore::appendElement(std::string_view key, const uint8_t* data, uint32_t length) {
  std::string path = pathOf(fileNameOf(key) + ".append");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return false;
  bool ok;
  {
    FlockGuard guard(fd, LOCK_EX);
    uint64_t head[2] = {0, 0}; // count, bytes
    struct stat st{};
    ok = fstat(fd, &st) == 0;
    if (ok && st.st_size >= 16) ok = preadAll(fd, reinterpret_cast<uint8_t*>(head), 16, 0);
    ok = ok && pwriteAll(fd, reinterpret_cast<const uint8_t*>(&length), 4, 16 + head[1]) &&
         pwriteAll(fd, data, length, 16 + head[1] + 4);
    head[0] += 1;
    head[1] += 4 + uint64_t(length);
    ok = ok && pwriteAll(fd, reinterpret_cast<const uint8_t*>(head), 16, 0);
  }
  ::close(fd);
  return ok;
}

uint64_t LocalStateStore::readAppended(std::string_view key, uint8_t* out, uint64_t outLength,
                                       uint32_t nElems) {
  std::string path = pathOf(fileNameOf(key) + ".append");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return 0;
  uint64_t copied = 0;
  {
    FlockGuard guard(fd, LOCK_SH);
    uint64_t head[2] = {0, 0};
    if (preadAll(fd, reinterpret_cast<uint8_t*>(head), 16, 0)) {
      uint64_t at = 16;
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

bool LocalStateStore::clearAppended(std::string_view key) {
  std::string path = pathOf(fileNameOf(key) + ".append");
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return errno == ENOENT;
  bool ok;
  {
    FlockGuard guard(fd, LOCK_EX);
    ok = ftruncate(fd, 0) == 0;
  }
  ::close(fd);
  return ok;
}

// ----- StateObject ---------------------------------------------------------------

StateObject::~StateObject() {
  if (header_) munmap(header_, kHeaderBytes);
  if (fd_ >= 0) ::close(fd_);
}

uint64_t StateObject::size() const {
  return header_->size.load(std::memory_order_acquire);
}

bool StateObject::ensureCapacity(uint64_t length) {
  uint64_t want = kHeaderBytes + abi::roundUpToWasmPages(length);
  std::lock_guard lock(growMutex_);
  FlockGuard guard(fd_, LOCK_EX);
  struct stat st{};
  if (fstat(fd_, &st) != 0) return false;
  if (uint64_t(st.st_size) >= want) return true;
  return ftruncate(fd_, off_t(want)) == 0;
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

int StateObject::lock(bool exclusive) const {
  int fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return -1;
  struct flock fl{};
  fl.l_type = short(exclusive ? F_WRLCK : F_RDLCK);
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  while (fcntl(fd, F_OFD_SETLKW, &fl) != 0) {
    if (errno == EINTR) continue;
    int e = errno;
    ::close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

void StateObject::unlock(int lockFd) {
  if (lockFd >= 0) ::close(lockFd); // closing the last descriptor drops the OFD lock
}

} // namespace faasm::state
