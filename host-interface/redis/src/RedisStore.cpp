// The Redis global tier. The key layout and why pushes and pulls cannot be
// torn are in the banner of faasm/redis/RedisStore.h; the scripts below are
// where it is enforced.
#include "faasm/redis/RedisStore.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace faasm::redis {
namespace {

using state::ByteRun;
using state::GlobalLease;
using state::Outcome;
using state::StateObject;

// ----- scripts ----------------------------------------------------------------------
// KEYS and ARGV are documented at each. Error replies starting FAASM are
// the scripts' refusals; anything else is Redis's.

// The tail every value write shares: set the epoch if the key has none,
// bump the counter, renew the caller's lease; returns the version before
// and after ({e, n, e', n'}). KEYS[2] is the meta hash, KEYS[3] the write
// lease; ARGV[1] the fence (or ''), ARGV[2] a fresh epoch, `lease` the ARGV
// index of the lease in ms.
#define FAASM_BUMP(lease)                                                                          \
  "if ARGV[1] ~= '' then redis.call('PEXPIRE', KEYS[3], ARGV[" lease "]) end\n"                    \
  "if not prev[1] then redis.call('HSET', KEYS[2], 'e', ARGV[2]) end\n"                            \
  "local n = redis.call('HINCRBY', KEYS[2], 'n', 1)\n"                                             \
  "return {prev[1] or '', prev[2] or '0', redis.call('HGET', KEYS[2], 'e'), tostring(n)}\n"

#define FAASM_FENCE(cleanup)                                                                       \
  "if ARGV[1] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[1] then " cleanup                       \
  " return redis.error_reply('FAASMLOCKLOST') end\n"

// KEYS: v m w. ARGV: fence, epoch, lease, bytes.
const char* const kPushDirect =
    FAASM_FENCE("") "local prev = redis.call('HMGET', KEYS[2], 'e', 'n')\n"
                    "redis.call('SET', KEYS[1], ARGV[4])\n" FAASM_BUMP("3");

// KEYS: v m w stage spare. ARGV: fence, epoch, lease, size. The value
// replaced becomes the spare (for a while), the next push's stage.
const char* const kCommit = FAASM_FENCE(
    "redis.call('DEL', KEYS[4])") "if redis.call('STRLEN', KEYS[4]) ~= tonumber(ARGV[4]) then "
                                  "redis.call('DEL', KEYS[4]) "
                                  "return redis.error_reply('FAASMSTAGE') end\n"
                                  "local prev = redis.call('HMGET', KEYS[2], 'e', 'n')\n"
                                  "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', "
                                  "KEYS[1], KEYS[5])\n"
                                  "  redis.call('PEXPIRE', KEYS[5], 60000) end\n"
                                  "redis.call('RENAME', KEYS[4], KEYS[1])\n"
                                  "redis.call('PERSIST', KEYS[1])\n" FAASM_BUMP("3");

// KEYS: spare stage. ARGV: size. The stage, as long as the value, made of
// the spare (the value before the last staged push: its memory already
// allocated and touched) if that has the size, else allocated at once, so
// that the chunks land in place rather than growing a string step by step.
const char* const kClaim = "if redis.call('STRLEN', KEYS[1]) == tonumber(ARGV[1]) then\n"
                           "  redis.call('RENAME', KEYS[1], KEYS[2])\n"
                           "else redis.call('DEL', KEYS[1])\n"
                           "  redis.call('SETRANGE', KEYS[2], tonumber(ARGV[1]) - 1, '\\0') end\n"
                           "return redis.call('PEXPIRE', KEYS[2], 600000)\n";

// KEYS: v m w. ARGV: fence, epoch, lease, size, then offset, bytes pairs.
const char* const kPartial = FAASM_FENCE("") "if redis.call('EXISTS', KEYS[1]) == 0 or "
                                             "redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[4]) "
                                             "then return redis.error_reply('FAASMSIZE') end\n"
                                             "local prev = redis.call('HMGET', KEYS[2], 'e', 'n')\n"
                                             "for i = 5, #ARGV, 2 do redis.call('SETRANGE', "
                                             "KEYS[1], ARGV[i], ARGV[i + 1]) end\n" FAASM_BUMP("3");

// KEYS: v m. ARGV: from, to (inclusive; -1 for the whole value).
const char* const kAtomicGet = "local m = redis.call('HMGET', KEYS[2], 'e', 'n')\n"
                               "return {m[1] or '', m[2] or '0', redis.call('EXISTS', KEYS[1]),\n"
                               "  redis.call('GETRANGE', KEYS[1], ARGV[1], ARGV[2])}\n";

#define FAASM_NOW                                                                                  \
  "local t = redis.call('TIME')\n"                                                                 \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

// KEYS: w r m. ARGV: owner, lease. The token (fence counter and owner), or nil.
const char* const kLockWrite =
    FAASM_NOW "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
              "if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('ZCARD', KEYS[2]) > 0 then "
              "return false end\n"
              "local token = redis.call('HINCRBY', KEYS[3], 'f', 1) .. ':' .. ARGV[1]\n"
              "redis.call('SET', KEYS[1], token, 'PX', ARGV[2])\n"
              "return token\n";

// KEYS: w r. ARGV: owner, lease. The owner, or nil.
const char* const kLockRead =
    FAASM_NOW "if redis.call('EXISTS', KEYS[1]) == 1 then return false end\n"
              "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"
              "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])\n"
              "redis.call('PEXPIRE', KEYS[2], ARGV[2])\n"
              "return ARGV[1]\n";

// KEYS: w. ARGV: token.
const char* const kUnlockWrite =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

// KEYS: a m. ARGV: element, limit (bytes of the list, 4 per element counted).
const char* const kAppend =
    "local add = string.len(ARGV[1]) + 4\n"
    "if redis.call('HINCRBY', KEYS[2], 'ab', add) > tonumber(ARGV[2]) then\n"
    "  redis.call('HINCRBY', KEYS[2], 'ab', -add) return redis.error_reply('FAASMQUOTA') end\n"
    "return redis.call('RPUSH', KEYS[1], ARGV[1])\n";

// KEYS: a m.
const char* const kClearAppended = "redis.call('DEL', KEYS[1])\n"
                                   "return redis.call('HDEL', KEYS[2], 'ab')\n";

enum Script {
  PushDirect,
  Commit,
  Claim,
  Partial,
  AtomicGet,
  LockWrite,
  LockRead,
  UnlockWrite,
  Append,
  ClearAppended,
  kScripts
};
const char* const kScriptText[kScripts] = {kPushDirect, kCommit,       kClaim,    kPartial,
                                           kAtomicGet,  kLockWrite,    kLockRead, kUnlockWrite,
                                           kAppend,     kClearAppended};

// ----- helpers -------------------------------------------------------------------------

struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

bool isError(const Reply& r) {
  return r && r->type == REDIS_REPLY_ERROR;
}
// A script's refusal (Redis may put "ERR " before the word).
bool refused(const Reply& r, std::string_view word) {
  return isError(r) && std::string_view(r->str, r->len).find(word) != std::string_view::npos;
}
std::string_view text(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
               r->type == REDIS_REPLY_ERROR)
             ? std::string_view(r->str, r->len)
             : std::string_view();
}

uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Unique per call in this process and (with the pid and the clock) across
// processes: epochs, lease owners, staging keys. Not secrets: no guest
// talks to Redis.
std::string uniqueId() {
  static uint64_t counter = 0;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t x = splitmix(uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec)) ^
               splitmix((uint64_t(getpid()) << 32) ^ ++counter);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", (unsigned long long)x);
  return out;
}

// The replica's record of a global version (e, n): never 0.
uint64_t versionTag(std::string_view epoch, std::string_view counter) {
  uint64_t e = std::strtoull(std::string(epoch).c_str(), nullptr, 16);
  uint64_t n = std::strtoull(std::string(counter).c_str(), nullptr, 10);
  uint64_t tag = splitmix(e) + n;
  return tag ? tag : 1;
}

// user/key for a message: control bytes escaped, cut after 80 bytes each.
std::string shown(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < 80; ++i) {
    unsigned char c = uint8_t(bytes[i]);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
    } else {
      out += char(c);
    }
  }
  if (bytes.size() > 80) out += "...";
  return out;
}

std::string nameOf(std::string_view user, std::string_view key) {
  return shown(user) + "/" + shown(key);
}

struct Keys {
  std::string prefix, v, m, w, r, a;
  Keys(std::string_view user, std::string_view key)
      : prefix(keyPrefix(user, key)), v(prefix + ":v"), m(prefix + ":m"), w(prefix + ":w"),
        r(prefix + ":r"), a(prefix + ":a") {}
};

// Read-only view of a replica's first `size` bytes, for a partial push.
class ValueView {
public:
  // populate: every page will be read, so fault them in at once.
  ValueView(const StateObject& object, uint64_t size, bool populate) : size_(size) {
    if (!size) return;
    length_ = (size + 4095) & ~uint64_t(4095);
    void* p = mmap(nullptr, length_, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0),
                   object.fd(), off_t(state::kHeaderBytes));
    if (p != MAP_FAILED) data_ = static_cast<const uint8_t*>(p);
  }
  ~ValueView() {
    if (data_) munmap(const_cast<uint8_t*>(data_), length_);
  }
  ValueView(const ValueView&) = delete;
  ValueView& operator=(const ValueView&) = delete;
  bool ok() const { return data_ || !size_; }
  const uint8_t* data() const { return data_; }

private:
  uint64_t size_ = 0, length_ = 0;
  const uint8_t* data_ = nullptr;
};

// Holds a descriptor-based lock until destroyed.
struct FdLock {
  int fd;
  ~FdLock() { StateObject::unlock(fd); }
};

// ----- the store ---------------------------------------------------------------------------

class RedisStore final : public state::StateStore {
public:
  explicit RedisStore(RedisOptions options) : options_(std::move(options)) {}
  ~RedisStore() override {
    if (ctx_ && ctxPid_ == getpid()) redisFree(ctx_);
    forgetMapping();
  }

  bool hasGlobalTier() const override { return true; }
  std::string describe() const override { return "redis " + options_.endpoint.text(); }

  Outcome pull(std::string_view user, std::string_view key, StateObject& object) override;
  Outcome pullRange(std::string_view user, std::string_view key, StateObject& object,
                    uint64_t offset, uint64_t length) override;
  Outcome globalSize(std::string_view user, std::string_view key,
                     std::optional<uint64_t>& size) override;
  Outcome push(std::string_view user, std::string_view key, StateObject& object,
               std::string_view fence) override;
  Outcome pushPartial(std::string_view user, std::string_view key, StateObject& object,
                      const std::vector<ByteRun>* runs, std::string_view fence) override;
  Outcome lockGlobal(std::string_view user, std::string_view key, bool exclusive,
                     GlobalLease& lease) override;
  void unlockGlobal(std::string_view user, std::string_view key, const GlobalLease& lease) override;
  Outcome append(std::string_view user, std::string_view key, const uint8_t* data,
                 uint32_t length) override;
  Outcome readAppended(std::string_view user, std::string_view key, uint8_t* out,
                       uint64_t outLength, uint32_t nElems) override;
  Outcome clearAppended(std::string_view user, std::string_view key) override;
  int openConnection(std::string& error) override;
  void setConnectionSource(ConnectionSource source) override {
    std::lock_guard lock(mutex_);
    source_ = std::move(source);
    drop();
  }

private:
  // Everything below runs under mutex_ (one connection per process).
  std::string connect();
  void drop() {
    if (ctx_ && ctxPid_ == getpid()) redisFree(ctx_);
    ctx_ = nullptr;
    shas_.fill({});
    inPos_ = inLen_ = 0;
  }
  // Queues one command (arguments by pointer: nothing is copied until
  // hiredis formats it).
  void command(std::initializer_list<std::string_view> args);
  void command(const std::vector<std::string_view>& args);
  // The next reply; null (and the connection dropped, `error` set) on an
  // I/O failure or timeout.
  Reply reply(std::string& error);
  // Runs one script to its reply (loading it first on this connection).
  Reply script(Script s, const std::vector<std::string_view>& keys,
               const std::vector<std::string_view>& args, std::string& error);
  void queueScript(Script s, const std::vector<std::string_view>& keys,
                   const std::vector<std::string_view>& args);
  std::string loadScript(Script s);

