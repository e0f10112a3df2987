// The scheduler's capacity bookkeeping, apart from processes and sockets so
// that it can be tested alone: which queued call starts next, which waiting
// Faaslet gets a running slot back, which queued call must be refused
// because nothing could ever start it, and the bytes each call tree holds.
//
// Subtle, because it is what keeps a hostile call tree from exhausting the
// host without deadlocking an honest one. The rules (docs/Faaslets.md,
// "Limits"):
// - A Faaslet is Running (computing, or blocked in a request the scheduler
//   answers at once), Waiting (blocked in an await of an unfinished call) or
//   Resuming (its await is answered, it waits for a running slot to go on).
//   Every one counts as alive; only Running ones count as running.
// - A queued call starts when its tree and the host are below both their
//   running and alive caps. Resuming Faaslets go first (they hold memory
//   already), then queued calls somebody waits for, then the others; trees
//   take turns.
// - A waiting caller holds no running slot, so a tree that only waits for
//   its queued children still makes progress; it does hold an alive slot,
//   because its process and memory are still there. When every alive
//   Faaslet of a tree at its alive cap (or of a host at its cap) waits,
//   nothing can ever free a slot: deadlocked() names a queued call that one
//   of them waits for, and the scheduler refuses it, so that its caller
//   goes on with an error instead of hanging.
#pragma once

#include "faasm/faaslet/Scheduler.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

namespace faasm::faaslet {

// "64 MiB", "1.1 GiB", "300 bytes": for messages.
std::string formatBytes(uint64_t bytes);

class Admission {
public:
  using TreeId = uint64_t;
  using CallId = uint32_t;

  // A Faaslet's place in the bookkeeping.
  enum class Slot { None, Running, Waiting, Resuming, Gone };

  struct Next {
    bool resume = false; // true: a Resuming Faaslet goes on; false: a queued call starts
    TreeId tree = 0;
    CallId call = 0;
  };

  struct Counts {
    uint32_t running = 0, alive = 0, resuming = 0, queued = 0;
    uint64_t bytes = 0;
  };

  // `limits` as resolved() returns them.
  explicit Admission(const SchedulerLimits& limits);
  const SchedulerLimits& limits() const { return limits_; }

  void addTree(TreeId tree);
  // Once no call of the tree is queued or alive and it holds no byte.
  void removeTree(TreeId tree);

  void enqueue(TreeId tree, CallId call);
  // A queued call somebody waits for: it starts before its tree's others.
  void awaited(TreeId tree, CallId call);
  // A queued call ended without starting (timed out, refused).
  void dequeue(TreeId tree, CallId call);

  // A Running Faaslet blocks in an await: it gives its running slot up.
  void wait(TreeId tree);
  // A Waiting Faaslet's await is answered: it needs a running slot again.
  void wantResume(TreeId tree, CallId call);
  // A Faaslet ended in `slot` (Running, Waiting or Resuming).
  void gone(TreeId tree, CallId call, Slot slot);

  // What may go now, already counted (a start as Running and alive, a
  // resume as Running); none when the caps allow nothing.
  std::optional<Next> next();
  // After next() has nothing: a queued call that can never start because
  // every alive Faaslet of its tree, or of the host, waits; the scheduler
  // must refuse it (dequeue). None if there is no such deadlock.
  std::optional<Next> deadlocked();

  // Charges `bytes` to the tree (and the host), or leaves everything as it
  // was and returns one line: "<what> exceeds the 64 MiB limit per call
  // tree" (`what`: "output of 1.1 GiB").
  std::string charge(TreeId tree, uint64_t bytes, std::string_view what);
  void refund(TreeId tree, uint64_t bytes);

  Counts tree(TreeId tree) const;
  Counts host() const { return host_; }

private:
  struct TreeState {
    Counts counts;
    std::unordered_set<CallId> queued; // the queued calls; the deques may hold stale ids
    std::deque<CallId> awaitedOrder, order;
  };
  std::optional<CallId> pop(TreeState& t, bool awaitedOnly);
  bool mayStart(const TreeState& t) const;

  SchedulerLimits limits_;
  Counts host_;
  std::map<TreeId, TreeState> trees_;
  std::deque<std::pair<TreeId, CallId>> resumes_;
  TreeId lastStarted_ = 0; // trees take turns from the one after it
};

} // namespace faasm::faaslet
