// The local tier of Faasm state: one shared-memory object per (user, key)
// on a host, found by every Faaslet process of the host through its name in
// a state directory (default /dev/shm, so the objects are POSIX shared
// memory; the embedder may choose another directory, e.g. one per test).
//
// ---------------------------------------------------------------------------
// TENANCY-CRITICAL: the names and the ledger below are all that keeps one
// user's state from another's and the host's memory from filling up.
//
// Layout of the state directory:
//   faasm-<user>/      one directory per user, mode 0700, ours (else refused)
//     .usage           the user's ledger: magic, bytes charged, user name
//     <key>            the value of key
//     <key>.append     its append list
// <user> and <key> are nameOf(): bytes other than [A-Za-z0-9_-] written as
// %XX, or, when that would pass 200 bytes, '#' and the SHA-256 hex of the
// raw bytes; the empty string is "%". A name never holds '.' or '/', a '%'
// in it is an escape (or the whole empty name) and a '#' starts a hash, so
// (user, key) -> path is one to one (key "a/x" of user "b" is
// faasm-b/a%2Fx, never another user's object), and .usage and .append
// never collide with a key.
//
// Quota: every byte of a user's files (st_size: the 4 KiB header plus the
// capacity of each value, and each append list) is charged to the user's
// ledger before a file grows, under an exclusive flock of the ledger taken
// through a descriptor of its own (so it excludes threads and forked
// processes alike); a growth past the quota fails with EDQUOT. Every change
// of a file's size happens under that lock, so the ledger can only overstate
// the truth (a process killed between charge and growth, files removed by
// hand), never understate it; before refusing, the store counts the
// directory again, so an overstated ledger never refuses a growth. State
// outlives the Faaslets that made it: what a killed Faaslet left counts
// against its user until removed (users(), keys(), clearUser()).
// ---------------------------------------------------------------------------
//
// Value file: [0, 4096) header: magic, value size (an atomic u64 read and
// written in place through a shared mapping), the global tier's bookkeeping
// (the version the replica was last synced with, the dirty bitmap: see
// StateObject), the key; [4096, 4096 + cap)
// the value, cap a multiple of 64 KiB (a wasm page), so that any prefix of
// the value can be mapped into linear memory
// (host::GuestInstance::mapSharedIntoMemory) without SIGBUS. The capacity
// only grows: a Faaslet that mapped the value keeps valid pages.
//
// Locks are open-file-description locks (fcntl F_OFD_SETLKW) on byte 0 of
// the object, each taken through a descriptor of its own: they exclude other
// processes and other threads alike, and the kernel drops them when the
// holder dies (a trapped or killed Faaslet cannot leave a key locked).
//
// Append lists: [u64 count][u64 bytes] then count elements of
// [u32 length][bytes], under flock; the file grows a wasm page at a time.
//
// A store caches the objects it opened. Removing objects (remove,
// clearUser) bumps a generation in the user's ledger, which every store
// maps, so stores open such keys afresh; a linear-memory mapping of a
// removed value stays what it was until its Faaslet unmaps it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace faasm::state {

inline constexpr uint64_t kHeaderBytes = 4096;
// The quota of each user when neither $FAASM_STATE_QUOTA nor setQuota()
// says otherwise.
inline constexpr uint64_t kDefaultQuotaBytes = uint64_t(1) << 30;

class StateObject;

// A byte range of a value.
struct ByteRun {
  uint64_t offset = 0;
  uint64_t length = 0;
  bool operator==(const ByteRun&) const = default;
};

class LocalStateStore {
public:
  // The process-wide store. Its directory is $FAASM_STATE_DIR if set, else
  // /dev/shm, unless setDirectory() is called before the first use; its
  // quota is defaultQuota() unless setQuota() is called.
  static LocalStateStore& instance();

  explicit LocalStateStore(std::string directory, uint64_t quotaBytes = defaultQuota());
  ~LocalStateStore();
  LocalStateStore(const LocalStateStore&) = delete;
  LocalStateStore& operator=(const LocalStateStore&) = delete;

  // Forgets every open object (their mappings stay valid) and uses `dir`.
  void setDirectory(std::string directory);
  const std::string& directory() const { return directory_; }

  // Bytes each user may hold in this directory (all processes using it
  // should agree; it is read at each growth, not stored).
  void setQuota(uint64_t bytes);
  uint64_t quota() const;
  // $FAASM_STATE_QUOTA (bytes, or with a K, M or G suffix) if set and valid,
  // else kDefaultQuotaBytes.
  static uint64_t defaultQuota();
  // A size as $FAASM_STATE_QUOTA spells it, or nullopt.
  static std::optional<uint64_t> parseSize(std::string_view text);

  // The object of `user`'s `key`, creating it (empty) if `create`; null if
  // it does not exist and !create, or on a host error (errno set: EDQUOT when
  // creating it would pass the user's quota).
  StateObject* open(std::string_view user, std::string_view key, bool create);

  // The file-name form of a user or key (see above).
  static std::string nameOf(std::string_view bytes);
  // The directory of `user`'s state, relative to directory().
  static std::string userDirectoryName(std::string_view user);

  // Deletes `user`'s `key` (value and append list) and refunds its bytes.
  // Mappings stay valid.
  bool remove(std::string_view user, std::string_view key);

  // Append lists. appendElement returns false on a host error (errno set,
  // EDQUOT past the quota).
  bool appendElement(std::string_view user, std::string_view key, const uint8_t* data,
                     uint32_t length);
  // Copies the first nElems elements (or fewer if there are fewer), back to
  // back, into out (at most outLength bytes). Returns the bytes copied.
  uint64_t readAppended(std::string_view user, std::string_view key, uint8_t* out,
                        uint64_t outLength, uint32_t nElems);
  bool clearAppended(std::string_view user, std::string_view key);

