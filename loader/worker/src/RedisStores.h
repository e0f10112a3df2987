// The seams of Stores.h on Redis (faasm-worker --redis): what every worker of
// a cluster shares. Key layout (docs/Worker.md, "Across hosts"):
//   faasm:art:<key>         a sealed artefact's bytes (SET NX: one per key)
//   faasm:{<user>}:fn       hash function -> entry, the user's functions
//   faasm:call:<id>         hash u (user), st (queued|running), n (attempts
//                           started), err (the last attempt's error); expires
//   faasm:res:<id>          the final result (SET NX: written once); expires
//   faasm:hosts             sorted set host -> lease expiry (ms since epoch)
//   faasm:host:<host>       what the host publishes (free slots, warm
//                           functions), expiring with its lease (PX)
// The streams are Cluster.h's. User and function names are checkName()'s
// alphabet, which holds no '{', '}' or ':', so no name reaches another's key.
#pragma once

#include "RedisClient.h"
#include "faasm/worker/Stores.h"

#include <functional>
#include <map>
#include <set>

namespace faasm::worker {

struct RedisConfig {
  std::string host;
  uint16_t port = 6379;
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds lease{10000}; // membership and a taken call's claim
  unsigned maxAttempts = 3;
  std::unique_ptr<RedisClient> connect() const {
    return std::make_unique<RedisClient>(host, port, timeout);
  }
};

// Milliseconds since the epoch: deadlines and leases crossing hosts (whose
// steady clocks are unrelated) are wall-clock times; hosts keep NTP time.
int64_t wallMs();

// Artefacts in Redis, cached in the local store (where the executor loads
// them): find() fetches an artefact this host has not got.
std::unique_ptr<ArtefactStore> redisArtefactStore(const RedisConfig& config,
                                                  std::unique_ptr<ArtefactStore> local);
// Function tables in Redis; get() and list() copy what they read into the
// local table, which the executor reads. `changed` is called when get()
// finds an entry that differs from the local one (the executor must retire
// the function's zygote).
std::unique_ptr<FunctionTable>
redisFunctionTable(const RedisConfig& config, std::unique_ptr<FunctionTable> local,
                   std::function<void(const std::string&, const std::string&)> changed);

class RedisResultStore final : public ResultStore {
public:
  RedisResultStore(const RedisConfig& config, std::chrono::seconds ttl,
                   std::chrono::milliseconds longestCall);
  void created(const CallId& id, const std::string& user) override;
  void running(const CallId& id) override;
  bool complete(const CallId& id, CallStatus status) override;
  std::optional<CallStatus> get(const CallId& id, const std::string& user) override;
  void expire(Clock::time_point) override {}
  // Attempts started (running() counts them) and the last one's error.
  unsigned attempts(const CallId& id, std::string& lastError);
  void failedAttempt(const CallId& id, const std::string& error);
  // Whether the call has a final result (any user's).
  bool hasResult(const CallId& id);

private:
  std::unique_ptr<RedisClient> redis_;
  std::chrono::seconds ttl_;
  std::chrono::milliseconds longest_;
};

class RedisMembership final : public Membership {
public:
  struct Host {
    std::string name;
    int64_t free = 0;
    std::set<std::string> warm; // "user/function"
  };
  RedisMembership(const RedisConfig& config, std::string self);
  std::string self() const override { return self_; }
  std::vector<std::string> alive() override;
  void heartbeat() override;
  // What heartbeat() publishes next.
  void publish(int64_t free, std::set<std::string> warm);
  // The hosts alive and what they published (self included).
  std::vector<Host> hosts();

private:
  std::unique_ptr<RedisClient> redis_;
  std::string self_;
  std::chrono::milliseconds lease_;
  std::mutex mutex_;
  int64_t free_ = 0;
  std::set<std::string> warm_;
};

} // namespace faasm::worker
