#include "TextStats.h"

#include <algorithm>
#include <cctype>

TextStats::TextStats(const std::string& text) {
  std::string word;
  for (char c : text + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      words_.push_back(word);
      counts_[word]++;
      word.clear();
    }
  }
}

std::vector<std::pair<std::string, int>> TextStats::mostFrequent(size_t n) const {
  std::vector<std::pair<std::string, int>> all(counts_.begin(), counts_.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  all.resize(std::min(n, all.size()));
  return all;
}
