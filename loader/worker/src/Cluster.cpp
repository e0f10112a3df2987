#include "Cluster.h"

#include "Wire.h"
#include "faasm/log/Log.h"

#include <algorithm>

namespace faasm::worker {
namespace {

const char* const kGroup = "faasm";
const char* const kShared = "faasm:q:any";

// Renews a claim only while this consumer still owns the entry: a worker
// that stalled past its lease must not take back a call another took over.
const char* const kRenew =
    "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)\n"
    "if p[1] and p[1][2] == ARGV[2] then\n"
    "  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

std::string encodeCall(const CallRequest& c, int64_t deadlineMs) {
  wire::Writer w;
  w.raw(c.id.bytes);
  w.str(c.user).str(c.function);
  w.str(c.input);
  w.u64(uint64_t(deadlineMs));
  return w.bytes;
}

} // namespace

Cluster::Cluster(const RedisConfig& config, ClusterLimits limits, RedisMembership& membership,
                 RedisResultStore& results, FunctionTable& table, ArtefactStore& artefacts,
                 Hooks hooks)
    : config_(config), limits_(limits), membership_(membership), results_(results), table_(table),
      artefacts_(artefacts), hooks_(std::move(hooks)), in_(config.connect()),
      out_(config.connect()), self_(membership.self()), own_(streamOf(membership.self())) {
  selfFree_ = int64_t(limits_.capacity);
}

Cluster::~Cluster() {
  stop();
}

std::chrono::milliseconds Cluster::longestCall() const {
  return limits_.queueTimeout + (limits_.callTimeout + config_.lease) * config_.maxAttempts;
}

CallQueue::Refusal Cluster::submit(const CallRequest& call, bool elsewhere) {
  const std::string fn = call.user + "/" + call.function;
  std::string target;
  {
    // Local first while this host has room, then a host warm for the
    // function with room, then any host with room; else the shared stream.
    std::lock_guard lock(mutex_);
    if (selfFree_ > 0 && !elsewhere) {
      --selfFree_;
      target = own_;
    } else {
      RedisMembership::Host* best = nullptr;
      for (auto& h : hosts_) {
        if (h.name == self_ || h.free <= 0) continue;
        bool warm = h.warm.count(fn) != 0;
        if (!best || (warm && !best->warm.count(fn)) ||
            (warm == (best->warm.count(fn) != 0) && h.free > best->free))
          best = &h;
      }
      if (best) {
        --best->free;
        target = streamOf(best->name);
      }
    }
  }
  if (target.empty()) {
    RedisReply n = out_->command({"XLEN", kShared});
    size_t alive = std::max<size_t>(1, hosts_.size());
    if (n.kind == RedisReply::Integer && size_t(n.integer) >= limits_.maxQueued * alive)
      return {503, "every worker is at capacity and " + std::to_string(n.integer) +
                       " calls wait for one; try again later"};
    target = kShared;
  }
  int64_t left =
      std::chrono::duration_cast<std::chrono::milliseconds>(call.deadline - Clock::now()).count();
  int64_t deadline = wallMs() + std::clamp<int64_t>(left, 1, longestCall().count());
  std::vector<RedisReply> r = out_->pipeline(
      {{"SADD", "faasm:streams", target}, {"XADD", target, "*", "c", encodeCall(call, deadline)}});
  if (r[1].kind != RedisReply::String) return {503, "cannot queue the call on Redis: " + r[1].str};
  return {};
}

void Cluster::ran(const std::string& user, const std::string& function) {
  std::lock_guard lock(mutex_);
  if (warm_.size() < 256) warm_.insert(user + "/" + function);
}

bool Cluster::settle(const CallId& id, CallStatus& s) {
  Held held;
  {
    std::lock_guard lock(mutex_);
    auto it = held_.find(id);
    if (it == held_.end()) return true;
    held = it->second;
  }
  // The function's own answer (any exit code), a timeout, or no such
  // function are final; a crash (trap, signal, memory limit, the executor
  // dying) is retried on the next taker, up to the cap of attempts.
  bool retry = s.state == CallState::Failed && s.returnCode != 126;
  if (!retry) return true;
  std::string last;
  unsigned n = results_.attempts(id, last);
  if (n >= config_.maxAttempts) {
    s.error = "dead-lettered after " + std::to_string(n) + " attempts; the last: " + s.error;
    return true;
  }
  results_.failedAttempt(id, s.error);
  {
    std::lock_guard lock(mutex_);
    held_.erase(id);
  }
  // Idle past the lease at once: the next XAUTOCLAIM of any worker takes it.
  out_->command({"XCLAIM", held.stream, kGroup, self_, "0", held.entry, "IDLE",
                 std::to_string(config_.lease.count() + 1), "JUSTID"});
  FAASM_LOG(Info, "call %s: attempt %u failed (%s); released for another", id.hex().c_str(), n,
            s.error.c_str());
  return false;
}

void Cluster::acked(const CallId& id) {
  Held held;
  {
    std::lock_guard lock(mutex_);
    auto it = held_.find(id);
    if (it == held_.end()) return;
    held = it->second;
    held_.erase(it);
  }
  out_->pipeline({{"XACK", held.stream, kGroup, held.entry}, {"XDEL", held.stream, held.entry}});
}

void Cluster::ack(const std::string& stream, const std::string& entry) {
  in_->pipeline({{"XACK", stream, kGroup, entry}, {"XDEL", stream, entry}});
}

void Cluster::start() {
  thread_ = std::thread([this] { intake(); });
}

void Cluster::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  wakeUp_.notify_all();
  thread_.join();
}

