// Word frequencies of a generated text with the C++ standard library
// (argv[1] = thousands of words): tokenise on non-letters, lower-case,
// count in std::unordered_map<std::string, int>, then the 20 most frequent
// by std::partial_sort. Check: every vocabulary word's count equals the
// generator's tally, and the map holds exactly the words used.
#include "bench.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
  long words = benchSize(argc, argv, 2400) * 1000;
  BenchRng rng = {555};
  std::vector<std::string> vocabulary;
  std::unordered_set<std::string> unique;
  while (vocabulary.size() < 20000) {
    std::string w;
    size_t length = 2 + benchNext(&rng) % 10;
    for (size_t i = 0; i < length; i++)
      w.push_back(static_cast<char>('a' + benchNext(&rng) % 26));
    if (unique.insert(w).second) vocabulary.push_back(w);
  }
  std::vector<long> tally(vocabulary.size(), 0);
  std::string text;
  static const char separators[] = {' ', ' ', ' ', ',', '.', '\n', ';', '(', ')', '"'};
  for (long i = 0; i < words; i++) {
    // Zipf-like: small indices are far more frequent.
    double u = benchUniform(&rng);
    size_t index = static_cast<size_t>(u * u * u * static_cast<double>(vocabulary.size()));
    tally[index]++;
    const std::string& w = vocabulary[index];
    bool capital = benchNext(&rng) % 8 == 0;
    for (size_t k = 0; k < w.size(); k++)
      text.push_back(capital && k == 0 ? static_cast<char>(w[k] - 32) : w[k]);
    text.push_back(separators[benchNext(&rng) % 10]);
  }

  benchStart();
  std::unordered_map<std::string, long> counts;
  std::string word;
  for (char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word.push_back(static_cast<char>(c | 0x20));
    } else if (!word.empty()) {
      counts[word]++;
      word.clear();
    }
  }
  if (!word.empty()) counts[word]++;
  std::vector<std::pair<std::string, long>> top(counts.begin(), counts.end());
  size_t keep = std::min<size_t>(20, top.size());
  std::partial_sort(top.begin(), top.begin() + keep, top.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  top.resize(keep);
  benchStop();

  bool ok = true;
  size_t used = 0;
  for (size_t i = 0; i < vocabulary.size(); i++) {
    if (tally[i] == 0) continue;
    used++;
    auto it = counts.find(vocabulary[i]);
    if (it == counts.end() || it->second != tally[i]) ok = false;
  }
  if (counts.size() != used) ok = false;
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const auto& [w, n] : top) {
    for (char c : w)
      hash = (hash ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
    hash = (hash ^ static_cast<uint64_t>(n)) * 0x100000001b3ULL;
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%zu/%016llx", counts.size(),
           static_cast<unsigned long long>(hash));
  return benchFinish(checksum, ok, "word counts differ from the generator's tally");
}
