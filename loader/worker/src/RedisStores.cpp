#include "RedisStores.h"

#include "Wire.h"
#include "faasm/log/Log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm::worker {
namespace {

bool validKey(const std::string& key) {
  return key.size() == 64 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string readFile(const std::string& path, std::string& error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open " + path + ": " + std::strerror(errno);
    return {};
  }
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, size_t(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) error = "cannot read " + path + ": " + std::strerror(errno);
    break;
  }
  close(fd);
  return out;
}

// The loader checks an artefact's seal (abi/Artefact.h) before it runs any
// of it, so what Redis hands back is only ever run if a holder of the
// sealing key made it; this store needs no check of its own.
class RedisArtefactStore final : public ArtefactStore {
public:
  RedisArtefactStore(const RedisConfig& c, std::unique_ptr<ArtefactStore> local)
      : redis_(c.connect()), local_(std::move(local)) {}
  std::string find(const std::string& key) override {
    if (!validKey(key)) return {};
    if (std::string path = local_->find(key); !path.empty()) return path;
    RedisReply r = redis_->command({"GET", "faasm:art:" + key});
    if (r.kind != RedisReply::String) {
      if (r.error()) FAASM_LOG(Error, "artefact %s: %s", key.c_str(), r.str.c_str());
      return {};
    }
    std::string tmp = local_->scratchDir() + "/fetch-" + key + "-" + std::to_string(getpid());
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool ok = fd >= 0;
    for (size_t at = 0; ok && at < r.str.size();) {
      ssize_t n = write(fd, r.str.data() + at, r.str.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok = false;
      if (n > 0) at += size_t(n);
    }
    if (fd >= 0 && close(fd) != 0) ok = false;
    if (!ok || !local_->put(key, tmp).empty()) {
      unlink(tmp.c_str());
      FAASM_LOG(Error, "artefact %s: cannot cache the copy fetched from Redis", key.c_str());
      return {};
    }
    FAASM_LOG(Info, "artefact %s fetched from Redis (%zu bytes)", key.c_str(), r.str.size());
    return local_->find(key);
  }
  std::string put(const std::string& key, const std::string& path) override {
    if (std::string e = local_->put(key, path); !e.empty()) return e;
    std::string error;
    std::string bytes = readFile(local_->find(key), error);
    if (!error.empty()) return error;
    RedisReply r = redis_->command({"SET", "faasm:art:" + key, bytes, "NX"});
    if (r.error()) return "cannot store artefact " + key + " in Redis: " + r.str;
    return {};
  }
  std::string scratchDir() const override { return local_->scratchDir(); }

private:
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<ArtefactStore> local_;
};

std::string encodeEntry(const FunctionTable::Entry& e) {
  return e.artefact + " " + e.wasmSha256 + " " + std::to_string(e.wasmBytes);
}

std::optional<FunctionTable::Entry> decodeEntry(const std::string& text) {
  FunctionTable::Entry e;
  size_t a = text.find(' '), b = text.find(' ', a + 1);
  if (a == std::string::npos || b == std::string::npos) return std::nullopt;
  e.artefact = text.substr(0, a);
  e.wasmSha256 = text.substr(a + 1, b - a - 1);
  errno = 0;
  char* end = nullptr;
  e.wasmBytes = std::strtoull(text.c_str() + b + 1, &end, 10);
  if (errno || *end || !validKey(e.artefact) || !validKey(e.wasmSha256)) return std::nullopt;
  return e;
}

class RedisFunctionTable final : public FunctionTable {
public:
  RedisFunctionTable(const RedisConfig& c, std::unique_ptr<FunctionTable> local,
                     std::function<void(const std::string&, const std::string&)> changed)
      : redis_(c.connect()), local_(std::move(local)), changed_(std::move(changed)) {}
  std::optional<Entry> get(const std::string& user, const std::string& function) override {
    RedisReply r = redis_->command({"HGET", key(user), function});
    if (r.error()) {
      // Redis unreachable: what this host knows is the best answer.
      FAASM_LOG(Error, "function table of %s: %s", user.c_str(), r.str.c_str());
      return local_->get(user, function);
    }
    if (r.kind != RedisReply::String) return std::nullopt;
    std::optional<Entry> e = decodeEntry(r.str);
    if (e) mirror(user, function, *e);
    return e;
  }
  std::string set(const std::string& user, const std::string& function,
                  const Entry& entry) override {
    RedisReply r = redis_->command({"HSET", key(user), function, encodeEntry(entry)});
    if (r.error()) return "cannot store function " + user + "/" + function + ": " + r.str;
    return local_->set(user, function, entry);
  }
  std::vector<std::pair<std::string, Entry>> list(const std::string& user) override {
    RedisReply r = redis_->command({"HGETALL", key(user)});
    if (r.kind != RedisReply::Array) return local_->list(user);
    std::vector<std::pair<std::string, Entry>> out;
    for (size_t i = 0; i + 1 < r.elements.size(); i += 2)
      if (std::optional<Entry> e = decodeEntry(r.elements[i + 1].str))
        out.emplace_back(r.elements[i].str, *e);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
    return out;
  }

private:
  static std::string key(const std::string& user) { return "faasm:{" + user + "}:fn"; }
  void mirror(const std::string& user, const std::string& function, const Entry& e) {
    std::optional<Entry> mine = local_->get(user, function);
    if (mine && mine->artefact == e.artefact) return;
    if (std::string err = local_->set(user, function, e); !err.empty())
      FAASM_LOG(Error, "%s", err.c_str());
    if (mine && changed_) changed_(user, function);
  }
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<FunctionTable> local_;
  std::function<void(const std::string&, const std::string&)> changed_;
};

std::string encodeStatus(const std::string& user, const CallStatus& s) {
  return wire::Writer()
      .str(user)
      .u32(uint32_t(s.state))
      .i32(s.returnCode)
      .str(s.output)
      .str(s.error)
      .bytes;
}

} // namespace

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<ArtefactStore> redisArtefactStore(const RedisConfig& config,
                                                  std::unique_ptr<ArtefactStore> local) {
  return std::make_unique<RedisArtefactStore>(config, std::move(local));
}

