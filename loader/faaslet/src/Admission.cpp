#include "Admission.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <sched.h>
#include <unistd.h>

namespace faasm::faaslet {

namespace {

uint32_t usableCpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return uint32_t(CPU_COUNT(&set));
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? uint32_t(n) : 1;
}

} // namespace

std::string formatBytes(uint64_t bytes) {
  static const char* const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
  int unit = 0;
  uint64_t scale = 1024;
  while (unit < 3 && bytes >= scale * 1024) {
    scale *= 1024;
    ++unit;
  }
  char text[48];
  if (bytes % scale == 0)
    std::snprintf(text, sizeof text, "%llu %s", (unsigned long long)(bytes / scale), units[unit]);
  else
    std::snprintf(text, sizeof text, "%.1f %s", double(bytes) / double(scale), units[unit]);
  return text;
}

SchedulerLimits SchedulerLimits::resolved() const {
  SchedulerLimits r = *this;
  uint32_t cpus = usableCpus();
  if (!r.runningPerHost) r.runningPerHost = 2 * cpus;
  if (!r.runningPerTree) r.runningPerTree = r.runningPerHost;
  if (!r.alivePerHost) r.alivePerHost = std::max(32u, 16 * cpus);
  if (!r.alivePerTree) r.alivePerTree = std::min(r.alivePerHost, std::max(16u, 8 * cpus));
  return r;
}

std::string SchedulerLimits::problem() const {
  SchedulerLimits r = resolved();
  if (r.bytesPerTree == 0 || r.bytesPerHost == 0) return "a byte budget of 0 admits no call";
  if (r.chainTimeout.count() <= 0) return "the chained-call timeout must be positive";
  if (r.runningPerTree > r.runningPerHost)
    return "running Faaslets per call tree (" + std::to_string(r.runningPerTree) +
           ") above the host's (" + std::to_string(r.runningPerHost) + ")";
  if (r.alivePerTree > r.alivePerHost)
    return "alive Faaslets per call tree (" + std::to_string(r.alivePerTree) +
           ") above the host's (" + std::to_string(r.alivePerHost) + ")";
  if (r.bytesPerTree > r.bytesPerHost)
    return "bytes per call tree (" + formatBytes(r.bytesPerTree) + ") above the host's (" +
           formatBytes(r.bytesPerHost) + ")";
  return {};
}

Admission::Admission(const SchedulerLimits& limits) : limits_(limits) {
  assert(limits_.runningPerHost && limits_.runningPerTree && limits_.alivePerHost &&
         limits_.alivePerTree);
}

void Admission::addTree(TreeId tree) {
  trees_[tree];
}

void Admission::removeTree(TreeId tree) {
  auto it = trees_.find(tree);
  if (it == trees_.end()) return;
  assert(it->second.counts.alive == 0 && it->second.queued.empty() && it->second.counts.bytes == 0);
  trees_.erase(it);
}

void Admission::enqueue(TreeId tree, CallId call) {
  TreeState& t = trees_[tree];
  if (!t.queued.insert(call).second) return;
  t.order.push_back(call);
  ++t.counts.queued;
  ++host_.queued;
}

void Admission::awaited(TreeId tree, CallId call) {
  TreeState& t = trees_[tree];
  if (t.queued.count(call)) t.awaitedOrder.push_back(call);
}

void Admission::dequeue(TreeId tree, CallId call) {
  TreeState& t = trees_[tree];
  if (!t.queued.erase(call)) return;
  --t.counts.queued;
  --host_.queued;
}

void Admission::wait(TreeId tree) {
  TreeState& t = trees_[tree];
  assert(t.counts.running > 0 && host_.running > 0);
  --t.counts.running;
  --host_.running;
}

void Admission::wantResume(TreeId tree, CallId call) {
  TreeState& t = trees_[tree];
  ++t.counts.resuming;
  ++host_.resuming;
  resumes_.emplace_back(tree, call);
}

void Admission::gone(TreeId tree, CallId call, Slot slot) {
  TreeState& t = trees_[tree];
  switch (slot) {
  case Slot::Running:
    --t.counts.running;
    --host_.running;
    break;
  case Slot::Resuming: {
    auto it = std::find(resumes_.begin(), resumes_.end(), std::make_pair(tree, call));
    if (it != resumes_.end()) resumes_.erase(it);
    --t.counts.resuming;
    --host_.resuming;
    break;
  }
  case Slot::Waiting: break;
  default: return; // never alive
  }
  --t.counts.alive;
  --host_.alive;
}

