// C++ sorting of records with the standard library (argv[1] = number of
// records): std::sort by (key, id), then std::stable_sort by a coarse bucket
// of the score, as a query's ORDER BY would. Check: std::is_sorted on the
// final order, stability within buckets, and the ids form a permutation.
#include "bench.h"

#include <algorithm>
#include <vector>

namespace {
struct Record {
  uint32_t key;
  uint32_t id;
  float score;
};
} // namespace

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1800000);
  std::vector<Record> records(n);
  BenchRng rng = {99};
  for (long i = 0; i < n; i++) {
    uint64_t r = benchNext(&rng);
    records[i] = Record{static_cast<uint32_t>(r >> 40), static_cast<uint32_t>(i),
                        static_cast<float>(r & 0xffff) / 65536.0f};
  }

  auto bucket = [](const Record& r) { return static_cast<int>(r.score * 64.0f); };
  benchStart();
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return a.key != b.key ? a.key < b.key : a.id < b.id;
  });
  std::stable_sort(records.begin(), records.end(),
                   [&](const Record& a, const Record& b) { return bucket(a) < bucket(b); });
  benchStop();

  bool ok = std::is_sorted(records.begin(), records.end(), [&](const Record& a, const Record& b) {
    if (bucket(a) != bucket(b)) return bucket(a) < bucket(b);
    return a.key != b.key ? a.key < b.key : a.id < b.id;
  });
  std::vector<bool> seen(n, false);
  uint64_t weighted = 0;
  for (long i = 0; i < n; i++) {
    uint32_t id = records[i].id;
    if (id >= static_cast<uint64_t>(n) || seen[id])
      ok = false;
    else
      seen[id] = true;
    weighted += benchMix(id) * static_cast<uint64_t>(i + 1);
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%016llx", static_cast<unsigned long long>(weighted));
  return benchFinish(checksum, ok, "records are not sorted, not stable, or not a permutation");
}