std::unique_ptr<FunctionTable>
redisFunctionTable(const RedisConfig& config, std::unique_ptr<FunctionTable> local,
                   std::function<void(const std::string&, const std::string&)> changed) {
  return std::make_unique<RedisFunctionTable>(config, std::move(local), std::move(changed));
}

// ----- results -----------------------------------------------------------------

RedisResultStore::RedisResultStore(const RedisConfig& c, std::chrono::seconds ttl,
                                   std::chrono::milliseconds longestCall)
    : redis_(c.connect()), ttl_(ttl), longest_(longestCall) {}

void RedisResultStore::created(const CallId& id, const std::string& user) {
  std::string key = "faasm:call:" + id.hex();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(longest_).count() + ttl_.count();
  redis_->pipeline(
      {{"HSET", key, "u", user, "st", "queued"}, {"EXPIRE", key, std::to_string(seconds)}});
}

void RedisResultStore::running(const CallId& id) {
  std::string key = "faasm:call:" + id.hex();
  redis_->pipeline({{"HSET", key, "st", "running"}, {"HINCRBY", key, "n", "1"}});
}

unsigned RedisResultStore::attempts(const CallId& id, std::string& lastError) {
  RedisReply r = redis_->command({"HMGET", "faasm:call:" + id.hex(), "n", "err"});
  if (r.kind != RedisReply::Array || r.elements.size() != 2) return 0;
  lastError = r.elements[1].str;
  return unsigned(std::strtoul(r.elements[0].str.c_str(), nullptr, 10));
}

void RedisResultStore::failedAttempt(const CallId& id, const std::string& error) {
  redis_->command({"HSET", "faasm:call:" + id.hex(), "err", error, "st", "queued"});
}

bool RedisResultStore::hasResult(const CallId& id) {
  RedisReply r = redis_->command({"EXISTS", "faasm:res:" + id.hex()});
  return r.kind == RedisReply::Integer && r.integer == 1;
}

