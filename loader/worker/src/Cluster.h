// Calls across hosts on Redis Streams (faasm-worker --redis).
//
// ---------------------------------------------------------------------------
// Subtle: this is where "no call lost, none visibly run twice" holds across
// hosts. Every accepted call is an entry of a stream before the client is
// answered: faasm:q:<host> (the host it was placed on) or faasm:q:any (no
// host had room: whichever frees a slot first takes it), all read through
// the consumer group "faasm", so each entry is delivered to one worker at a
// time. A worker holds an entry (pending, its consumer's) while the call is
// queued or running here, and renews its claim every lease/3 (XCLAIM to
// itself, only while it is still the owner); an entry whose owner stopped
// renewing (a dead worker) or released it (a failed attempt) is idle past
// the lease and taken over by any worker's XAUTOCLAIM. Before running an
// entry a worker checks: a result exists (it ran; ack it), its attempts
// reached the cap (dead-letter it: the client sees one clear error), its
// deadline passed (time it out). The result is written once (SET NX) before
// the entry is acked (XACK + XDEL), so a worker dying between the two only
// causes a re-check, and two runs of a call (a stalled owner that lost its
// claim) show the client one result: the first.
// ---------------------------------------------------------------------------
#pragma once

#include "RedisStores.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <thread>

namespace faasm::worker {

struct ClusterLimits {
  size_t capacity = 4;   // calls this host holds at once (queued here or running)
  size_t maxQueued = 64; // calls waiting in the shared stream per live host
  std::chrono::milliseconds queueTimeout{30'000}, callTimeout{60'000};
};

class Cluster {
public:
  struct Hooks {
    // Into the local queue (fairness between users, the executor's slots).
    std::function<CallQueue::Refusal(CallRequest)> enqueue;
    // Ends a call this host took without running it (dead-lettered, timed
    // out, no such function): stores the result and answers waiters.
    std::function<void(const CallId&, CallStatus)> finish;
  };
  Cluster(const RedisConfig& config, ClusterLimits limits, RedisMembership& membership,
          RedisResultStore& results, FunctionTable& table, ArtefactStore& artefacts, Hooks hooks);
  ~Cluster();

  // The whole time a call may take, attempts and claims included.
  std::chrono::milliseconds longestCall() const;
  // Places an accepted call on a stream (HTTP threads), due by its
  // deadline. `elsewhere`: not on this host's own stream (a chained call
  // this host has no slot for).
  CallQueue::Refusal submit(const CallRequest& call, bool elsewhere = false);
  // The executor ended an attempt of a call this host took. True: the
  // status (possibly rewritten as dead-lettered) is final; store it, then
  // call acked(). False: the attempt failed and the call is released for
  // another.
  bool settle(const CallId& id, CallStatus& status);
  void acked(const CallId& id);
  // A call of user/function ran here (published as warm).
  void ran(const std::string& user, const std::string& function);

  void start();
  void stop();

private:
  struct Held {
    std::string stream, entry;
  };
  void intake();
  void beat();
  size_t take(const std::string& stream, size_t room);
  void admit(const std::string& stream, const std::string& entry, const std::string& payload,
             bool reclaimed);
  void ack(const std::string& stream, const std::string& entry);
  std::string streamOf(const std::string& host) const { return "faasm:q:" + host; }

  RedisConfig config_;
  ClusterLimits limits_;
  RedisMembership& membership_;
  RedisResultStore& results_;
  FunctionTable& table_;
  ArtefactStore& artefacts_;
  Hooks hooks_;
  std::unique_ptr<RedisClient> in_, out_; // intake thread; submit and settle
  std::string self_, own_;

  std::mutex mutex_;
  std::map<CallId, Held> held_;
  std::vector<RedisMembership::Host> hosts_; // at the last beat, free counts spent since
  std::vector<std::string> streams_;         // every stream to read or reclaim from
  std::set<std::string> dead_;               // streams of hosts whose lease ended
  std::set<std::string> warm_;
  int64_t selfFree_ = 0;
  std::set<std::string> groups_; // streams whose group this worker made sure of

  std::atomic<bool> stopping_{false};
  std::condition_variable wakeUp_;
  std::thread thread_;
  int64_t nextBeat_ = 0;
};

} // namespace faasm::worker
