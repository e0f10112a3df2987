// The local tier of Faasm state: one shared-memory object per key on a host,
// found by every Faaslet process of the host through its name in a state
// directory (default /dev/shm, so the objects are POSIX shared memory; the
// embedder may choose another directory, e.g. one per test).
//
// Object file "faasm-<key>" (key bytes other than [A-Za-z0-9_-] escaped as
// %XX; long keys shortened with a hash), laid out as
//   [0, 4096)          header: magic, value size, zero padding
//   [4096, 4096 + cap) the value, cap a multiple of 64 KiB (a wasm page), so
//                      that any prefix of the value can be mapped into linear
//                      memory (host::GuestInstance::mapSharedIntoMemory) without SIGBUS.
// The capacity only grows: a Faaslet that mapped the value keeps valid pages.
//
// Locks are open-file-description locks (fcntl F_OFD_SETLKW) on byte 0 of the
// object, each taken through a descriptor of its own: they exclude other
// processes and other threads alike, and the kernel drops them when the
// holder dies (a trapped or killed Faaslet cannot leave a key locked).
//
// Append lists live in "faasm-<key>.append": [u64 count][u64 bytes] then
// count elements of [u32 length][bytes], under flock.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace faasm::state {

inline constexpr uint64_t kHeaderBytes = 4096;

class StateObject;

class LocalStateStore {
public:
  // The process-wide store. Its directory is $FAASM_STATE_DIR if set, else
  // /dev/shm, unless setDirectory() is called before the first use.
  static LocalStateStore& instance();

  explicit LocalStateStore(std::string directory);
  ~LocalStateStore();
  LocalStateStore(const LocalStateStore&) = delete;
  LocalStateStore& operator=(const LocalStateStore&) = delete;

  // Forgets every open object (their mappings stay valid) and uses `dir`.
  void setDirectory(std::string directory);
  const std::string& directory() const { return directory_; }

  // The object of `key`, creating it (empty) if `create`; null if it does not
  // exist and !create, or on a host error (errno set). Objects stay open for
  // the life of the store.
  StateObject* open(std::string_view key, bool create);

  // File name (no directory) of `key`'s object.
  static std::string fileNameOf(std::string_view key);

  // Deletes the objects of `key` (value and append list). Mappings stay valid.
  bool remove(std::string_view key);

  // Append lists. appendElement returns false on a host error.
  bool appendElement(std::string_view key, const uint8_t* data, uint32_t length);
  // Copies the first nElems elements (or fewer if there are fewer), back to
  // back, into out (at most outLength bytes). Returns the bytes copied.
  uint64_t readAppended(std::string_view key, uint8_t* out, uint64_t outLength, uint32_t nElems);
  bool clearAppended(std::string_view key);

private:
  std::string pathOf(std::string_view fileName) const;
  std::string directory_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<StateObject>> objects_;
};

class StateObject {
public:
  ~StateObject();
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // The value's size in bytes.
  uint64_t size() const;
  // Makes the value at least `length` bytes (new bytes zero) and the
  // capacity at least abi::roundUpToWasmPages(length). False on a host error.
  bool ensureSize(uint64_t length);
  // Sets the value's size (growing the capacity if needed).
  bool setSize(uint64_t length);
  // Copy bytes of the value; the range must lie inside the capacity.
  bool read(uint64_t offset, uint8_t* out, uint64_t length) const;
  bool write(uint64_t offset, const uint8_t* data, uint64_t length);

  // Takes the reader or writer lock (blocking) through a new descriptor and
  // returns it; releasing is closing it. -1 on a host error.
  int lock(bool exclusive) const;
  static void unlock(int lockFd);

private:
  friend class LocalStateStore;
  StateObject() = default;
  bool ensureCapacity(uint64_t length);
  struct Header;
  int fd_ = -1;
  std::string path_;
  Header* header_ = nullptr;
  std::mutex growMutex_; // with flock on fd_, which does not exclude threads
};

} // namespace faasm::state