  Outcome failure(std::string_view user, std::string_view key, const std::string& what) const {
    return Outcome::global("global state of " + nameOf(user, key) + ": " + describe() + ": " +
                           what);
  }
  Outcome lockLost(std::string_view user, std::string_view key) const {
    return Outcome::global("state lock for " + nameOf(user, key) + " lost: push refused");
  }
  // The value's version and size; exists false if there is none.
  struct Head {
    bool exists = false;
    uint64_t version = 0;
    uint64_t size = 0;
  };
  void queueHead(const Keys& k) {
    command({"HMGET", k.m, "e", "n"});
    command({"STRLEN", k.v});
    command({"EXISTS", k.v});
  }
  bool readHead(Head& head, std::string& error);
  // Writes hiredis's queued commands out; false (connection dropped, `error`
  // set) on failure.
  bool flush(std::string& error);
  // Sends `iov` (consumed) straight on the socket; hiredis's buffer must be
  // empty. False (connection dropped, `error` set) on failure.
  bool sendAll(std::vector<iovec>& iov, std::string& error);
  // Sends SETRANGE commands writing data[0, size) into `stage`, chunk by
  // chunk, from `data` itself: no copy into hiredis's buffer, and no wait for
  // replies (a SETRANGE's reply is a few bytes; Redis keeps reading while
  // they queue). `chunks`: how many replies the caller owes.
  // append: APPENDs instead, in order.
  bool streamChunks(const std::string& stage, const uint8_t* data, uint64_t size, bool append,
                    uint64_t& chunks, std::string& error);
  // Chunks read into place. A pull's GETRANGE replies are read off the
  // socket here rather than by hiredis's reader, which would build a reply
  // object of each (one more copy of every byte): the bulk header is parsed
  // here and the bytes received straight into the caller's buffer.
  // beginChunks flushes the queued commands and takes over whatever hiredis
  // has already read; endChunks hands back whatever was read past the last
  // chunk, so that hiredis reads the replies queued behind the chunks. Every
  // failure drops the connection (the stream can no longer be trusted to be
  // in step), so no later call reads a reply that was not its own.
  bool beginChunks(std::string& error);
  void endChunks();
  enum class Chunk {
    Whole, // exactly `want` bytes, now in dst
    Short, // fewer (the value shrank after its size was read); dst holds them
    Failed // an error reply, anything but a bulk string, more bytes than
           // asked, a connection closed or timed out: `error` set, dropped
  };
  Chunk readChunk(uint8_t* dst, uint64_t want, std::string& error);
  // One reply line (without CRLF) from in_, reading more as needed.
  bool readLine(std::string_view& line, std::string& error);
  // Reads more bytes into in_ (after compacting it); at most `most`.
  bool receive(size_t most, std::string& error);
  // The message for a failed read of n bytes (n <= 0); drops the connection.
  std::string lost(ssize_t n);
  // The chunks of `ranges` (offset, length) into staging_, back to back,
  // in windows of 8 MiB, two in flight; the head queued behind the last
  // window (read by the caller, through hiredis). False on a
  // failure (`error` set); whole false if a chunk came back short.
  bool readRanges(const Keys& k, const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
                  bool& whole, std::string& error);
  Outcome pushFull(std::string_view user, std::string_view key, StateObject& object,
                   std::string_view fence);
  Outcome finishWrite(std::string_view user, std::string_view key, StateObject& object,
                      const Reply& r, bool partial);

  // The replica a full push reads and a full pull writes, mapped (populated)
  // once and kept for the next full push or pull of the same file: mapping
  // and unmapping a 64 MiB value cost a tenth of its push, and a copy into
  // the mapping costs less than a pwrite into the file. Keyed by the file's
  // identity, never by the StateObject's address; dropped when the file is
  // removed, so that it holds no removed value's memory past the next use.
  // Mapped in this process only, never into a guest's memory.
  uint8_t* mapValue(const StateObject& object, uint64_t size);
  void forgetMapping() {
    if (mapped_.data && mapped_.pid == getpid()) munmap(mapped_.data, mapped_.length);
    mapped_ = {};
  }
  struct Mapping {
    dev_t dev = 0;
    ino_t ino = 0;
    pid_t pid = 0; // a mapping inherited across fork is the parent's: never used here
    uint8_t* data = nullptr;
    uint64_t length = 0;
    bool allocated = false; // every page of [0, length) allocated in the file
  } mapped_;

  RedisOptions options_;
  std::mutex mutex_;
  redisContext* ctx_ = nullptr;
  pid_t ctxPid_ = 0;
  ConnectionSource source_;
  std::array<std::string, kScripts> shas_;
  std::vector<uint8_t> staging_; // a pull's chunks until its version is checked
  // Bytes read off the socket ahead of the chunk being read (reply headers,
  // the first bytes of a chunk): [inPos_, inLen_) of in_.
  std::vector<char> in_ = std::vector<char>(kInBytes);
  size_t inPos_ = 0, inLen_ = 0;
  // What hiredis may have buffered (it reads 16 KiB at a time), plus room.
  static constexpr size_t kInBytes = 32 << 10;
  // How much a read of a header or of a chunk's end may take beyond what it
  // needs: those bytes are copied once more, so they are kept few.
  static constexpr size_t kAhead = 512;
};

std::string RedisStore::connect() {
  if (ctx_ && ctxPid_ == getpid() && !ctx_->err) return {};
  // A connection inherited across fork is the parent's: never used here.
  if (ctx_ && ctxPid_ != getpid()) ctx_ = nullptr;
  drop();
  redisContext* c = nullptr;
  if (source_) {
    std::string error;
    int fd = source_(error);
    if (fd < 0) return error.empty() ? "no connection to the global tier" : error;
    c = redisConnectFd(fd);
  } else {
    timeval tv{time_t(options_.timeout.count() / 1000),
               suseconds_t((options_.timeout.count() % 1000) * 1000)};
    c = redisConnectWithTimeout(options_.endpoint.host.c_str(), options_.endpoint.port, tv);
    if (c && !c->err) redisSetTimeout(c, tv);
  }
  if (!c) return "out of memory";
  if (c->err) {
    std::string e = std::string("unreachable: ") + c->errstr;
    redisFree(c);
    return e;
  }
  if (c->reader) c->reader->maxbuf = 0; // large replies: keep the buffer, do not shrink it
  ctx_ = c;
  ctxPid_ = getpid();
  return {};
}

void RedisStore::command(const std::vector<std::string_view>& args) {
  const char* argv[64];
  size_t lens[64];
  std::vector<const char*> bigArgv;
  std::vector<size_t> bigLens;
  const char** av = argv;
  size_t* al = lens;
  if (args.size() > 64) {
    bigArgv.resize(args.size());
    bigLens.resize(args.size());
    av = bigArgv.data();
    al = bigLens.data();
  }
  for (size_t i = 0; i < args.size(); ++i) {
    av[i] = args[i].data();
    al[i] = args[i].size();
  }
  redisAppendCommandArgv(ctx_, int(args.size()), av, al);
}

void RedisStore::command(std::initializer_list<std::string_view> args) {
  command(std::vector<std::string_view>(args));
}

