// The scheduler's capacity bookkeeping (loader/faaslet/src/Admission.h):
// caps and queueing, slots lent by waiting callers, deadlocks refused,
// byte budgets. The scheduler's use of it is tested end to end in
// tests/escape/scheduler.
#include "Admission.h"

#include <doctest/doctest.h>

using namespace faasm::faaslet;
using Slot = Admission::Slot;

namespace {

SchedulerLimits limits(uint32_t running, uint32_t alive, uint32_t hostRunning = 100,
                       uint32_t hostAlive = 100) {
  SchedulerLimits l;
  l.runningPerTree = running;
  l.alivePerTree = alive;
  l.runningPerHost = hostRunning;
  l.alivePerHost = hostAlive;
  l.bytesPerTree = 10 << 20;
  l.bytesPerHost = 15 << 20;
  return l;
}

// Starts what next() allows and returns the calls started, in order.
std::vector<uint32_t> startAll(Admission& a) {
  std::vector<uint32_t> started;
  while (auto n = a.next()) {
    REQUIRE_FALSE(n->resume);
    started.push_back(n->call);
  }
  return started;
}

} // namespace

TEST_CASE("calls beyond the running cap wait in the queue and start as slots free") {
  Admission a(limits(2, 10));
  a.addTree(1);
  for (uint32_t c = 1; c <= 5; ++c)
    a.enqueue(1, c);
  CHECK(startAll(a) == std::vector<uint32_t>{1, 2});
  CHECK(a.tree(1).running == 2);
  CHECK(a.tree(1).queued == 3);
  a.gone(1, 1, Slot::Running);
  CHECK(startAll(a) == std::vector<uint32_t>{3});
  a.gone(1, 2, Slot::Running);
  a.gone(1, 3, Slot::Running);
  CHECK(startAll(a) == std::vector<uint32_t>{4, 5});
  CHECK(a.host().alive == 2);
}

TEST_CASE("a waiting caller lends its running slot and takes one back before new calls") {
  Admission a(limits(1, 10));
  a.addTree(1);
  a.enqueue(1, 1); // the root
  CHECK(startAll(a) == std::vector<uint32_t>{1});
  a.enqueue(1, 2); // chained by the root: no running slot for it
  a.enqueue(1, 3);
  CHECK_FALSE(a.next());
  a.wait(1); // the root awaits call 2
  a.awaited(1, 2);
  CHECK(startAll(a) == std::vector<uint32_t>{2});
  CHECK(a.tree(1).alive == 2);
  CHECK(a.tree(1).running == 1);
  // Call 2 ends: the root's await is answered; it goes on before call 3 starts.
  a.gone(1, 2, Slot::Running);
  a.wantResume(1, 1);
  auto n = a.next();
  REQUIRE(n);
  CHECK(n->resume);
  CHECK(n->call == 1);
  CHECK_FALSE(a.next()); // the root holds the one running slot again
  a.gone(1, 1, Slot::Running);
  CHECK(startAll(a) == std::vector<uint32_t>{3});
}

TEST_CASE("queued calls somebody waits for start first") {
  Admission a(limits(1, 10));
  a.addTree(1);
  a.enqueue(1, 1);
  CHECK(startAll(a) == std::vector<uint32_t>{1});
  for (uint32_t c = 2; c <= 5; ++c)
    a.enqueue(1, c);
  a.wait(1);
  a.awaited(1, 4);
  CHECK(startAll(a) == std::vector<uint32_t>{4});
  a.gone(1, 4, Slot::Running);
  CHECK(startAll(a) == std::vector<uint32_t>{2}); // then the order they were chained in
}

TEST_CASE("trees take turns at the host's running slots") {
  Admission a(limits(4, 10, 2, 100));
  a.addTree(1);
  a.addTree(2);
  for (uint32_t c = 1; c <= 4; ++c)
    a.enqueue(1, c);
  for (uint32_t c = 11; c <= 14; ++c)
    a.enqueue(2, c);
  std::vector<uint32_t> order;
  for (int i = 0; i < 4; ++i) {
    std::vector<uint32_t> s = startAll(a);
    REQUIRE(s.size() >= 1);
    for (uint32_t c : s) {
      order.push_back(c);
      a.gone(c < 10 ? 1 : 2, c, Slot::Running);
    }
  }
  CHECK(order == std::vector<uint32_t>{1, 11, 2, 12, 3, 13, 4, 14});
}

TEST_CASE("a tree whose every alive Faaslet waits at its alive cap gives up a queued call") {
  // Recursion: each call chains one and awaits it. Three may be alive.
  Admission a(limits(1, 3));
  a.addTree(1);
  for (uint32_t c = 1; c <= 3; ++c) {
    a.enqueue(1, c);
    CHECK(startAll(a) == std::vector<uint32_t>{c});
    CHECK_FALSE(a.deadlocked());
    a.wait(1);
    a.awaited(1, c + 1);
  }
  a.enqueue(1, 4);
  a.awaited(1, 4);
  CHECK_FALSE(a.next()); // three alive: none may start
  auto d = a.deadlocked();
  REQUIRE(d);
  CHECK(d->call == 4);
  CHECK(a.tree(1).queued == 0);
  CHECK_FALSE(a.deadlocked());
  // Refused, call 3's await is answered and it goes on.
  a.wantResume(1, 3);
  auto n = a.next();
  REQUIRE(n);
  CHECK(n->resume);
}

