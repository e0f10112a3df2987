// Call inputs of the form "key=value key=value ...": what the ML functions
// take and what sgd-main passes to the workers it chains.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace ml {

class Params {
public:
  explicit Params(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t'))
        ++i;
      size_t end = text.find_first_of(" \n\t", i);
      if (end == std::string_view::npos) end = text.size();
      std::string_view item = text.substr(i, end - i);
      size_t eq = item.find('=');
      if (!item.empty()) {
        if (eq == std::string_view::npos) {
          bad_ = "input: \"" + std::string(item) + "\" is not key=value";
        } else {
          values_[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
        }
      }
      i = end;
    }
  }

  // "" or one line saying what is wrong with the input.
  const std::string& error() const { return bad_; }

  double number(const std::string& key, double fallback) {
    auto it = values_.find(key);
    if (it == values_.end()) return fallback;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str() || *end) bad_ = "input: " + key + " is not a number";
    return v;
  }

  std::string text(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }

private:
  std::map<std::string, std::string> values_;
  std::string bad_;
};

} // namespace ml