Reply RedisStore::reply(std::string& error) {
  void* r = nullptr;
  if (redisGetReply(ctx_, &r) != REDIS_OK || !r) {
    error = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                ? "timed out after " + std::to_string(options_.timeout.count()) + " ms"
                : std::string("connection lost: ") + ctx_->errstr;
    if (r) freeReplyObject(r);
    drop();
    return Reply();
  }
  return Reply(static_cast<redisReply*>(r));
}

std::string RedisStore::loadScript(Script s) {
  if (!shas_[s].empty()) return {};
  command({"SCRIPT", "LOAD", kScriptText[s]});
  std::string error;
  Reply r = reply(error);
  if (!r) return error;
  if (r->type != REDIS_REPLY_STRING) return "cannot load a script: " + std::string(text(r.get()));
  shas_[s] = std::string(text(r.get()));
  return {};
}

void RedisStore::queueScript(Script s, const std::vector<std::string_view>& keys,
                             const std::vector<std::string_view>& args) {
  std::vector<std::string_view> all;
  all.reserve(3 + keys.size() + args.size());
  std::string nkeys = std::to_string(keys.size());
  all.push_back("EVALSHA");
  all.push_back(shas_[s]);
  all.push_back(nkeys);
  all.insert(all.end(), keys.begin(), keys.end());
  all.insert(all.end(), args.begin(), args.end());
  command(all);
}

Reply RedisStore::script(Script s, const std::vector<std::string_view>& keys,
                         const std::vector<std::string_view>& args, std::string& error) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (std::string e = loadScript(s); !e.empty()) {
      error = e;
      return Reply();
    }
    queueScript(s, keys, args);
    Reply r = reply(error);
    if (isError(r) && text(r.get()).starts_with("NOSCRIPT")) {
      shas_[s].clear(); // the server lost its script cache (SCRIPT FLUSH): load again
      continue;
    }
    return r;
  }
  error = "the server keeps forgetting its scripts";
  return Reply();
}

bool RedisStore::readHead(Head& head, std::string& error) {
  Reply meta = reply(error);
  if (!meta) return false;
  Reply len = reply(error);
  if (!len) return false;
  Reply exists = reply(error);
  if (!exists) return false;
  if (meta->type != REDIS_REPLY_ARRAY || meta->elements != 2 || len->type != REDIS_REPLY_INTEGER ||
      exists->type != REDIS_REPLY_INTEGER) {
    error = "unexpected reply: " + std::string(text(isError(meta)  ? meta.get()
                                                    : isError(len) ? len.get()
                                                                   : exists.get()));
    return false;
  }
  head.exists = exists->integer == 1;
  head.size = uint64_t(len->integer);
  head.version = versionTag(text(meta->element[0]), text(meta->element[1]));
  return true;
}

// ----- chunks read into place --------------------------------------------------------------

std::string RedisStore::lost(ssize_t n) {
  std::string e = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                      ? "timed out after " + std::to_string(options_.timeout.count()) + " ms"
                  : n < 0 ? std::string("connection lost: ") + std::strerror(errno)
                          : std::string("connection lost: the server closed the connection");
  drop();
  return e;
}

bool RedisStore::beginChunks(std::string& error) {
  if (!flush(error)) return false;
  redisReader* r = ctx_->reader;
  // Between replies hiredis holds no reply in progress, only bytes.
  if (!r || r->err || r->ridx != -1 || r->len - r->pos > in_.size()) {
    error = "connection in an unexpected state";
    drop();
    return false;
  }
  inPos_ = 0;
  inLen_ = r->len - r->pos;
  std::memcpy(in_.data(), r->buf + r->pos, inLen_);
  r->pos = r->len; // consumed: hiredis compacts its buffer on its next read
  return true;
}

void RedisStore::endChunks() {
  if (ctx_ && inLen_ > inPos_) redisReaderFeed(ctx_->reader, in_.data() + inPos_, inLen_ - inPos_);
  inPos_ = inLen_ = 0;
}

bool RedisStore::receive(size_t most, std::string& error) {
  if (inPos_) {
    std::memmove(in_.data(), in_.data() + inPos_, inLen_ - inPos_);
    inLen_ -= inPos_;
    inPos_ = 0;
  }
  size_t room = std::min(most, in_.size() - inLen_);
  for (;;) {
    // read and recvmsg, never recv: a Faaslet's seccomp filter has no recvfrom.
    ssize_t n = read(ctx_->fd, in_.data() + inLen_, room);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = lost(n);
      return false;
    }
    inLen_ += size_t(n);
    return true;
  }
}

bool RedisStore::readLine(std::string_view& line, std::string& error) {
  for (size_t scanned = inPos_;;) {
    for (size_t i = std::max(scanned, inPos_ + 1); i < inLen_; ++i)
      if (in_[i] == '\n' && in_[i - 1] == '\r') {
        line = std::string_view(in_.data() + inPos_, i - 1 - inPos_);
        inPos_ = i + 1;
        return true;
      }
    scanned = inLen_;
    if (inLen_ - inPos_ >= 4096) {
      error = "unexpected reply: a line of more than 4096 bytes";
      drop();
      return false;
    }
    size_t had = inPos_;
    if (!receive(kAhead, error)) return false;
    scanned -= had; // receive moved [inPos_, inLen_) to the front
  }
}

