#include "SpecValues.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace faasm::spec {
namespace {

bool parseBits(const std::string& text, uint64_t& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  if (text[0] == '-') {
    long long v = std::strtoll(text.c_str(), &end, 10);
    out = uint64_t(v);
  } else {
    out = std::strtoull(text.c_str(), &end, 10);
  }
  return errno == 0 && end && *end == '\0';
}

NanKind nanKindOf(const std::string& text) {
  if (text == "nan:canonical") return NanKind::Canonical;
  if (text == "nan:arithmetic") return NanKind::Arithmetic;
  return NanKind::None;
}

unsigned laneBytes(const std::string& lane) {
  if (lane == "i8") return 1;
  if (lane == "i16") return 2;
  if (lane == "i32" || lane == "f32") return 4;
  if (lane == "i64" || lane == "f64") return 8;
  return 0;
}

uint64_t laneAt(const abi::Value& v, unsigned bytes, unsigned i) {
  uint8_t raw[16];
  std::memcpy(raw, &v, 16);
  uint64_t out = 0;
  std::memcpy(&out, raw + i * bytes, bytes);
  return out;
}

bool floatMatches(NanKind nan, bool is32, uint64_t expectedBits, uint64_t actualBits) {
  if (is32) {
    uint32_t a = uint32_t(actualBits);
    if (nan == NanKind::Canonical) return (a & 0x7fffffffu) == 0x7fc00000u;
    if (nan == NanKind::Arithmetic) return (a & 0x7fc00000u) == 0x7fc00000u;
    return a == uint32_t(expectedBits);
  }
  if (nan == NanKind::Canonical)
    return (actualBits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
  if (nan == NanKind::Arithmetic)
    return (actualBits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
  return actualBits == expectedBits;
}

const char* typeName(abi::ValType t) {
  switch (t) {
  case abi::ValType::I32: return "i32";
  case abi::ValType::I64: return "i64";
  case abi::ValType::F32: return "f32";
  case abi::ValType::F64: return "f64";
  case abi::ValType::V128: return "v128";
  case abi::ValType::FuncRef: return "funcref";
  case abi::ValType::ExternRef: return "externref";
  }
  return "?";
}

std::string formatFloat(bool is32, uint64_t bits) {
  char buf[80];
  if (is32) {
    float f;
    uint32_t b = uint32_t(bits);
    std::memcpy(&f, &b, 4);
    std::snprintf(buf, sizeof buf, "%.9g (0x%08" PRIx32 ")", double(f), b);
  } else {
    double d;
    std::memcpy(&d, &bits, 8);
    std::snprintf(buf, sizeof buf, "%.17g (0x%016" PRIx64 ")", d, bits);
  }
  return buf;
}

} // namespace

bool parseSpecValue(const Json& json, SpecValue& out, std::string& outError) {
  out = SpecValue{};
  std::string type = json.str("type");
  const Json& value = json["value"];
  auto scalar = [&](abi::ValType t) {
    out.type = t;
    std::string text = value.text();
    if ((t == abi::ValType::F32 || t == abi::ValType::F64) && nanKindOf(text) != NanKind::None) {
      out.nan[0] = nanKindOf(text);
      return true;
    }
    if (!parseBits(text, out.bits.lo)) {
      outError = "bad " + type + " value \"" + text + "\"";
      return false;
    }
    return true;
  };
  if (type == "i32") return scalar(abi::ValType::I32);
  if (type == "i64") return scalar(abi::ValType::I64);
  if (type == "f32") return scalar(abi::ValType::F32);
  if (type == "f64") return scalar(abi::ValType::F64);
  if (type == "funcref" || type == "externref") {
    out.type = type == "funcref" ? abi::ValType::FuncRef : abi::ValType::ExternRef;
    if (!json.has("value")) {
      out.anyNonNullRef = true;
      return true;
    }
    if (value.text() == "null") return true;
    uint64_t n;
    if (!parseBits(value.text(), n)) {
      outError = "bad " + type + " value \"" + value.text() + "\"";
      return false;
    }
    out.bits.lo = out.type == abi::ValType::ExternRef ? externRefBits(n) : n;
    return true;
  }
  if (type == "v128") {
    out.type = abi::ValType::V128;
    out.laneType = json.str("lane_type");
    unsigned bytes = laneBytes(out.laneType);
    if (!bytes || !value.isArray() || value.items().size() != 16 / bytes) {
      outError = "bad v128 value";
      return false;
    }
    uint8_t raw[16] = {};
    for (unsigned i = 0; i < 16 / bytes; ++i) {
      const std::string& text = value.items()[i].text();
      uint64_t lane = 0;
      if (nanKindOf(text) != NanKind::None) {
        out.nan[i] = nanKindOf(text);
      } else if (!parseBits(text, lane)) {
        outError = "bad v128 lane \"" + text + "\"";
        return false;
      }
      std::memcpy(raw + i * bytes, &lane, bytes);
    }
    std::memcpy(&out.bits, raw, 16);
    return true;
  }
  outError = "unknown value type \"" + type + "\"";
  return false;
}

bool matches(const SpecValue& expected, abi::ValType actualType, const abi::Value& actual) {
  if (expected.type != actualType) return false;
  switch (expected.type) {
  case abi::ValType::I32: return uint32_t(actual.lo) == uint32_t(expected.bits.lo);
  case abi::ValType::I64: return actual.lo == expected.bits.lo;
  case abi::ValType::F32: return floatMatches(expected.nan[0], true, expected.bits.lo, actual.lo);
  case abi::ValType::F64: return floatMatches(expected.nan[0], false, expected.bits.lo, actual.lo);
  case abi::ValType::FuncRef:
  case abi::ValType::ExternRef:
    if (expected.anyNonNullRef) return actual.lo != 0;
    if (expected.type == abi::ValType::FuncRef && expected.bits.lo != 0) return actual.lo != 0;
    return actual.lo == expected.bits.lo;
  case abi::ValType::V128: {
    unsigned bytes = laneBytes(expected.laneType);
    bool isFloat = expected.laneType[0] == 'f';
    for (unsigned i = 0; i < 16 / bytes; ++i) {
      uint64_t a = laneAt(actual, bytes, i), e = laneAt(expected.bits, bytes, i);
      if (isFloat ? !floatMatches(expected.nan[i], bytes == 4, e, a) : a != e) return false;
    }
    return true;
  }
  }
  return false;
}

std::string formatExpected(const SpecValue& expected) {
  auto nanText = [](NanKind k) {
    return std::string(k == NanKind::Canonical ? "nan:canonical" : "nan:arithmetic");
  };
  switch (expected.type) {
  case abi::ValType::F32:
  case abi::ValType::F64:
    if (expected.nan[0] != NanKind::None)
      return std::string(typeName(expected.type)) + ":" + nanText(expected.nan[0]);
    return formatActual(expected.type, expected.bits);
  case abi::ValType::FuncRef:
  case abi::ValType::ExternRef:
    if (expected.anyNonNullRef || (expected.type == abi::ValType::FuncRef && expected.bits.lo))
      return std::string(typeName(expected.type)) + ":non-null";
    return formatActual(expected.type, expected.bits);
  case abi::ValType::V128: {
    unsigned bytes = laneBytes(expected.laneType);
    std::string s = "v128:" + expected.laneType;
    for (unsigned i = 0; i < 16 / bytes; ++i) {
      s += ' ';
      if (expected.nan[i] != NanKind::None)
        s += nanText(expected.nan[i]);
      else
        s += std::to_string(laneAt(expected.bits, bytes, i));
    }
    return s;
  }
  default: return formatActual(expected.type, expected.bits);
  }
}

std::string formatActual(abi::ValType type, const abi::Value& v) {
  std::string s = std::string(typeName(type)) + ":";
  char buf[64];
  switch (type) {
  case abi::ValType::I32:
    std::snprintf(buf, sizeof buf, "%" PRIu32 " (0x%" PRIx32 ")", uint32_t(v.lo), uint32_t(v.lo));
    return s + buf;
  case abi::ValType::I64:
    std::snprintf(buf, sizeof buf, "%" PRIu64 " (0x%" PRIx64 ")", v.lo, v.lo);
    return s + buf;
  case abi::ValType::F32: return s + formatFloat(true, v.lo);
  case abi::ValType::F64: return s + formatFloat(false, v.lo);
  case abi::ValType::FuncRef:
  case abi::ValType::ExternRef:
    if (v.lo == 0) return s + "null";
    if (type == abi::ValType::ExternRef) return s + std::to_string(v.lo - 1);
    std::snprintf(buf, sizeof buf, "%p", reinterpret_cast<void*>(v.lo));
    return s + buf;
  case abi::ValType::V128:
    std::snprintf(buf, sizeof buf, "0x%016" PRIx64 "%016" PRIx64, v.hi, v.lo);
    return s + buf;
  }
  return s + "?";
}

} // namespace faasm::spec
