#include "TestHelpers.h"

#include "faasm/runtime/TypeRegistry.h"
#include "faasm/test/Skip.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace {
void anyThunk(abi::VMContext*, const void*, const abi::Value*, abi::Value*) {}
} // namespace

TEST_CASE("a good artefact loads and its function runs") {
  auto m = loadOk("art-good");
  auto inst = rt::Instance::instantiate(m, nullptr);
  REQUIRE(inst.ok());
  CHECK(callI32(*inst.value(), "answer") == 42);
}

TEST_CASE("load errors are one sentence each") {
  SUBCASE("missing file") {
    auto m = rt::Module::load(artefact("does-not-exist"));
    REQUIRE(!m.ok());
    CHECK(m.error().message == "no such file");
  }
  SUBCASE("not a shared object") {
    std::string path = std::string(FAASM_TEST_ARTEFACT_DIR) + "/not-elf.so";
    std::ofstream(path) << "this is not an ELF file\n";
    auto m = rt::Module::load(path);
    REQUIRE(!m.ok());
    CHECK(m.error().message.rfind("not a sealed faasm artefact", 0) == 0);
    CHECK(m.error().message.find(path) == std::string::npos);
  }
  SUBCASE("a directory") {
    auto m = rt::Module::load(FAASM_TEST_ARTEFACT_DIR);
    REQUIRE(!m.ok());
    CHECK(m.error().message == "not a regular file");
  }
}

// The descriptor checks, which a sealed artefact also goes through
// (ArtefactTests.cpp loads sealed ones); hand-made artefacts reach them
// through fromDescriptor.
TEST_CASE("descriptor errors are one sentence each") {
  SUBCASE("no descriptor symbol") {
    auto m = faasm::test::loadHandMade(artefact("art-nodesc"));
    REQUIRE(!m.ok());
    CHECK(m.error().message == "not a faasm artefact (no faasm_module_descriptor symbol)");
  }
  SUBCASE("wrong magic") {
    auto m = faasm::test::loadHandMade(artefact("art-bad-magic"));
    REQUIRE(!m.ok());
    CHECK(m.error().message == "not a faasm artefact (bad descriptor magic 0x12345678)");
  }
  SUBCASE("wrong ABI version") {
    auto m = faasm::test::loadHandMade(artefact("art-bad-abi"));
    REQUIRE(!m.ok());
    CHECK(m.error().message == "built by faasm-codegen 9.9.9 for ABI 99, this runtime needs ABI " +
                                   std::to_string(faasm::abi::kAbiVersion) +
                                   ": recompile the module with this faasm-codegen");
  }
  SUBCASE("unknown bounds mode") {
    auto m = faasm::test::loadHandMade(artefact("art-bad-bounds"));
    REQUIRE(!m.ok());
    CHECK(m.error().message.rfind("unknown bounds mode 7", 0) == 0);
  }
  SUBCASE("CPU feature the host lacks") {
    auto m = faasm::test::loadHandMade(artefact("art-bad-cpu"));
    REQUIRE(!m.ok());
    CHECK(m.error().message == "needs CPU features this host lacks (unknown feature bit 63): "
                               "recompile without --cpu=native");
  }
  SUBCASE("a function whose code lies outside the module") {
    // Its descriptor is in this executable, its "code" is libc's getpid.
    static const abi::FuncTypeDesc types[] = {{":i", anyThunk}};
    static const abi::FuncDesc funcs[] = {{reinterpret_cast<const void*>(&getpid), "x", 0, 0}};
    static abi::ModuleDescriptor d{};
    d.magic = abi::kMagic;
    d.abiVersion = abi::kAbiVersion;
    d.boundsMode = uint32_t(abi::BoundsMode::Guard);
    d.startFunction = -1;
    d.types = {types, 1};
    d.functions = {funcs, 1};
    auto m = rt::Module::fromDescriptor(&d, "outside");
    REQUIRE(!m.ok());
    CHECK(m.error().message == "malformed module descriptor: function 0 has a bad type or no code "
                               "in the module's code");
  }
}