RedisStore::Chunk RedisStore::readChunk(uint8_t* dst, uint64_t want, std::string& error) {
  std::string_view line;
  if (!readLine(line, error)) return Chunk::Failed;
  auto unexpected = [&](std::string what) {
    error = "unexpected reply: " + what;
    drop();
    return Chunk::Failed;
  };
  if (line.empty() || line[0] != '$' || line.size() < 2 || line.size() > 20)
    return unexpected(line.starts_with("-") ? shown(line.substr(1)) : shown(line));
  uint64_t n = 0;
  for (char c : line.substr(1)) {
    if (c < '0' || c > '9') return unexpected(shown(line)); // $-1 (nil) too
    n = n * 10 + uint64_t(c - '0');
  }
  // A GETRANGE never answers more than it was asked: a longer bulk is not a
  // reply to this command.
  if (n > want)
    return unexpected("a chunk of " + std::to_string(n) + " bytes where " + std::to_string(want) +
                      " were asked");
  uint64_t got = std::min<uint64_t>(n, inLen_ - inPos_);
  std::memcpy(dst, in_.data() + inPos_, got);
  inPos_ += got;
  while (got < n) {
    // in_ is empty here: the chunk's rest goes straight into dst, and what
    // follows it (its CRLF, the next reply's header) into in_.
    inPos_ = inLen_ = 0;
    iovec iov[2] = {{dst + got, n - got}, {in_.data(), kAhead}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t r = recvmsg(ctx_->fd, &msg, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      error = lost(r);
      return Chunk::Failed;
    }
    uint64_t into = std::min<uint64_t>(uint64_t(r), n - got);
    got += into;
    inLen_ = size_t(uint64_t(r) - into);
  }
  while (inLen_ - inPos_ < 2)
    if (!receive(kAhead, error)) return Chunk::Failed;
  if (in_[inPos_] != '\r' || in_[inPos_ + 1] != '\n')
    return unexpected("a chunk not followed by CRLF");
  inPos_ += 2;
  return n == want ? Chunk::Whole : Chunk::Short;
}

bool RedisStore::readRanges(const Keys& k, const std::vector<std::pair<uint64_t, uint64_t>>& ranges,
                            bool& whole, std::string& error) {
  const size_t window = std::max<size_t>(1, (8u << 20) / options_.chunkBytes);
  uint64_t total = 0;
  for (const auto& range : ranges)
    total += range.second;
  if (staging_.size() < total) staging_.resize(total);
  // Queues the window starting at chunk i (the head behind the last).
  auto queue = [&](size_t i) {
    size_t end = std::min(ranges.size(), i + window);
    for (size_t j = i; j < end; ++j) {
      std::string a = std::to_string(ranges[j].first);
      std::string b = std::to_string(ranges[j].first + ranges[j].second - 1);
      command({"GETRANGE", k.v, a, b});
    }
    if (end == ranges.size()) queueHead(k);
  };
  whole = true;
  queue(0);
  if (!beginChunks(error)) return false;
  uint64_t staged = 0;
  for (size_t i = 0; i < ranges.size(); i += window) {
    // The next window goes out before this one is read, so that Redis
    // never waits for the client between windows; at most two windows
    // (16 MiB) are in flight.
    if (i + window < ranges.size()) {
      queue(i + window);
      if (!flush(error)) return false;
    }
    for (size_t j = i; j < std::min(ranges.size(), i + window); ++j) {
      Chunk c = readChunk(staging_.data() + staged, ranges[j].second, error);
      if (c == Chunk::Failed) return false;
      whole = whole && c == Chunk::Whole;
      staged += ranges[j].second;
    }
  }
  endChunks();
  return true;
}

// ----- pull ------------------------------------------------------------------------------

Outcome RedisStore::pull(std::string_view user, std::string_view key, StateObject& object) {
  std::lock_guard guard(mutex_);
  FdLock sync{object.syncLock()};
  if (sync.fd < 0) return Outcome::local(errno);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  std::string error;
  // Optimistic: (version, size), the chunks, the version again; equal
  // versions mean no write came between. A value rewritten all the time
  // falls back to one script after a few tries.
  for (int attempt = 0; attempt < 4; ++attempt) {
    queueHead(k);
    Head head;
    if (!readHead(head, error)) return failure(user, key, error);
    if (!head.exists) return {}; // nothing global: the replica stays as it is
    std::vector<ByteRun> want;
    if (head.version == object.syncedVersion() && object.size() == head.size) {
      want = object.dirtyRuns(head.size);
      if (want.empty()) return {}; // unchanged: one round trip, no value bytes
    } else if (head.size) {
      want.push_back({0, head.size});
    }
    // In windows, so that a large value is never queued whole; each chunk
    // is received straight into a buffer kept from pull to pull (its pages
    // stay touched), and copied into the replica only once the version says
    // it is whole.
    std::vector<std::pair<uint64_t, uint64_t>> ranges; // chunk offset, length
    for (const ByteRun& run : want)
      for (uint64_t at = run.offset; at < run.offset + run.length; at += options_.chunkBytes)
        ranges.emplace_back(at, std::min(run.offset + run.length, at + options_.chunkBytes) - at);
    bool whole = true; // every chunk as long as asked (else the value changed)
    if (!readRanges(k, ranges, whole, error)) return failure(user, key, error);
    Head after;
    if (!readHead(after, error)) return failure(user, key, error);
    if (!whole || after.version != head.version || after.size != head.size || !after.exists)
      continue;
    if (!object.setSize(head.size)) return Outcome::local(errno);
    const bool full = want.size() == 1 && want[0].offset == 0 && want[0].length == head.size;
    if (full) {
      // The file's capacity covers head.size now (setSize), so the mapping does.
      uint8_t* replica = mapValue(object, head.size);
      if (!replica) return Outcome::local(errno);
      if (mapped_.allocated)
        std::memcpy(replica, staging_.data(), head.size);
      else if (!object.write(0, staging_.data(), head.size))
        return Outcome::local(errno);
    } else {
      uint64_t staged = 0;
      for (const ByteRun& run : want) {
        if (!object.write(run.offset, staging_.data() + staged, run.length))
          return Outcome::local(errno);
        staged += run.length;
      }
    }
    if (full)
      object.clearDirty();
    else
      for (const ByteRun& run : want)
        object.clearDirty(run.offset, run.length, head.size);
    object.setSyncedVersion(head.version);
    return {};
  }
  // The fallback: one script reads version and value together (a command
  // as long as the value, once in a while).
  Reply r = script(AtomicGet, {k.v, k.m}, {"0", "-1"}, error);
  if (!r) return failure(user, key, error);
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
      r->element[2]->type != REDIS_REPLY_INTEGER || r->element[3]->type != REDIS_REPLY_STRING)
    return failure(user, key, "unexpected reply: " + std::string(text(r.get())));
  if (r->element[2]->integer != 1) return {};
  const redisReply* value = r->element[3];
  if (!object.setSize(value->len) ||
      (value->len && !object.write(0, reinterpret_cast<const uint8_t*>(value->str), value->len)))
    return Outcome::local(errno);
  object.clearDirty();
  object.setSyncedVersion(versionTag(text(r->element[0]), text(r->element[1])));
  return {};
}

Outcome RedisStore::pullRange(std::string_view user, std::string_view key, StateObject& object,
                              uint64_t offset, uint64_t length) {
  std::lock_guard guard(mutex_);
  FdLock sync{object.syncLock()};
  if (sync.fd < 0) return Outcome::local(errno);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  std::string error;
  // Whole chunks around the range, so that a range pull moves what a later
  // neighbouring read needs too.
  uint64_t from = offset / options_.chunkBytes * options_.chunkBytes;
  uint64_t to = length > UINT64_MAX - offset ? UINT64_MAX : offset + length;
  to = to > UINT64_MAX - options_.chunkBytes
           ? UINT64_MAX
           : (to + options_.chunkBytes - 1) / options_.chunkBytes * options_.chunkBytes;
  for (int attempt = 0; attempt < 4; ++attempt) {
    queueHead(k);
    Head head;
    if (!readHead(head, error)) return failure(user, key, error);
    if (!head.exists) return {};
    uint64_t end = std::min(to, head.size);
    if (from >= end) return {};
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (uint64_t at = from; at < end; at += options_.chunkBytes)
      ranges.emplace_back(at, std::min(end, at + options_.chunkBytes) - at);
    bool whole = true;
    if (!readRanges(k, ranges, whole, error)) return failure(user, key, error);
    Head after;
    if (!readHead(after, error)) return failure(user, key, error);
    if (!whole || !after.exists || after.version != head.version || after.size != head.size)
      continue;
    if (!object.ensureSize(head.size)) return Outcome::local(errno);
    if (!object.write(from, staging_.data(), end - from)) return Outcome::local(errno);
    object.clearDirty(from, end - from, object.size());
    return {};
  }
  return failure(user, key, "the value changed under every attempt to read it");
}

