#include "TextStats.h"

#include <cmath>
#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  std::string text =
      "It was the best of times, it was the worst of times, it was the age of wisdom, "
      "it was the age of foolishness, it was the epoch of belief.";
  for (int i = 1; i < argc; i++) {
    text += std::string(" ") + argv[i];
  }
  TextStats stats(text);
  std::cout << stats.wordCount() << " words, sqrt " << std::sqrt(double(stats.wordCount())) << "\n";
  for (const auto& [word, count] : stats.mostFrequent(5)) {
    std::printf("%-8s %d\n", word.c_str(), count);
  }
  return 0;
}
