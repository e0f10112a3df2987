// A minimal JSON reader, enough for the command files WABT's wast2json
// writes: objects, arrays, strings (with \u escapes), numbers, true, false,
// null. Numbers are kept as their source text; wast2json spells every wasm
// value as a string anyway.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace faasm::spec {

class Json {
public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool isNull() const { return kind_ == Kind::Null; }
  bool isString() const { return kind_ == Kind::String; }
  bool isArray() const { return kind_ == Kind::Array; }
  bool isObject() const { return kind_ == Kind::Object; }

  // String or number text; empty for anything else.
  const std::string& text() const { return text_; }
  bool boolean() const { return bool_; }
  const std::vector<Json>& items() const { return items_; }
  // A member of an object; a shared null value if absent (or not an object).
  const Json& operator[](std::string_view key) const;
  bool has(std::string_view key) const;
  // The member's text, or `fallback` if it is absent.
  std::string str(std::string_view key, std::string fallback = "") const;
  // The member's text as an integer, or `fallback`.
  long long integer(std::string_view key, long long fallback = 0) const;

  // Parses `input`; on failure returns false and sets outError to a sentence
  // with the byte offset.
  static bool parse(std::string_view input, Json& out, std::string& outError);

private:
  friend class JsonParser;
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

} // namespace faasm::spec