Outcome RedisStore::globalSize(std::string_view user, std::string_view key,
                               std::optional<uint64_t>& size) {
  std::lock_guard guard(mutex_);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  queueHead(k);
  Head head;
  std::string error;
  if (!readHead(head, error)) return failure(user, key, error);
  size = head.exists ? std::optional<uint64_t>(head.size) : std::nullopt;
  return {};
}

// ----- push -------------------------------------------------------------------------------

Outcome RedisStore::finishWrite(std::string_view user, std::string_view key, StateObject& object,
                                const Reply& r, bool partial) {
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 4)
    return failure(user, key, "unexpected reply: " + std::string(text(r.get())));
  uint64_t before = versionTag(text(r->element[0]), text(r->element[1]));
  uint64_t after = versionTag(text(r->element[2]), text(r->element[3]));
  // A partial push onto a version this replica did not hold leaves the
  // replica's clean bytes unknown: the next pull fetches the whole value.
  object.setSyncedVersion(!partial || before == object.syncedVersion() ? after : 0);
  return {};
}

Outcome RedisStore::push(std::string_view user, std::string_view key, StateObject& object,
                         std::string_view fence) {
  std::lock_guard guard(mutex_);
  FdLock sync{object.syncLock()};
  if (sync.fd < 0) return Outcome::local(errno);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  return pushFull(user, key, object, fence);
}

bool RedisStore::flush(std::string& error) {
  int done = 0;
  while (!done)
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) {
      error = ctx_->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)
                  ? "timed out after " + std::to_string(options_.timeout.count()) + " ms"
                  : std::string("connection lost: ") + ctx_->errstr;
      drop();
      return false;
    }
  return true;
}

bool RedisStore::sendAll(std::vector<iovec>& iov, std::string& error) {
  size_t i = 0;
  while (i < iov.size()) {
    msghdr msg{};
    msg.msg_iov = &iov[i];
    msg.msg_iovlen = std::min<size_t>(iov.size() - i, 1024); // IOV_MAX
    ssize_t n = sendmsg(ctx_->fd, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                  ? "timed out after " + std::to_string(options_.timeout.count()) + " ms"
                  : std::string("connection lost: ") + (n < 0 ? std::strerror(errno) : "closed");
      drop();
      return false;
    }
    for (size_t sent = size_t(n); sent;) {
      if (sent >= iov[i].iov_len) {
        sent -= iov[i].iov_len;
        ++i;
      } else {
        iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + sent;
        iov[i].iov_len -= sent;
        sent = 0;
      }
    }
  }
  return true;
}

bool RedisStore::streamChunks(const std::string& stage, const uint8_t* data, uint64_t size,
                              bool append, uint64_t& chunks, std::string& error) {
  if (!flush(error)) return false;
  // A batch's headers, then its iovecs (headers and chunks alternating; the
  // CRLF ending each chunk opens the next header).
  const uint64_t batch = 256;
  std::vector<std::string> heads;
  std::vector<iovec> iov;
  chunks = 0;
  for (uint64_t at = 0; at < size;) {
    heads.clear();
    iov.clear();
    const uint64_t batchStart = at;
    for (uint64_t n = 0; n < batch && at < size; ++n, at += options_.chunkBytes) {
      uint64_t length = std::min(options_.chunkBytes, size - at);
      std::string offset = std::to_string(at);
      std::string head = chunks ? "\r\n" : "";
      head += append ? "*3\r\n$6\r\nAPPEND\r\n$" : "*4\r\n$8\r\nSETRANGE\r\n$";
      head += std::to_string(stage.size()) + "\r\n" + stage + "\r\n$";
      if (!append) head += std::to_string(offset.size()) + "\r\n" + offset + "\r\n$";
      heads.push_back(head + std::to_string(length) + "\r\n");
      ++chunks;
    }
    for (size_t j = 0; j < heads.size(); ++j) {
      uint64_t from = batchStart + j * options_.chunkBytes;
      iov.push_back({heads[j].data(), heads[j].size()});
      iov.push_back(
          {const_cast<uint8_t*>(data + from), std::min(options_.chunkBytes, size - from)});
    }
    static const char crlf[] = "\r\n";
    if (at >= size) iov.push_back({const_cast<char*>(crlf), 2});
    if (!sendAll(iov, error)) return false;
  }
  return true;
}

uint8_t* RedisStore::mapValue(const StateObject& object, uint64_t size) {
  struct stat st{};
  if (fstat(object.fd(), &st) != 0) return nullptr;
  uint64_t length = (size + 4095) & ~uint64_t(4095);
  if (mapped_.pid != getpid()) mapped_ = {};
  if (mapped_.data && mapped_.dev == st.st_dev && mapped_.ino == st.st_ino &&
      mapped_.length >= length && st.st_nlink > 0)
    return mapped_.data;
  forgetMapping();
  // The file's capacity covers the value (StateObject grows it first); a
  // mapping past its end would fault, and an allocation past it would
  // grow the file outside the quota.
  if (uint64_t(st.st_size) < state::kHeaderBytes + length) {
    errno = EIO;
    return nullptr;
  }
  // Every page allocated in the file first (it is sparse: capacity grows by
  // ftruncate), so that a pull's copy into the mapping never faults on a
  // full tmpfs (SIGBUS) where a pwrite would have said ENOSPC. Mode 0, the
  // one a Faaslet's seccomp filter allows; inside the file, so its size
  // stays. A file system without fallocate is mapped all the same, for
  // reading; a pull then writes with pwrite (allocated false).
  bool allocated = fallocate(object.fd(), 0, off_t(state::kHeaderBytes), off_t(length)) == 0;
  if (!allocated && errno != EOPNOTSUPP) return nullptr;
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, object.fd(),
                 off_t(state::kHeaderBytes));
  if (p == MAP_FAILED) return nullptr;
  // The file never shrinks (StateObject only grows its capacity), so the
  // kept mapping stays backed for as long as it exists.
  if (st.st_nlink > 0)
    mapped_ = {st.st_dev, st.st_ino, getpid(), static_cast<uint8_t*>(p), length, allocated};
  else // unmapped by the next use
    mapped_ = {0, 0, getpid(), static_cast<uint8_t*>(p), length, allocated};
  return static_cast<uint8_t*>(p);
}