  // Administration (what a CLI builds on). Each counts the files afresh and
  // corrects the user's ledger.
  struct UserUsage {
    std::string user;
    uint64_t bytes = 0; // what the quota charges
    uint64_t files = 0; // values and append lists
  };
  std::vector<UserUsage> users();
  struct KeyUsage {
    std::string key; // as the guest named it ("#<sha256>" if long and only a list)
    uint64_t valueBytes = 0;
    uint64_t appendBytes = 0;
  };
  std::vector<KeyUsage> keys(std::string_view user);
  // Bytes charged to `user` (0 for a user with no state).
  uint64_t usage(std::string_view user);
  // Deletes every value and append list of `user`. Processes that mapped a
  // value keep their pages until they unmap them.
  bool clearUser(std::string_view user);

  // For a process about to give up its privileges (a zygote): makes
  // `user`'s directory (and ledger) if need be, owned by `owner`:`group`
  // (chown only when this process may), opens it, and from then on expects
  // the directories it opens to belong to `owner`. Processes forked from
  // this one reach the user's state through the descriptor opened here, so
  // they need neither the path nor their own uid. False on a host error
  // (errno set; EACCES if the directory belongs to someone else).
  bool prepareUser(std::string_view user, uid_t owner, gid_t group);
  // The absolute path of `user`'s directory (a confinement grants it).
  std::string userDirectoryPath(std::string_view user) const;

  struct UserDir; // a user's directory, opened once per store

private:
  UserDir* userDir(std::string_view user, bool create);
  std::string pathOf(std::string_view fileName) const;
  std::string directory_;
  uid_t owner_; // whose the directories must be (this process's, unless prepareUser said)
  std::atomic<uint64_t> quota_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<UserDir>> users_;
  std::unordered_map<std::string, std::unique_ptr<StateObject>> objects_; // "<user>/<key>"
  // Removed under us: callers may still hold them, so they live on.
  std::vector<std::unique_ptr<StateObject>> retired_;
  std::vector<std::unique_ptr<UserDir>> retiredUsers_;
};

class StateObject {
public:
  ~StateObject();
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // The value's size in bytes.
  uint64_t size() const;
  // Makes the value at least `length` bytes (new bytes zero) and the
  // capacity at least abi::roundUpToWasmPages(length). False on a host error
  // (errno set, EDQUOT past the user's quota).
  bool ensureSize(uint64_t length);
  // Sets the value's size (growing the capacity if needed).
  bool setSize(uint64_t length);
  // Copy bytes of the value; the range must lie inside the capacity.
  bool read(uint64_t offset, uint8_t* out, uint64_t length) const;
  bool write(uint64_t offset, const uint8_t* data, uint64_t length);

  // Takes the reader or writer lock (blocking) through a new descriptor and
  // returns it; releasing is closing it. -1 on a host error. Byte 0 is the
  // guest's local lock, byte 1 syncLock()'s, byte 2 the host-wide stand-in
  // for the global lock when there is no global tier.
  int lock(bool exclusive, uint64_t byte = 0) const;
  static void unlock(int lockFd);

  // ----- Global-tier bookkeeping, shared by every process of the host -----
  // The replica is one per host, so what it last synced with and what
  // changed since live in its header, not in a process.

  // Dirty bits: one per kDirtyGranule bytes of the value; the last bit
  // (kDirtyBits - 1) stands for every byte from its granule to the end, so
  // a value of any size is tracked, the part past kDirtyTracked coarsely.
  // Contract for writers: write the bytes, then mark them; for a pusher:
  // take the bits, then read the bytes. A write racing a push is then
  // either in the bytes sent or still marked for the next push.
  static constexpr uint64_t kDirtyGranule = 4096;
  static constexpr uint64_t kDirtyBits = 16384;
  static constexpr uint64_t kDirtyTracked = kDirtyGranule * kDirtyBits;
  void markDirty(uint64_t offset, uint64_t length);
  void markAllDirty();
  void clearDirty();
  // Clears the granules lying wholly inside [offset, offset + length), or
  // reaching from offset to the value's end (size).
  void clearDirty(uint64_t offset, uint64_t length, uint64_t size);
  bool anyDirty() const;
  // Clears the dirty bits and returns what they covered as runs clipped to
  // [0, size), adjacent granules merged.
  std::vector<ByteRun> takeDirty(uint64_t size);
  // The runs of [0, size) whose granules are dirty, without clearing them.
  std::vector<ByteRun> dirtyRuns(uint64_t size) const;

  // The global version the replica's clean bytes equal (a tag the global
  // tier defines; 0: unknown, the replica must be pulled to be trusted).
  uint64_t syncedVersion() const;
  void setSyncedVersion(uint64_t version);

  // Serialises pulls and pushes of this object among the host's processes
  // (an OFD lock on byte 1 of the file; the guest's lock is byte 0).
  // Returns the descriptor to close (unlock()), or -1 on a host error.
  int syncLock() const { return lock(true, 1); }

private:
  friend class LocalStateStore;
  StateObject() = default;
  bool ensureCapacity(uint64_t length);
  struct Header;
  int fd_ = -1;
  std::string name_; // in the user's directory
  std::string path_;
  LocalStateStore::UserDir* user_ = nullptr;
  uint64_t generation_ = 0; // the user's generation when opened
  Header* header_ = nullptr;
};

} // namespace faasm::state
