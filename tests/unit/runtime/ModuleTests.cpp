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