TEST_CASE("the baseline CPU features are present on any x86-64-v2 host") {
  CHECK(rt::missingCpuFeatures(abi::kCpuSse3 | abi::kCpuSse42).empty());
  CHECK(rt::missingCpuFeatures(1ull << 40) == "unknown feature bit 40");
}

// The runtime's answer must agree with the kernel's, whatever compiler built
// it: a clang-built runtime once saw no cx16 and refused every artefact.
TEST_CASE("each CPU feature is present exactly when /proc/cpuinfo lists it") {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, flags;
  while (std::getline(cpuinfo, line))
    if (line.rfind("flags", 0) == 0) {
      flags = " " + line.substr(line.find(':') + 1) + " ";
      break;
    }
  if (flags.empty()) FAASM_SKIP_TEST("/proc/cpuinfo has no flags line on this host");
  const std::pair<uint64_t, const char*> features[] = {
      {abi::kCpuSse3, "pni"},     {abi::kCpuSsse3, "ssse3"},   {abi::kCpuSse41, "sse4_1"},
      {abi::kCpuSse42, "sse4_2"}, {abi::kCpuPopcnt, "popcnt"}, {abi::kCpuAvx, "avx"},
      {abi::kCpuAvx2, "avx2"},    {abi::kCpuBmi1, "bmi1"},     {abi::kCpuBmi2, "bmi2"},
      {abi::kCpuLzcnt, "abm"},    {abi::kCpuFma, "fma"},       {abi::kCpuCx16, "cx16"},
  };
  for (const auto& [bit, flag] : features) {
    INFO(flag);
    bool listed = flags.find(std::string(" ") + flag + " ") != std::string::npos;
    CHECK(rt::missingCpuFeatures(bit).empty() == listed);
  }
}

TEST_CASE("signatures are interned to stable non-zero ids") {
  uint32_t a = rt::internSignature("ii:i");
  uint32_t b = rt::internSignature("ii:i");
  uint32_t c = rt::internSignature("ii:I");
  CHECK(a != 0);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(rt::signatureOf(a) == "ii:i");
  std::string_view p, r;
  CHECK(rt::parseSignature("IF:fV", p, r));
  CHECK(p == "IF");
  CHECK(r == "fV");
  CHECK(!rt::parseSignature("ii", p, r));
  CHECK(!rt::parseSignature("iq:", p, r));
}

TEST_CASE("instances of one module share the type ids and are independent") {
  EnvHost host;
  auto m = loadOk("art-basic");
  auto a = rt::Instance::instantiate(m, host.registry.resolver()).value();
  auto b = rt::Instance::instantiate(m, host.registry.resolver()).value();
  CHECK(a->vmctx()->typeIds == b->vmctx()->typeIds);
  CHECK(a->vmctx()->typeIds[2] == rt::internSignature("ii:i"));
  CHECK(a->memory() != b->memory());
  call(*a, "store8", {i32(100), i32(9)});
  CHECK(callI32(*a, "load8", {i32(100)}) == 9);
  CHECK(callI32(*b, "load8", {i32(100)}) == 0);
}

namespace {

// A descriptor in this executable whose one function is codeMapTarget, with
// the code map `map`.
extern "C" __attribute__((noinline)) int codeMapTarget(int x) {
  return x * 3 + 1;
}

rt::Expected<std::shared_ptr<rt::Module>> withCodeMap(const abi::CodeMap* map) {
  static const abi::FuncTypeDesc types[] = {{":i", anyThunk}};
  static const abi::FuncDesc funcs[] = {
      {reinterpret_cast<const void*>(&codeMapTarget), "$f", 0, 0}};
  static abi::ModuleDescriptor d{};
  d.magic = abi::kMagic;
  d.abiVersion = abi::kAbiVersion;
  d.boundsMode = uint32_t(abi::BoundsMode::Guard);
  d.startFunction = -1;
  d.types = {types, 1};
  d.functions = {funcs, 1};
  d.codeMap = map;
  return rt::Module::fromDescriptor(&d, "code-map");
}

} // namespace

