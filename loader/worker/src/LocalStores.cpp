// The local implementations of the worker's seams (Stores.h): one host, its
// own directory and memory.
#include "faasm/worker/Stores.h"

#include "faasm/state/LocalState.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm::worker {

CallId CallId::random() {
  CallId id;
  size_t got = 0;
  while (got < id.bytes.size()) {
    ssize_t n = getrandom(id.bytes.data() + got, id.bytes.size() - got, 0);
    if (n > 0)
      got += size_t(n);
    else if (errno != EINTR)
      std::abort(); // no randomness: no id may be handed out
  }
  return id;
}

std::optional<CallId> CallId::parse(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  CallId id;
  for (size_t i = 0; i < 32; ++i) {
    char c = hex[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    id.bytes[i / 2] = uint8_t(id.bytes[i / 2] | (i % 2 ? v : v << 4));
  }
  return id;
}

std::string CallId::hex() const {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

const char* callStateName(CallState s) {
  switch (s) {
  case CallState::Queued: return "queued";
  case CallState::Running: return "running";
  case CallState::Done: return "done";
  case CallState::Failed: return "failed";
  case CallState::TimedOut: return "timeout";
  }
  return "unknown";
}

std::string checkName(const std::string& what, const std::string& name) {
  if (name.empty()) return what + " name is empty";
  if (name.size() > 64) return what + " name is longer than 64 characters";
  if (name[0] == '.') return what + " name \"" + name + "\" starts with '.'";
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return what + " name has a character other than A-Z a-z 0-9 _ - .";
  return {};
}

namespace {

bool makeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/')
      if (mkdir(path.substr(0, i).c_str(), 0700) != 0 && errno != EEXIST) return false;
  return true;
}

// Writes through a temporary file and rename: a reader sees the old or the
// new content, never a part.
std::string writeAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp-" + CallId::random().hex();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return "cannot write " + path + ": " + std::strerror(errno);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    std::string e = std::strerror(errno);
    unlink(tmp.c_str());
    return "cannot write " + path + ": " + e;
  }
  return {};
}

class LocalArtefactStore final : public ArtefactStore {
public:
  explicit LocalArtefactStore(std::string dir) : dir_(std::move(dir)) {
    makeDirs(dir_ + "/artefacts");
    makeDirs(dir_ + "/scratch");
  }
  std::string find(const std::string& key) override {
    if (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos)
      return {};
    std::string path = dir_ + "/artefacts/" + key + ".so";
    struct stat st{};
    return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? path : std::string();
  }
  std::string put(const std::string& key, const std::string& path) override {
    if (key.size() != 64 || key.find_first_not_of("0123456789abcdef") != std::string::npos)
      return "bad artefact key";
    std::string to = dir_ + "/artefacts/" + key + ".so";
    // Readable by the Faaslets' zygotes, which load it after dropping root.
    chmod(path.c_str(), 0644);
    if (rename(path.c_str(), to.c_str()) != 0)
      return "cannot store artefact " + key + ": " + std::strerror(errno);
    return {};
  }
  std::string scratchDir() const override { return dir_ + "/scratch"; }

private:
  std::string dir_;
};

// functions/<user>/<function>: three lines, artefact key, wasm SHA-256,
// wasm size. Names are state::LocalStateStore::nameOf's escaped form.
class LocalFunctionTable final : public FunctionTable {
public:
  explicit LocalFunctionTable(std::string dir) : dir_(std::move(dir) + "/functions") {
    makeDirs(dir_);
  }
  std::optional<Entry> get(const std::string& user, const std::string& function) override {
    return read(userDir(user) + "/" + state::LocalStateStore::nameOf(function));
  }
  std::string set(const std::string& user, const std::string& function,
                  const Entry& entry) override {
    std::string dir = userDir(user);
    if (!makeDirs(dir)) return "cannot make " + dir + ": " + std::strerror(errno);
    return writeAtomically(dir + "/" + state::LocalStateStore::nameOf(function),
                           entry.artefact + "\n" + entry.wasmSha256 + "\n" +
                               std::to_string(entry.wasmBytes) + "\n");
  }
  std::vector<std::pair<std::string, Entry>> list(const std::string& user) override {
    std::vector<std::pair<std::string, Entry>> out;
    std::string dir = userDir(user);
    DIR* d = opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      // Only names checkName() admits were stored; they escape to themselves.
      if (!checkName("function", name).empty() || name.find(".tmp-") != std::string::npos) continue;
      if (std::optional<Entry> entry = read(dir + "/" + name)) out.emplace_back(name, *entry);
    }
    closedir(d);
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
    return out;
  }

private:
  std::string userDir(const std::string& user) const {
    return dir_ + "/" + state::LocalStateStore::nameOf(user);
  }
  static std::optional<Entry> read(const std::string& path) {
    std::ifstream in(path);
    Entry e;
    if (!(in >> e.artefact >> e.wasmSha256 >> e.wasmBytes)) return std::nullopt;
    return e;
  }
  std::string dir_;
};

