// Unit tests of the spec runner's own pieces: the JSON reader and the
// value-matching rules (NaN classes, lanes, references).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "Json.h"
#include "SpecValues.h"

using namespace faasm;
using namespace faasm::spec;

namespace {
SpecValue parsed(const char* text) {
  Json j;
  std::string err;
  REQUIRE(Json::parse(text, j, err));
  SpecValue v;
  REQUIRE(parseSpecValue(j, v, err));
  return v;
}
abi::Value bits(uint64_t lo, uint64_t hi = 0) {
  return abi::Value{lo, hi};
}
} // namespace

TEST_CASE("json reader") {
  Json j;
  std::string err;
  REQUIRE(Json::parse(R"({"a": [1, "x\u00e9\n", true, null], "b": {"c": -2.5e3}})", j, err));
  CHECK(j["a"].items().size() == 4);
  CHECK(j["a"].items()[1].text() == "x\xc3\xa9\n");
  CHECK(j["a"].items()[2].boolean());
  CHECK(j["a"].items()[3].isNull());
  CHECK(j["b"].str("c") == "-2.5e3");
  CHECK(j["missing"].isNull());
  CHECK_FALSE(Json::parse(R"({"a": )", j, err));
  CHECK_FALSE(Json::parse(R"([1] 2)", j, err));
  CHECK_FALSE(Json::parse(std::string(10000, '['), j, err)); // too deep, not a crash
}

TEST_CASE("integers compare by bits") {
  SpecValue v = parsed(R"({"type": "i32", "value": "4294967295"})");
  CHECK(matches(v, abi::ValType::I32, bits(0xffffffff)));
  CHECK(matches(v, abi::ValType::I32, bits(0xdeadbeefffffffff))); // upper half ignored
  CHECK_FALSE(matches(v, abi::ValType::I64, bits(0xffffffff)));
  CHECK_FALSE(matches(v, abi::ValType::I32, bits(0)));
}

TEST_CASE("nan classes") {
  SpecValue canonical = parsed(R"({"type": "f32", "value": "nan:canonical"})");
  SpecValue arithmetic = parsed(R"({"type": "f32", "value": "nan:arithmetic"})");
  CHECK(matches(canonical, abi::ValType::F32, bits(0x7fc00000)));
  CHECK(matches(canonical, abi::ValType::F32, bits(0xffc00000)));
  CHECK_FALSE(matches(canonical, abi::ValType::F32, bits(0x7fc00001)));
  CHECK(matches(arithmetic, abi::ValType::F32, bits(0x7fc00001)));
  CHECK_FALSE(matches(arithmetic, abi::ValType::F32, bits(0x7fa00000))); // signalling
  SpecValue d = parsed(R"({"type": "f64", "value": "nan:arithmetic"})");
  CHECK(matches(d, abi::ValType::F64, bits(0xfff8000000000001)));
  CHECK_FALSE(matches(d, abi::ValType::F64, bits(0x7ff4000000000000)));
  SpecValue exact = parsed(R"({"type": "f32", "value": "2143289344"})"); // 0x7fc00000
  CHECK(matches(exact, abi::ValType::F32, bits(0x7fc00000)));
  CHECK_FALSE(matches(exact, abi::ValType::F32, bits(0xffc00000)));
}

TEST_CASE("v128 lanes") {
  SpecValue v = parsed(
      R"({"type": "v128", "lane_type": "f32", "value": ["nan:canonical", "0", "1065353216", "nan:arithmetic"]})");
  CHECK(matches(v, abi::ValType::V128, bits(0x000000007fc00000, 0x7fc000013f800000)));
  CHECK_FALSE(matches(v, abi::ValType::V128, bits(0x000000007fc00000, 0x7fa000003f800000)));
  SpecValue i = parsed(
      R"({"type": "v128", "lane_type": "i16", "value": ["1","2","3","4","5","6","7","65535"]})");
  CHECK(matches(i, abi::ValType::V128, bits(0x0004000300020001, 0xffff000700060005)));
}

TEST_CASE("references") {
  SpecValue null = parsed(R"({"type": "externref", "value": "null"})");
  SpecValue zero = parsed(R"({"type": "externref", "value": "0"})");
  SpecValue anyFunc = parsed(R"({"type": "funcref"})");
  CHECK(matches(null, abi::ValType::ExternRef, bits(0)));
  CHECK(zero.bits.lo == externRefBits(0));
  CHECK(matches(zero, abi::ValType::ExternRef, bits(1)));
  CHECK_FALSE(matches(zero, abi::ValType::ExternRef, bits(0)));
  CHECK(matches(anyFunc, abi::ValType::FuncRef, bits(0x1234)));
  CHECK_FALSE(matches(anyFunc, abi::ValType::FuncRef, bits(0)));
}
