#include "Json.h"

#include <cstdlib>

namespace faasm::spec {

const Json& Json::operator[](std::string_view key) const {
  static const Json kNull;
  for (const auto& [k, v] : members_)
    if (k == key) return v;
  return kNull;
}

bool Json::has(std::string_view key) const {
  for (const auto& [k, v] : members_)
    if (k == key) return true;
  return false;
}

std::string Json::str(std::string_view key, std::string fallback) const {
  const Json& v = (*this)[key];
  if (v.kind_ == Kind::String || v.kind_ == Kind::Number) return v.text_;
  return fallback;
}

long long Json::integer(std::string_view key, long long fallback) const {
  const Json& v = (*this)[key];
  if (v.kind_ != Kind::String && v.kind_ != Kind::Number) return fallback;
  return std::strtoll(v.text_.c_str(), nullptr, 10);
}

class JsonParser {
public:
  explicit JsonParser(std::string_view in) : in_(in) {}

  bool parseDocument(Json& out, std::string& outError) {
    if (!value(out, 0)) {
      outError = error_ + " at byte " + std::to_string(pos_);
      return false;
    }
    skipSpace();
    if (pos_ != in_.size()) {
      outError = "trailing characters at byte " + std::to_string(pos_);
      return false;
    }
    return true;
  }

private:
  // Deep nesting is bad input, not a reason to overflow the stack.
  static constexpr int kMaxDepth = 256;

  void skipSpace() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t'))
      ++pos_;
  }
  bool fail(const char* why) {
    error_ = why;
    return false;
  }
  bool literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return fail("unexpected token");
    pos_ += word.size();
    return true;
  }
  static void appendUtf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += char(cp);
    } else if (cp < 0x800) {
      s += char(0xc0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      s += char(0xe0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3f));
      s += char(0x80 | (cp & 0x3f));
    } else {
      s += char(0xf0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3f));
      s += char(0x80 | ((cp >> 6) & 0x3f));
      s += char(0x80 | (cp & 0x3f));
    }
  }
  bool hex4(uint32_t& out) {
    if (pos_ + 4 > in_.size()) return fail("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      char c = in_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= uint32_t(c - 'A' + 10);
      else
        return fail("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& out) {
    ++pos_; // opening quote
    while (true) {
      if (pos_ >= in_.size()) return fail("unterminated string");
      char c = in_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= in_.size()) return fail("unterminated escape");
      char e = in_[pos_++];
      switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp;
        if (!hex4(cp)) return false;
        if (cp >= 0xd800 && cp < 0xdc00 && in_.substr(pos_, 2) == "\\u") {
          pos_ += 2;
          uint32_t lo;
          if (!hex4(lo)) return false;
          if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        appendUtf8(out, cp);
        break;
      }
      default: return fail("bad escape");
      }
    }
  }
  bool value(Json& out, int depth) {
    if (depth > kMaxDepth) return fail("nesting too deep");
    skipSpace();
    if (pos_ >= in_.size()) return fail("unexpected end of input");
    char c = in_[pos_];
    if (c == '{') {
      out.kind_ = Json::Kind::Object;
      ++pos_;
      skipSpace();
      if (pos_ < in_.size() && in_[pos_] == '}') {
        ++pos_;
        return true;
      }
      while (true) {
        skipSpace();
        if (pos_ >= in_.size() || in_[pos_] != '"') return fail("expected a member name");
        std::string key;
        if (!string(key)) return false;
        skipSpace();
        if (pos_ >= in_.size() || in_[pos_] != ':') return fail("expected ':'");
        ++pos_;
        Json member;
        if (!value(member, depth + 1)) return false;
        out.members_.emplace_back(std::move(key), std::move(member));
        skipSpace();
        if (pos_ < in_.size() && in_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < in_.size() && in_[pos_] == '}') {
          ++pos_;
          return true;
        }
        return fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      out.kind_ = Json::Kind::Array;
      ++pos_;
      skipSpace();
      if (pos_ < in_.size() && in_[pos_] == ']') {
        ++pos_;
        return true;
      }
      while (true) {
        Json item;
        if (!value(item, depth + 1)) return false;
        out.items_.push_back(std::move(item));
        skipSpace();
        if (pos_ < in_.size() && in_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < in_.size() && in_[pos_] == ']') {
          ++pos_;
          return true;
        }
        return fail("expected ',' or ']'");
      }
    }
    if (c == '"') {
      out.kind_ = Json::Kind::String;
      return string(out.text_);
    }
    if (c == 't') {
      out.kind_ = Json::Kind::Bool;
      out.bool_ = true;
      return literal("true");
    }
    if (c == 'f') {
      out.kind_ = Json::Kind::Bool;
      return literal("false");
    }
    if (c == 'n') return literal("null");
    if (c == '-' || (c >= '0' && c <= '9')) {
      out.kind_ = Json::Kind::Number;
      size_t start = pos_++;
      while (pos_ < in_.size() &&
             (std::string_view("0123456789+-.eE").find(in_[pos_]) != std::string_view::npos))
        ++pos_;
      out.text_ = std::string(in_.substr(start, pos_ - start));
      return true;
    }
    return fail("unexpected character");
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

bool Json::parse(std::string_view input, Json& out, std::string& outError) {
  out = Json();
  return JsonParser(input).parseDocument(out, outError);
}

} // namespace faasm::spec