class LocalCallQueue final : public CallQueue {
public:
  explicit LocalCallQueue(QueueLimits limits) : limits_(limits) {}
  Refusal submit(CallRequest request) override {
    std::lock_guard lock(mutex_);
    if (limits_.perUser && perUser_[request.user] >= limits_.perUser)
      return {429, "user " + request.user + " has " + std::to_string(limits_.perUser) +
                       " calls queued or running (its share of this worker): try again later"};
    // Calls an executor will take at once do not wait: the queue's bound is
    // on top of the free running slots.
    if (queued_ >= limits_.queued + (limits_.running - std::min(handedOut_, limits_.running)))
      return {503, "this worker is at capacity (" + std::to_string(handedOut_) +
                       " calls running, " + std::to_string(queued_) +
                       " queued, its limit): try again later"};
    ++perUser_[request.user];
    ++queued_;
    auto& q = byUser_[request.user];
    if (q.empty()) turns_.push_back(request.user);
    q.push_back(std::move(request));
    return {};
  }
  std::optional<CallRequest> take() override {
    std::lock_guard lock(mutex_);
    if (handedOut_ >= limits_.running || turns_.empty()) return std::nullopt;
    // Users take turns: one who queued a thousand calls does not hold back
    // one who queued one.
    std::string user = turns_.front();
    turns_.pop_front();
    auto& q = byUser_[user];
    CallRequest r = std::move(q.front());
    q.pop_front();
    if (q.empty())
      byUser_.erase(user);
    else
      turns_.push_back(user);
    --queued_;
    ++handedOut_;
    return r;
  }
  void done(const CallRequest& request) override {
    std::lock_guard lock(mutex_);
    if (handedOut_) --handedOut_;
    release(request.user);
  }
  std::vector<CallRequest> expire(Clock::time_point now) override {
    std::lock_guard lock(mutex_);
    std::vector<CallRequest> out;
    for (auto it = byUser_.begin(); it != byUser_.end();) {
      auto& q = it->second;
      for (auto c = q.begin(); c != q.end();) {
        if (c->deadline <= now) {
          out.push_back(std::move(*c));
          c = q.erase(c);
          --queued_;
        } else {
          ++c;
        }
      }
      if (q.empty()) {
        std::erase(turns_, it->first);
        it = byUser_.erase(it);
      } else {
        ++it;
      }
    }
    for (const CallRequest& r : out)
      release(r.user);
    return out;
  }
  size_t depth() const override {
    std::lock_guard lock(mutex_);
    return queued_;
  }

private:
  void release(const std::string& user) {
    auto it = perUser_.find(user);
    if (it != perUser_.end() && --it->second == 0) perUser_.erase(it);
  }
  QueueLimits limits_;
  mutable std::mutex mutex_;
  std::map<std::string, std::deque<CallRequest>> byUser_;
  std::deque<std::string> turns_;
  std::map<std::string, size_t> perUser_;
  size_t queued_ = 0, handedOut_ = 0;
};

class LocalResultStore final : public ResultStore {
public:
  explicit LocalResultStore(ResultLimits limits) : limits_(limits) {}
  void created(const CallId& id, const std::string& user) override {
    std::lock_guard lock(mutex_);
    Record& r = records_[id];
    r.user = user;
    evict();
  }
  void running(const CallId& id) override {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it != records_.end() && !it->second.status.final())
      it->second.status.state = CallState::Running;
  }
  bool complete(const CallId& id, CallStatus status) override {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it == records_.end() || it->second.status.final() || !status.final()) return false;
    bytes_ += status.output.size();
    it->second.status = std::move(status);
    it->second.expires = Clock::now() + limits_.ttl;
    finals_.push_back(id);
    evict();
    return true;
  }
  std::optional<CallStatus> get(const CallId& id, const std::string& user) override {
    std::lock_guard lock(mutex_);
    auto it = records_.find(id);
    if (it == records_.end() || it->second.user != user) return std::nullopt;
    return it->second.status;
  }
  void expire(Clock::time_point now) override {
    std::lock_guard lock(mutex_);
    while (!finals_.empty()) {
      auto it = records_.find(finals_.front());
      if (it != records_.end() && it->second.expires > now) break;
      drop(finals_.front());
      finals_.pop_front();
    }
  }

private:
  struct Record {
    std::string user;
    CallStatus status;
    Clock::time_point expires = Clock::time_point::max();
  };
  // Past a limit the oldest final results go first; calls still to finish
  // stay (the queue bounds them).
  void evict() {
    while (!finals_.empty() && (bytes_ > limits_.bytes || records_.size() > limits_.calls)) {
      drop(finals_.front());
      finals_.pop_front();
    }
  }
  void drop(const CallId& id) {
    auto it = records_.find(id);
    if (it == records_.end()) return;
    bytes_ -= it->second.status.output.size();
    records_.erase(it);
  }
  ResultLimits limits_;
  std::mutex mutex_;
  std::map<CallId, Record> records_;
  std::deque<CallId> finals_; // in the order they became final (= expiry order)
  uint64_t bytes_ = 0;
};

class LocalMembership final : public Membership {
public:
  LocalMembership() {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    self_ = std::string(host) + ":" + std::to_string(getpid());
  }
  std::string self() const override { return self_; }
  std::vector<std::string> alive() override { return {self_}; }
  void heartbeat() override {}

private:
  std::string self_;
};

} // namespace

std::unique_ptr<ArtefactStore> localArtefactStore(const std::string& directory) {
  return std::make_unique<LocalArtefactStore>(directory);
}
std::unique_ptr<FunctionTable> localFunctionTable(const std::string& directory) {
  return std::make_unique<LocalFunctionTable>(directory);
}
std::unique_ptr<CallQueue> localCallQueue(QueueLimits limits) {
  return std::make_unique<LocalCallQueue>(limits);
}
std::unique_ptr<ResultStore> localResultStore(ResultLimits limits) {
  return std::make_unique<LocalResultStore>(limits);
}
std::unique_ptr<Membership> localMembership() {
  return std::make_unique<LocalMembership>();
}

} // namespace faasm::worker
