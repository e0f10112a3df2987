#pragma once

#include <map>
#include <string>
#include <vector>

// Word statistics of a text, split on anything that is not a letter.
class TextStats {
public:
  explicit TextStats(const std::string& text);

  size_t wordCount() const { return words_.size(); }
  // The n most frequent words, ties broken alphabetically.
  std::vector<std::pair<std::string, int>> mostFrequent(size_t n) const;

private:
  std::vector<std::string> words_;
  std::map<std::string, int> counts_;
};