bool Admission::mayStart(const TreeState& t) const {
  return !t.queued.empty() && t.counts.alive < limits_.alivePerTree &&
         t.counts.running < limits_.runningPerTree;
}

std::optional<Admission::CallId> Admission::pop(TreeState& t, bool awaitedOnly) {
  for (std::deque<CallId>* order : {&t.awaitedOrder, &t.order}) {
    if (awaitedOnly && order == &t.order) break;
    while (!order->empty()) {
      CallId c = order->front();
      order->pop_front();
      if (t.queued.erase(c)) return c;
    }
  }
  return std::nullopt;
}

std::optional<Admission::Next> Admission::next() {
  for (auto it = resumes_.begin(); it != resumes_.end(); ++it) {
    if (host_.running >= limits_.runningPerHost) break;
    TreeState& t = trees_[it->first];
    if (t.counts.running >= limits_.runningPerTree) continue;
    Next n{true, it->first, it->second};
    resumes_.erase(it);
    --t.counts.resuming;
    --host_.resuming;
    ++t.counts.running;
    ++host_.running;
    return n;
  }
  if (host_.running >= limits_.runningPerHost || host_.alive >= limits_.alivePerHost ||
      host_.queued == 0)
    return std::nullopt;
  // Trees take turns: the first one after the tree that started last.
  auto from = trees_.upper_bound(lastStarted_);
  for (size_t i = 0; i < trees_.size(); ++i, ++from) {
    if (from == trees_.end()) from = trees_.begin();
    TreeState& t = from->second;
    if (!mayStart(t)) continue;
    std::optional<CallId> c = pop(t, false);
    if (!c) continue;
    --t.counts.queued;
    --host_.queued;
    ++t.counts.running;
    ++t.counts.alive;
    ++host_.running;
    ++host_.alive;
    lastStarted_ = from->first;
    return Next{false, from->first, *c};
  }
  return std::nullopt;
}

std::optional<Admission::Next> Admission::deadlocked() {
  // A tree at its own alive cap whose every Faaslet waits: only its own
  // Faaslets could free one of its slots.
  for (auto& [id, t] : trees_) {
    if (t.queued.empty() || t.counts.running || t.counts.resuming ||
        t.counts.alive < limits_.alivePerTree)
      continue;
    if (std::optional<CallId> c = pop(t, true)) {
      --t.counts.queued;
      --host_.queued;
      return Next{false, id, *c};
    }
  }
  // The host at its alive cap with every Faaslet waiting: the tree with the
  // most Faaslets gives way.
  if (host_.queued == 0 || host_.running || host_.resuming || host_.alive < limits_.alivePerHost)
    return std::nullopt;
  std::vector<std::pair<uint32_t, TreeId>> bySize;
  for (auto& [id, t] : trees_)
    if (!t.awaitedOrder.empty()) bySize.emplace_back(t.counts.alive, id);
  std::sort(bySize.begin(), bySize.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (auto& [alive, id] : bySize) {
    TreeState& t = trees_[id];
    if (std::optional<CallId> c = pop(t, true)) {
      --t.counts.queued;
      --host_.queued;
      return Next{false, id, *c};
    }
  }
  return std::nullopt;
}

std::string Admission::charge(TreeId tree, uint64_t bytes, std::string_view what) {
  TreeState& t = trees_[tree];
  std::string w(what);
  if (bytes > limits_.bytesPerTree)
    return w + " exceeds the " + formatBytes(limits_.bytesPerTree) + " limit per call tree";
  if (t.counts.bytes + bytes > limits_.bytesPerTree)
    return w + " exceeds the " + formatBytes(limits_.bytesPerTree) +
           " limit per call tree, of which the tree holds " + formatBytes(t.counts.bytes);
  if (host_.bytes + bytes > limits_.bytesPerHost)
    return w + " exceeds the " + formatBytes(limits_.bytesPerHost) +
           " limit of this host, of which its calls hold " + formatBytes(host_.bytes);
  t.counts.bytes += bytes;
  host_.bytes += bytes;
  return {};
}

void Admission::refund(TreeId tree, uint64_t bytes) {
  TreeState& t = trees_[tree];
  assert(t.counts.bytes >= bytes && host_.bytes >= bytes);
  t.counts.bytes -= bytes;
  host_.bytes -= bytes;
}

Admission::Counts Admission::tree(TreeId tree) const {
  auto it = trees_.find(tree);
  return it == trees_.end() ? Counts{} : it->second.counts;
}

} // namespace faasm::faaslet