void Cluster::beat() {
  std::vector<Held> held;
  size_t holding;
  std::set<std::string> warm;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, h] : held_)
      held.push_back(h);
    holding = held_.size();
    warm = warm_;
  }
  // Unread entries of this host's own stream are promised slots.
  std::vector<RedisReply> r = in_->pipeline({{"XLEN", own_}, {"XPENDING", own_, kGroup}});
  int64_t unread = 0;
  if (r[0].kind == RedisReply::Integer) unread = r[0].integer;
  if (r[1].kind == RedisReply::Array && !r[1].elements.empty()) unread -= r[1].elements[0].integer;
  int64_t free = int64_t(limits_.capacity) - int64_t(holding) - std::max<int64_t>(unread, 0);
  membership_.publish(free, warm);
  membership_.heartbeat();
  std::vector<std::vector<std::string>> renew;
  for (const Held& h : held)
    renew.push_back({"EVAL", kRenew, "1", h.stream, kGroup, self_, h.entry});
  if (!renew.empty()) {
    std::vector<RedisReply> rr = in_->pipeline(renew);
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < rr.size(); ++i)
      // Not an entry acked meanwhile (no longer held): one taken over.
      if (rr[i].kind == RedisReply::Integer && rr[i].integer == 0 &&
          std::any_of(held_.begin(), held_.end(),
                      [&](auto& h) { return h.second.entry == held[i].entry; }))
        FAASM_LOG(Error, "lost the claim on entry %s of %s (another worker took it over)",
                  held[i].entry.c_str(), held[i].stream.c_str());
  }
  std::vector<RedisMembership::Host> hosts = membership_.hosts();
  RedisReply all = in_->command({"SMEMBERS", "faasm:streams"});
  std::lock_guard lock(mutex_);
  hosts_ = std::move(hosts);
  selfFree_ = free;
  streams_ = {own_, kShared};
  dead_.clear();
  std::set<std::string> live;
  for (auto& h : hosts_)
    live.insert(streamOf(h.name));
  for (const RedisReply& s : all.elements) {
    if (s.str == own_ || s.str == kShared) continue;
    streams_.push_back(s.str);
    if (!live.count(s.str)) dead_.insert(s.str);
  }
}

size_t Cluster::take(const std::string& stream, size_t room) {
  if (!groups_.count(stream)) {
    RedisReply g = in_->command({"XGROUP", "CREATE", stream, kGroup, "0", "MKSTREAM"});
    if (!g.error() || g.str.rfind("BUSYGROUP", 0) == 0)
      groups_.insert(stream);
    else
      return 0;
  }
  bool dead;
  {
    std::lock_guard lock(mutex_);
    dead = dead_.count(stream) != 0;
  }
  size_t got = 0;
  // What a dead worker held, or a failed attempt released.
  RedisReply c =
      in_->command({"XAUTOCLAIM", stream, kGroup, self_, std::to_string(config_.lease.count()),
                    "0-0", "COUNT", std::to_string(room)});
  if (c.kind == RedisReply::Array && c.elements.size() >= 2)
    for (const RedisReply& e : c.elements[1].elements) {
      if (e.elements.size() < 2 || e.elements[1].elements.size() < 2) continue;
      admit(stream, e.elements[0].str, e.elements[1].elements[1].str, true);
      ++got;
    }
  if (got >= room) return got;
  // New entries: this host's own stream, the shared one, and a dead host's.
  if (stream != own_ && stream != kShared && !dead) return got;
  RedisReply r = in_->command({"XREADGROUP", "GROUP", kGroup, self_, "COUNT",
                               std::to_string(room - got), "STREAMS", stream, ">"});
  if (r.error() && r.str.rfind("NOGROUP", 0) == 0) groups_.erase(stream);
  if (r.kind == RedisReply::Array)
    for (const RedisReply& s : r.elements)
      if (s.elements.size() == 2)
        for (const RedisReply& e : s.elements[1].elements) {
          if (e.elements.size() < 2 || e.elements[1].elements.size() < 2) continue;
          admit(stream, e.elements[0].str, e.elements[1].elements[1].str, false);
          ++got;
        }
  return got;
}