TEST_CASE("a code map says which wasm frames native code stands for") {
  // Code [0, 4) is the instruction at 0x20; [4, 8) that at 0x30 inlined at
  // the call at 0x24 (its function's body is [0x2e, 0x40): another function,
  // which this module does not define: only the physical one is named).
  static const abi::FunctionCode functions[] = {{8, 0, 2, 0x10, 0x2e, 0}};
  static const abi::CodeLocation locations[] = {{0, 0}, {4, 2}};
  static const abi::CodeSite sites[] = {{0x20, abi::kNoSite}, {0x24, abi::kNoSite}, {0x22, 1}};
  static const abi::CodeMap map = {{functions, 1}, {locations, 2}, {sites, 3}};
  auto m = withCodeMap(&map);
  REQUIRE(m.ok());
  auto start = reinterpret_cast<uintptr_t>(&codeMapTarget);
  auto at0 = m.value()->locate(start + 1);
  REQUIRE(at0.size() == 1);
  CHECK(at0[0].funcIndex == 0);
  CHECK(at0[0].wasmOffset == 0x20);
  auto at5 = m.value()->locate(start + 5);
  REQUIRE(at5.size() == 2);
  CHECK(at5[0].wasmOffset == 0x22);
  CHECK(at5[1].wasmOffset == 0x24);
  CHECK(m.value()->locate(start + 8).empty());
  CHECK(m.value()->functionName(0) == "f");
  CHECK(rt::Module::containing(start + 1) != nullptr);
}

TEST_CASE("a code map that does not fit its module is refused, in one sentence") {
  static const abi::CodeLocation ordered[] = {{0, abi::kNoSite}, {4, 0}};
  static const abi::CodeLocation unordered[] = {{4, abi::kNoSite}, {2, 0}};
  static const abi::CodeSite site[] = {{0x20, abi::kNoSite}};
  static const abi::CodeSite looped[] = {{0x20, 0}};
  static const abi::FunctionCode good[] = {{8, 0, 2, 0x10, 0x2e, 0}};
  static const abi::FunctionCode tooMany[] = {{8, 1, 2, 0x10, 0x2e, 0}};
  static const abi::FunctionCode pastCode[] = {{2, 0, 2, 0x10, 0x2e, 0}};
  static const abi::FunctionCode backwards[] = {{8, 0, 2, 0x2e, 0x10, 0}};
  struct Case {
    const char* what;
    abi::CodeMap map;
    const char* message;
  };
  const Case cases[] = {
      {"another function count",
       {{good, 0}, {ordered, 2}, {site, 1}},
       "its code map has 0 functions for 1"},
      {"locations past the table",
       {{tooMany, 1}, {ordered, 2}, {site, 1}},
       "code map of function 0: its locations lie outside the table"},
      {"locations out of order",
       {{good, 1}, {unordered, 2}, {site, 1}},
       "code map of function 0: its locations are out of order or outside its code"},
      {"a location past the code",
       {{pastCode, 1}, {ordered, 2}, {site, 1}},
       "code map of function 0: its locations are out of order or outside its code"},
      {"a location naming no site",
       {{good, 1}, {ordered, 2}, {site, 0}},
       "code map of function 0: a location names no site"},
      {"a body ending before it starts",
       {{backwards, 1}, {ordered, 2}, {site, 1}},
       "code map of function 0: its body's range is out of order"},
      {"a site inlined at itself",
       {{good, 1}, {ordered, 2}, {looped, 1}},
       "code map: site 0 is inlined at a later site"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    auto m = withCodeMap(&c.map);
    REQUIRE(!m.ok());
    CHECK(m.error().message == std::string("malformed module descriptor: ") + c.message);
  }
}