TEST_CASE("no deadlock while a Faaslet of the tree still runs") {
  Admission a(limits(2, 2));
  a.addTree(1);
  a.enqueue(1, 1);
  a.enqueue(1, 2);
  CHECK(startAll(a).size() == 2);
  a.enqueue(1, 3);
  a.wait(1); // call 1 waits for call 3; call 2 still computes
  a.awaited(1, 3);
  CHECK_FALSE(a.next());
  CHECK_FALSE(a.deadlocked());
  a.gone(1, 2, Slot::Running);
  CHECK(startAll(a) == std::vector<uint32_t>{3});
}

TEST_CASE("a host whose every alive Faaslet waits refuses a call of its largest tree") {
  Admission a(limits(10, 10, 10, 5));
  a.addTree(1);
  a.addTree(2);
  // Tree 1: three alive, tree 2: two; every one waits for a queued call.
  uint32_t next = 1;
  for (uint64_t tree : {1, 1, 1, 2, 2}) {
    a.enqueue(tree, next);
    CHECK(startAll(a) == std::vector<uint32_t>{next});
    ++next;
  }
  for (uint64_t tree : {1, 1, 1, 2, 2})
    a.wait(tree);
  a.enqueue(2, 20);
  a.awaited(2, 20);
  a.enqueue(1, 10);
  a.awaited(1, 10);
  CHECK_FALSE(a.next());
  auto d = a.deadlocked();
  REQUIRE(d);
  CHECK(d->tree == 1);
  CHECK(d->call == 10);
}

TEST_CASE("a Faaslet that ends while it waits for a running slot leaves the resume queue") {
  Admission a(limits(1, 10));
  a.addTree(1);
  a.enqueue(1, 1);
  a.enqueue(1, 2);
  CHECK(startAll(a) == std::vector<uint32_t>{1});
  a.wait(1);
  a.awaited(1, 2);
  CHECK(startAll(a) == std::vector<uint32_t>{2});
  a.wantResume(1, 1); // answered while call 2 still runs
  CHECK_FALSE(a.next());
  a.gone(1, 1, Slot::Resuming); // killed (its timeout) meanwhile
  CHECK(a.tree(1).resuming == 0);
  a.gone(1, 2, Slot::Running);
  CHECK_FALSE(a.next());
  CHECK(a.host().alive == 0);
  a.removeTree(1);
}

TEST_CASE("bytes are charged within the tree's and the host's budgets, or refused") {
  Admission a(limits(1, 1));
  a.addTree(1);
  a.addTree(2);
  CHECK(a.charge(1, 11 << 20, "output of 11 MiB") ==
        "output of 11 MiB exceeds the 10 MiB limit per call tree");
  CHECK(a.charge(1, 8 << 20, "x").empty());
  CHECK(a.charge(1, 3 << 20, "output of 3 MiB") ==
        "output of 3 MiB exceeds the 10 MiB limit per call tree, of which the tree holds 8 MiB");
  CHECK(a.tree(1).bytes == 8u << 20);
  CHECK(a.charge(2, 8 << 20, "output of 8 MiB") ==
        "output of 8 MiB exceeds the 15 MiB limit of this host, of which its calls hold 8 MiB");
  a.refund(1, 8 << 20);
  CHECK(a.charge(2, 8 << 20, "x").empty());
  CHECK(a.host().bytes == 8u << 20);
}

TEST_CASE("sizes in messages") {
  CHECK(formatBytes(0) == "0 bytes");
  CHECK(formatBytes(1) == "1 byte");
  CHECK(formatBytes(1023) == "1023 bytes");
  CHECK(formatBytes(1024) == "1 KiB");
  CHECK(formatBytes(64u << 20) == "64 MiB");
  CHECK(formatBytes(uint64_t(1.1 * (1 << 30))) == "1.1 GiB");
  CHECK(formatBytes((100u << 20) + 1) == "100.0 MiB");
}

TEST_CASE("limits: defaults for this host, and settings that cannot work") {
  SchedulerLimits l = SchedulerLimits{}.resolved();
  CHECK(l.runningPerHost >= 2);
  CHECK(l.runningPerTree == l.runningPerHost);
  CHECK(l.alivePerTree >= 16);
  CHECK(l.alivePerHost >= l.alivePerTree);
  CHECK(SchedulerLimits{}.problem().empty());
  SchedulerLimits bad;
  bad.runningPerTree = 8;
  bad.runningPerHost = 4;
  CHECK(bad.problem() == "running Faaslets per call tree (8) above the host's (4)");
  bad = {};
  bad.bytesPerTree = 0;
  CHECK(bad.problem() == "a byte budget of 0 admits no call");
}