bool RedisResultStore::complete(const CallId& id, CallStatus status) {
  std::string user;
  RedisReply u = redis_->command({"HGET", "faasm:call:" + id.hex(), "u"});
  if (u.kind != RedisReply::String) return false;
  RedisReply r = redis_->command({"SET", "faasm:res:" + id.hex(), encodeStatus(u.str, status), "NX",
                                  "EX", std::to_string(ttl_.count())});
  if (r.error()) FAASM_LOG(Error, "result of call %s: %s", id.hex().c_str(), r.str.c_str());
  return r.kind == RedisReply::Status;
}

std::optional<CallStatus> RedisResultStore::get(const CallId& id, const std::string& user) {
  std::vector<RedisReply> r = redis_->pipeline(
      {{"GET", "faasm:res:" + id.hex()}, {"HMGET", "faasm:call:" + id.hex(), "u", "st"}});
  if (r[0].kind == RedisReply::String) {
    wire::Reader in{r[0].str};
    CallStatus s;
    std::string owner = in.str();
    s.state = CallState(in.u32());
    s.returnCode = in.i32();
    std::string output = in.str();
    s.output.assign(output.begin(), output.end());
    s.error = in.str();
    if (in.bad || owner != user || !s.final()) return std::nullopt;
    return s;
  }
  if (r[1].kind != RedisReply::Array || r[1].elements.size() != 2 ||
      r[1].elements[0].kind != RedisReply::String || r[1].elements[0].str != user)
    return std::nullopt;
  CallStatus s;
  s.state = r[1].elements[1].str == "running" ? CallState::Running : CallState::Queued;
  return s;
}

// ----- membership ----------------------------------------------------------------

RedisMembership::RedisMembership(const RedisConfig& c, std::string self)
    : redis_(c.connect()), self_(std::move(self)), lease_(c.lease) {}

void RedisMembership::publish(int64_t free, std::set<std::string> warm) {
  std::lock_guard lock(mutex_);
  free_ = free;
  warm_ = std::move(warm);
}

void RedisMembership::heartbeat() {
  std::string info;
  {
    std::lock_guard lock(mutex_);
    info = std::to_string(free_);
    for (const std::string& w : warm_)
      info += " " + w;
  }
  int64_t now = wallMs();
  redis_->pipeline({{"ZADD", "faasm:hosts", std::to_string(now + lease_.count()), self_},
                    {"SET", "faasm:host:" + self_, info, "PX", std::to_string(lease_.count())},
                    {"ZREMRANGEBYSCORE", "faasm:hosts", "-inf", std::to_string(now - 60'000)}});
}

std::vector<std::string> RedisMembership::alive() {
  RedisReply r =
      redis_->command({"ZRANGEBYSCORE", "faasm:hosts", std::to_string(wallMs()), "+inf"});
  std::vector<std::string> out;
  for (const RedisReply& e : r.elements)
    out.push_back(e.str);
  return out;
}

std::vector<RedisMembership::Host> RedisMembership::hosts() {
  std::vector<std::string> names = alive();
  std::vector<std::vector<std::string>> gets;
  for (const std::string& n : names)
    gets.push_back({"GET", "faasm:host:" + n});
  std::vector<Host> out;
  if (gets.empty()) return out;
  std::vector<RedisReply> r = redis_->pipeline(gets);
  for (size_t i = 0; i < names.size(); ++i) {
    if (r[i].kind != RedisReply::String) continue;
    Host h;
    h.name = names[i];
    size_t at = r[i].str.find(' ');
    h.free = std::strtoll(r[i].str.substr(0, at).c_str(), nullptr, 10);
    while (at != std::string::npos) {
      size_t next = r[i].str.find(' ', at + 1);
      h.warm.insert(r[i].str.substr(at + 1, next == std::string::npos ? next : next - at - 1));
      at = next;
    }
    out.push_back(std::move(h));
  }
  return out;
}

} // namespace faasm::worker
