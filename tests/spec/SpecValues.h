// Wasm values as wast2json spells them ({"type": "i32", "value": "42"}), and
// the spec's rules for comparing a result with an expectation.
#pragma once

#include "Json.h"

#include "faasm/abi/Abi.h"

#include <string>

namespace faasm::spec {

enum class NanKind : uint8_t { None, Canonical, Arithmetic };

struct SpecValue {
  abi::ValType type = abi::ValType::I32;
  abi::Value bits{};
  // v128: the lane shape of the expectation ('i8', 'i16', 'i32', 'i64', 'f32', 'f64').
  std::string laneType;
  NanKind nan[16] = {};       // per lane (scalars use nan[0])
  bool anyNonNullRef = false; // expected (ref.func) or (ref.extern) without a value
};

// `ref.extern N` is the opaque host pointer N + 1, so that N = 0 is not null.
inline uint64_t externRefBits(uint64_t n) {
  return n + 1;
}

// Parses one value of an "args" or "expected" list; false with outError on
// anything it does not understand.
bool parseSpecValue(const Json& json, SpecValue& out, std::string& outError);

// True if `actual` (of the given type) satisfies `expected`.
bool matches(const SpecValue& expected, abi::ValType actualType, const abi::Value& actual);

std::string formatExpected(const SpecValue& expected);
std::string formatActual(abi::ValType type, const abi::Value& actual);

} // namespace faasm::spec