Outcome RedisStore::pushFull(std::string_view user, std::string_view key, StateObject& object,
                             std::string_view fence) {
  Keys k(user, key);
  uint64_t size = object.size();
  std::vector<ByteRun> taken = object.takeDirty(size);
  auto restore = [&](Outcome o) {
    for (const ByteRun& run : taken)
      object.markDirty(run.offset, run.length);
    return o;
  };
  const uint8_t* value = size ? mapValue(object, size) : nullptr;
  if (size && !value) return restore(Outcome::local(errno));
  std::string epoch = uniqueId(), lease = std::to_string(options_.lease.count());
  std::string error;
  Reply r;
  if (size <= options_.directPushBytes) {
    std::string_view bytes(reinterpret_cast<const char*>(value), size);
    r = script(PushDirect, {k.v, k.m, k.w}, {fence, epoch, lease, bytes}, error);
  } else {
    // Staged: the chunks go to a key of their own (expiring, in case this
    // process dies before the commit), then one script (Commit) renames it
    // over the value, so no command holds the server for longer than a chunk.
    // The chunks are streamed from the replica (see streamChunks).
    //
    // Up to appendPushBytes, one round trip: a fresh stage (SET '' PX), the
    // chunks APPENDed in order, Commit right behind them. A refused chunk
    // leaves the stage short, which Commit's length check refuses; no stage
    // of the right length can lack a chunk.
    //
    // Larger, two: Claim (the stage made of the spare, its memory already
    // there, or sized at once), the chunks by SETRANGE, their replies; then
    // Commit. It waits for the chunks because a refused one (Redis at
    // maxmemory) leaves a stage of the right length and the wrong bytes that
    // no check in the script could see, and a script started under
    // maxmemory may still rename (only its first write is refused).
    std::string spare = k.prefix + ":x", sizeText = std::to_string(size);
    for (int attempt = 0;; ++attempt) {
      for (Script s : {Commit, Claim})
        if (std::string e = loadScript(s); !e.empty()) return restore(failure(user, key, e));
      r.reset(); // a retry's verdict is its own
      std::string stage = k.prefix + ":s:" + uniqueId();
      const bool append = size <= options_.appendPushBytes;
      if (append)
        command({"SET", stage, "", "PX", "600000"});
      else
        queueScript(Claim, {spare, stage}, {sizeText});
      uint64_t chunks = 0;
      if (!streamChunks(stage, value, size, append, chunks, error))
        return restore(failure(user, key, error));
      if (append)
        queueScript(Commit, {k.v, k.m, k.w, stage, spare}, {fence, epoch, lease, sizeText});
      std::string firstError;
      for (uint64_t j = 0; j < 1 + chunks; ++j) {
        Reply c = reply(error);
        if (!c) return restore(failure(user, key, error));
        if (isError(c) && firstError.empty()) firstError = std::string(text(c.get()));
      }
      if (append || firstError.empty()) {
        if (!append)
          queueScript(Commit, {k.v, k.m, k.w, stage, spare}, {fence, epoch, lease, sizeText});
        r = reply(error);
        if (!r) return restore(failure(user, key, error));
      }
      // Committed means whole: the SETRANGE path commits only after every
      // chunk landed, and an APPENDed stage of the value's length has every
      // chunk (a refused SET '' costs only the stage's expiry).
      if (r && r->type == REDIS_REPLY_ARRAY) break;
      // The server lost its script cache (SCRIPT FLUSH): the chunks went to
      // a stage without an expiry, which goes; then once more from the start.
      if (firstError.starts_with("NOSCRIPT") ||
          (isError(r) && text(r.get()).starts_with("NOSCRIPT"))) {
        shas_[Claim].clear();
        shas_[Commit].clear();
        command({"UNLINK", stage});
        if (!reply(error)) return restore(failure(user, key, error));
        if (attempt == 0) continue;
        return restore(failure(user, key, "the server keeps forgetting its scripts"));
      }
      if (!firstError.empty()) {
        command({"UNLINK", stage}); // it would expire; its memory is wanted now
        reply(error);
        return restore(failure(user, key, firstError));
      }
      break;
    }
  }
  if (!r) return restore(failure(user, key, error));
  if (isError(r)) {
    if (refused(r, "FAASMLOCKLOST")) return restore(lockLost(user, key));
    return restore(failure(user, key, std::string(text(r.get()))));
  }
  return finishWrite(user, key, object, r, false);
}

Outcome RedisStore::pushPartial(std::string_view user, std::string_view key, StateObject& object,
                                const std::vector<ByteRun>* runs, std::string_view fence) {
  std::lock_guard guard(mutex_);
  FdLock sync{object.syncLock()};
  if (sync.fd < 0) return Outcome::local(errno);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  uint64_t size = object.size();
  std::vector<ByteRun> taken;
  if (runs) {
    for (const ByteRun& run : *runs) // clipped to the value
      if (run.offset < size && run.length)
        taken.push_back({run.offset, std::min(run.length, size - run.offset)});
  } else {
    taken = object.takeDirty(size);
  }
  auto restore = [&](Outcome o) {
    if (!runs)
      for (const ByteRun& run : taken)
        object.markDirty(run.offset, run.length);
    return o;
  };
  if (taken.empty()) return {};
  ValueView view(object, size, false);
  if (!view.ok()) return restore(Outcome::local(errno));
  std::string epoch = uniqueId(), lease = std::to_string(options_.lease.count());
  std::string sizeText = std::to_string(size);
  std::vector<std::string> offsets;
  offsets.reserve(taken.size());
  std::vector<std::string_view> args{fence, epoch, lease, sizeText};
  for (const ByteRun& run : taken) {
    offsets.push_back(std::to_string(run.offset));
    args.push_back(offsets.back());
    args.emplace_back(reinterpret_cast<const char*>(view.data() + run.offset), run.length);
  }
  std::string error;
  Reply r = script(Partial, {k.v, k.m, k.w}, args, error);
  if (!r) return restore(failure(user, key, error));
  if (isError(r)) {
    std::string_view e = text(r.get());
    if (refused(r, "FAASMLOCKLOST")) return restore(lockLost(user, key));
    // The global value has another size (or none): ranges of it cannot say
    // what the replica holds, so the whole replica goes.
    if (refused(r, "FAASMSIZE")) {
      restore({});
      return pushFull(user, key, object, fence);
    }
    return restore(failure(user, key, std::string(e)));
  }
  return finishWrite(user, key, object, r, true);
}

