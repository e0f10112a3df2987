// The worker's seams: where artefacts, function tables, calls and results
// live, and which hosts are alive. Each is an interface with one local
// implementation (one host, no Redis: everything on the worker's own
// directory and memory). The global tier implements the same interfaces
// later: artefacts and function tables in Redis, calls on a Redis Stream
// read through a consumer group (a call a dead worker took is claimed by
// another), results in Redis with an expiry, membership by a heartbeat
// lease. Nothing here says how a call runs: that is the executor's.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace faasm::worker {

using Clock = std::chrono::steady_clock;

// A call's id: 128 random bits (getrandom), written as 32 hex digits. The id
// is a name, not a credential: reading a call also needs its user.
struct CallId {
  std::array<uint8_t, 16> bytes{};
  static CallId random();
  static std::optional<CallId> parse(std::string_view hex);
  std::string hex() const;
  auto operator<=>(const CallId&) const = default;
};

// Compiled artefacts by key (the hex SHA-256 of what they were compiled
// from and how: CompileCache.h).
class ArtefactStore {
public:
  virtual ~ArtefactStore() = default;
  // A local file holding the artefact, or empty if it is not stored.
  virtual std::string find(const std::string& key) = 0;
  // Takes the file at `path` (on scratchDir()'s file system) as the
  // artefact of `key`. Empty, or one line saying why not.
  virtual std::string put(const std::string& key, const std::string& path) = 0;
  // Where compiles write before put().
  virtual std::string scratchDir() const = 0;
};

// Each user's functions: name -> the artefact and the module it came from.
class FunctionTable {
public:
  struct Entry {
    std::string artefact;   // ArtefactStore key
    std::string wasmSha256; // hex, of the uploaded bytes
    uint64_t wasmBytes = 0;
  };
  virtual ~FunctionTable() = default;
  virtual std::optional<Entry> get(const std::string& user, const std::string& function) = 0;
  // Empty, or one line saying why not.
  virtual std::string set(const std::string& user, const std::string& function,
                          const Entry& entry) = 0;
  virtual std::vector<std::pair<std::string, Entry>> list(const std::string& user) = 0;
};

// What a client asked to run.
struct CallRequest {
  CallId id;
  std::string user;
  std::string function;
  std::vector<uint8_t> input;
  Clock::time_point accepted;
  Clock::time_point deadline; // queued and running together
};

enum class CallState { Queued, Running, Done, Failed, TimedOut };
const char* callStateName(CallState s);

// What a client can read of a call.
struct CallStatus {
  CallState state = CallState::Queued;
  int32_t returnCode = 0;      // Done and Failed: as faasm-run's exit status
  std::vector<uint8_t> output; // what the function passed to faasmSetOutput
  std::string error;           // Failed and TimedOut: one line
  bool final() const { return state != CallState::Queued && state != CallState::Running; }
};

// Calls accepted and not yet taken by an executor. Bounded: submit refuses
// past its bounds (the host's queue, a user's share of it).
class CallQueue {
public:
  struct Refusal {
    int httpStatus = 0; // 0: accepted; 429 the user's share; 503 the host's queue
    std::string message;
  };
  virtual ~CallQueue() = default;
  virtual Refusal submit(CallRequest request) = 0;
  // The next call for an executor with room, fairly across users, or none.
  virtual std::optional<CallRequest> take() = 0;
  // The executor is done with a call `take` gave (a result is stored): the
  // user's share counts it no longer.
  virtual void done(const CallRequest& request) = 0;
  // Removes and returns queued calls whose deadline has passed.
  virtual std::vector<CallRequest> expire(Clock::time_point now) = 0;
  virtual size_t depth() const = 0;
};

// Results by call id: each written once, readable by its user only, kept
// until an expiry after it is final.
class ResultStore {
public:
  virtual ~ResultStore() = default;
  virtual void created(const CallId& id, const std::string& user) = 0;
  virtual void running(const CallId& id) = 0;
  // Stores the final status; false (and nothing changes) if the call
  // already had one or is unknown.
  virtual bool complete(const CallId& id, CallStatus status) = 0;
  // The status as `user` may see it: none for an unknown or expired call,
  // or one of another user (the two are not told apart).
  virtual std::optional<CallStatus> get(const CallId& id, const std::string& user) = 0;
  virtual void expire(Clock::time_point now) = 0;
};

// The hosts serving calls, each holding a lease it renews.
class Membership {
public:
  virtual ~Membership() = default;
  virtual std::string self() const = 0;
  virtual std::vector<std::string> alive() = 0;
  virtual void heartbeat() = 0;
};

// The local implementations.
std::unique_ptr<ArtefactStore> localArtefactStore(const std::string& directory);
std::unique_ptr<FunctionTable> localFunctionTable(const std::string& directory);
struct QueueLimits {
  size_t queued = 64; // calls waiting, over all users
  size_t perUser = 0; // calls queued or running of one user; 0: no share
  size_t running = 4; // calls take() hands out before done()
};
std::unique_ptr<CallQueue> localCallQueue(QueueLimits limits);
struct ResultLimits {
  std::chrono::seconds ttl{600};        // how long a final result stays
  uint64_t bytes = uint64_t(256) << 20; // outputs kept, over all calls (oldest go first)
  size_t calls = 100000;                // records kept
};
std::unique_ptr<ResultStore> localResultStore(ResultLimits limits);
std::unique_ptr<Membership> localMembership();

// A user or function name the worker accepts: 1..64 of [A-Za-z0-9_.-], not
// starting with '.'; one line saying why not, or empty.
std::string checkName(const std::string& what, const std::string& name);

} // namespace faasm::worker