void Cluster::admit(const std::string& stream, const std::string& entry, const std::string& payload,
                    bool reclaimed) {
  wire::Reader r{payload};
  CallRequest call;
  r.fill(call.id.bytes);
  call.user = r.str();
  call.function = r.str();
  std::string input = r.str();
  int64_t deadline = int64_t(r.u64());
  if (r.bad) {
    FAASM_LOG(Error, "entry %s of %s is malformed; dropped", entry.c_str(), stream.c_str());
    ack(stream, entry);
    return;
  }
  call.input.assign(input.begin(), input.end());
  {
    std::lock_guard lock(mutex_);
    if (held_.count(call.id)) return; // renewed by a stale XAUTOCLAIM: ours already
    held_[call.id] = Held{stream, entry};
  }
  // Ends a call that never ran here: not held (so settle() takes the
  // status as final), the result stored, then the entry acked.
  auto end = [&](CallState state, int32_t rc, std::string error) {
    {
      std::lock_guard lock(mutex_);
      held_.erase(call.id);
    }
    CallStatus s;
    s.state = state;
    s.returnCode = rc;
    s.error = std::move(error);
    hooks_.finish(call.id, s);
    ack(stream, entry);
  };
  if (results_.hasResult(call.id)) {
    {
      std::lock_guard lock(mutex_);
      held_.erase(call.id);
    }
    ack(stream, entry);
    return;
  }
  std::string last;
  unsigned attempts = results_.attempts(call.id, last);
  if (reclaimed && last.empty() && attempts > 0)
    last = "the worker running it stopped renewing its claim (it died or stalled)";
  if (attempts >= config_.maxAttempts)
    return end(CallState::Failed, 134,
               "dead-lettered after " + std::to_string(attempts) + " attempts; the last: " + last);
  int64_t left = deadline - wallMs();
  if (left <= 0) return end(CallState::TimedOut, 134, "not run by its deadline");
  std::optional<FunctionTable::Entry> fn = table_.get(call.user, call.function);
  if (!fn)
    return end(CallState::Failed, 126, "no function " + call.function + " of user " + call.user);
  if (artefacts_.find(fn->artefact).empty())
    return end(CallState::Failed, 126,
               "the artefact of " + call.user + "/" + call.function + " is in no store");
  call.accepted = Clock::now();
  call.deadline = call.accepted + std::min(std::chrono::milliseconds(left),
                                           limits_.queueTimeout + limits_.callTimeout);
  CallId id = call.id;
  if (CallQueue::Refusal no = hooks_.enqueue(std::move(call)); no.httpStatus) {
    // The user's share here is full: leave the entry to be claimed again
    // once its lease passes (here or elsewhere).
    std::lock_guard lock(mutex_);
    held_.erase(id);
  }
}

void Cluster::intake() {
  while (!stopping_) {
    if (wallMs() >= nextBeat_) {
      beat();
      nextBeat_ = wallMs() + std::max<int64_t>(config_.lease.count() / 4, 50);
    }
    std::vector<std::string> streams;
    size_t room;
    {
      std::lock_guard lock(mutex_);
      streams = streams_;
      room = limits_.capacity > held_.size() ? limits_.capacity - held_.size() : 0;
    }
    size_t got = 0;
    for (const std::string& s : streams) {
      if (room <= got) break;
      got += take(s, room - got);
    }
    if (got == 0) {
      std::unique_lock lock(mutex_);
      wakeUp_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
}

} // namespace faasm::worker