// ----- locks -------------------------------------------------------------------------------

Outcome RedisStore::lockGlobal(std::string_view user, std::string_view key, bool exclusive,
                               GlobalLease& lease) {
  Keys k(user, key);
  std::string owner = uniqueId(), leaseMs = std::to_string(options_.lease.count());
  timespec start{};
  clock_gettime(CLOCK_MONOTONIC, &start);
  long sleepUs = 500;
  for (;;) {
    {
      std::lock_guard guard(mutex_);
      if (std::string e = connect(); !e.empty()) return failure(user, key, e);
      std::string error;
      Reply r = exclusive ? script(LockWrite, {k.w, k.r, k.m}, {owner, leaseMs}, error)
                          : script(LockRead, {k.w, k.r}, {owner, leaseMs}, error);
      if (!r) return failure(user, key, error);
      if (isError(r)) return failure(user, key, std::string(text(r.get())));
      if (r->type == REDIS_REPLY_STRING) {
        lease = {exclusive, std::string(text(r.get())), -1};
        return {};
      }
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t waitedMs = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waitedMs >= options_.lockWait.count())
      return Outcome::global("state lock for " + nameOf(user, key) + " not granted within " +
                             std::to_string(options_.lockWait.count()) + " ms");
    timespec pause{0, sleepUs * 1000};
    nanosleep(&pause, nullptr);
    sleepUs = std::min<long>(sleepUs * 2, 20000);
  }
}

void RedisStore::unlockGlobal(std::string_view user, std::string_view key,
                              const GlobalLease& lease) {
  std::lock_guard guard(mutex_);
  if (!connect().empty()) return; // the lease expires by itself
  Keys k(user, key);
  std::string error;
  if (lease.exclusive) {
    script(UnlockWrite, {k.w}, {lease.token}, error);
  } else {
    command({"ZREM", k.r, lease.token});
    reply(error);
  }
}

// ----- append lists -----------------------------------------------------------------------

Outcome RedisStore::append(std::string_view user, std::string_view key, const uint8_t* data,
                           uint32_t length) {
  std::lock_guard guard(mutex_);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  std::string limit = std::to_string(local().quota()), error;
  Reply r = script(Append, {k.a, k.m},
                   {std::string_view(reinterpret_cast<const char*>(data), length), limit}, error);
  if (!r) return failure(user, key, error);
  if (isError(r)) {
    if (refused(r, "FAASMQUOTA")) return Outcome::local(EDQUOT);
    return failure(user, key, std::string(text(r.get())));
  }
  return {};
}

Outcome RedisStore::readAppended(std::string_view user, std::string_view key, uint8_t* out,
                                 uint64_t outLength, uint32_t nElems) {
  if (!nElems) return {};
  std::lock_guard guard(mutex_);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  std::string last = std::to_string(uint64_t(nElems) - 1), error;
  command({"LRANGE", k.a, "0", last});
  Reply r = reply(error);
  if (!r) return failure(user, key, error);
  if (r->type != REDIS_REPLY_ARRAY)
    return failure(user, key, "unexpected reply: " + std::string(text(r.get())));
  uint64_t at = 0;
  for (size_t i = 0; i < r->elements && at < outLength; ++i) {
    uint64_t n = std::min<uint64_t>(r->element[i]->len, outLength - at);
    std::memcpy(out + at, r->element[i]->str, n);
    at += n;
  }
  return {};
}

Outcome RedisStore::clearAppended(std::string_view user, std::string_view key) {
  std::lock_guard guard(mutex_);
  if (std::string e = connect(); !e.empty()) return failure(user, key, e);
  Keys k(user, key);
  std::string error;
  Reply r = script(ClearAppended, {k.a, k.m}, {}, error);
  if (!r) return failure(user, key, error);
  if (isError(r)) return failure(user, key, std::string(text(r.get())));
  return {};
}

// ----- connections for confined processes -----------------------------------------------

int RedisStore::openConnection(std::string& error) {
  timeval tv{time_t(options_.timeout.count() / 1000),
             suseconds_t((options_.timeout.count() % 1000) * 1000)};
  redisContext* c =
      redisConnectWithTimeout(options_.endpoint.host.c_str(), options_.endpoint.port, tv);
  if (!c || c->err) {
    error = std::string("unreachable: ") + (c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return -1;
  }
  redisSetTimeout(c, tv); // socket options: they travel with the descriptor
  int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) error = std::string("cannot duplicate a descriptor: ") + std::strerror(errno);
  redisFree(c);
  return fd;
}

} // namespace

std::optional<Endpoint> parseEndpoint(std::string_view text, std::string& error) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    error = "a Redis address is host:port, got \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  std::string portText(text.substr(colon + 1));
  char* end = nullptr;
  unsigned long port = std::strtoul(portText.c_str(), &end, 10);
  if (*end || port == 0 || port > 65535) {
    error = "bad port in Redis address \"" + std::string(text) + "\"";
    return std::nullopt;
  }
  return Endpoint{std::string(text.substr(0, colon)), uint16_t(port)};
}

RedisOptions optionsFromEnvironment(Endpoint endpoint) {
  RedisOptions o;
  o.endpoint = std::move(endpoint);
  auto ms = [](const char* name, std::chrono::milliseconds& out) {
    const char* v = std::getenv(name);
    if (!v || !*v) return;
    char* end = nullptr;
    long long n = std::strtoll(v, &end, 10);
    if (*end || n <= 0)
      std::fprintf(stderr, "faasm: %s=\"%s\" is not a positive number of ms; ignored\n", name, v);
    else
      out = std::chrono::milliseconds(n);
  };
  ms("FAASM_REDIS_TIMEOUT_MS", o.timeout);
  ms("FAASM_STATE_LEASE_MS", o.lease);
  ms("FAASM_STATE_LOCK_WAIT_MS", o.lockWait);
  return o;
}

std::unique_ptr<state::StateStore> makeRedisStore(RedisOptions options) {
  return std::make_unique<RedisStore>(std::move(options));
}

std::string encodeName(std::string_view bytes) {
  if (bytes.empty()) return "%";
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : bytes) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string keyPrefix(std::string_view user, std::string_view key) {
  return "faasm:{" + encodeName(user) + "/" + encodeName(key) + "}";
}

} // namespace faasm::redis
