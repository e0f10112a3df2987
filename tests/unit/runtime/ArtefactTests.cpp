// Module::load's gates before dlopen: the seal (faasm/abi/Artefact.h) and the
// ELF shape (ElfCheck.cpp). The artefacts are data/sealable.cpp's variants,
// sealed here with a test key as faasm-codegen would seal them.
#include "TestHelpers.h"

#include "faasm/abi/Artefact.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/stat.h>
#include <unistd.h>

namespace {

constexpr const char* kKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kOtherKeyHex =
    "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f";

// The test key for the life of a test case.
struct TestKey {
  explicit TestKey(const char* hex = kKeyHex) { setenv(abi::kArtefactKeyEnv, hex, 1); }
  ~TestKey() { unsetenv(abi::kArtefactKeyEnv); }
};

std::vector<uint8_t> readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Files this test makes go to a folder of this process's own next to the
// artefacts (ctest runs test cases as concurrent processes), removed at exit.
struct ScratchDir {
  std::string path =
      std::string(FAASM_TEST_ARTEFACT_DIR) + "/artefact-tests-" + std::to_string(getpid());
  ScratchDir() { std::filesystem::create_directories(path); }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

std::string scratch(const std::string& name) {
  static ScratchDir dir;
  return dir.path + "/" + name;
}

std::string writeBytes(const std::string& name, const std::vector<uint8_t>& bytes) {
  std::string path = scratch(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return path;
}

abi::ArtefactSeal sealOf(const std::vector<uint8_t>& image, const char* keyHex) {
  abi::ArtefactKey key = *abi::parseArtefactKey(keyHex);
  abi::ArtefactSeal seal{};
  std::memcpy(seal.magic, abi::kSealMagic, 8);
  seal.version = abi::kSealVersion;
  seal.sealBytes = sizeof seal;
  seal.imageBytes = image.size();
  abi::Digest d = abi::Sha256::of(image);
  std::memcpy(seal.imageDigest, d.data(), 32);
  std::memset(seal.sourceDigest, 0x5a, 32);
  auto id = abi::artefactKeyId(key);
  std::memcpy(seal.keyId, id.data(), 8);
  abi::Digest mac = abi::artefactSealMac(key, seal);
  std::memcpy(seal.mac, mac.data(), 32);
  return seal;
}

std::vector<uint8_t> withSeal(std::vector<uint8_t> image, const abi::ArtefactSeal& seal) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&seal);
  image.insert(image.end(), p, p + sizeof seal);
  return image;
}

// `art-<name>.so` sealed with `keyHex`, written as <name>-sealed.so.
std::string sealed(const std::string& name, const char* keyHex = kKeyHex) {
  std::vector<uint8_t> image = readBytes(artefact(name));
  REQUIRE(!image.empty());
  return writeBytes(name + "-sealed.so", withSeal(image, sealOf(image, keyHex)));
}

std::string loadError(const std::string& path) {
  auto m = rt::Module::load(path);
  if (m) return "(loaded)";
  return m.error().message;
}

bool startsWith(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

TEST_CASE("a sealed artefact loads from a sealed memfd and runs") {
  TestKey key;
  std::string path = sealed("art-sealable");
  auto m = rt::Module::load(path);
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  CHECK(m.value()->sealed());
  std::vector<uint8_t> image = readBytes(artefact("art-sealable"));
  CHECK(m.value()->imageDigest() == abi::Sha256::of(image));
  CHECK(m.value()->sourceDigest()[0] == 0x5a);
  CHECK(m.value()->inCode(m.value()->descriptor().functions[0].code));
  auto inst = rt::Instance::instantiate(m.value(), nullptr);
  REQUIRE(inst.ok());
  CHECK(callI32(*inst.value(), "answer") == 42);
  // What the dynamic loader mapped is the memfd, not the file.
  std::ifstream maps("/proc/self/maps");
  std::string all((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  CHECK(all.find("/memfd:faasm:art-sealable-sealed.so") != std::string::npos);
  CHECK(all.find(path) == std::string::npos);
}

TEST_CASE("the same artefact through another path is the same build") {
  TestKey key;
  std::string path = sealed("art-sealable");
  std::string link = scratch("another-name.so");
  unlink(link.c_str());
  REQUIRE(symlink(path.c_str(), link.c_str()) == 0);
  auto a = rt::Module::load(path);
  auto b = rt::Module::load(link);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a.value()->imageDigest() == b.value()->imageDigest());
}

TEST_CASE("modified, truncated, foreign and forged artefacts are refused before dlopen") {
  TestKey key;
  std::vector<uint8_t> image = readBytes(artefact("art-sealable"));
  abi::ArtefactSeal seal = sealOf(image, kKeyHex);
  std::vector<uint8_t> good = withSeal(image, seal);

  SUBCASE("no seal: a plain shared object") {
    CHECK(startsWith(loadError(writeBytes("plain.so", image)), "not a sealed faasm artefact"));
    CHECK(startsWith(loadError(artefact("art-basic")), "not a sealed faasm artefact"));
  }
  SUBCASE("truncated anywhere") {
    for (size_t keep : {size_t(0), size_t(1), size_t(64), image.size() / 2, image.size(),
                        image.size() + 1, good.size() - 1}) {
      std::vector<uint8_t> cut(good.begin(), good.begin() + std::ptrdiff_t(keep));
      std::string e = loadError(writeBytes("truncated.so", cut));
      CAPTURE(keep);
      CHECK(startsWith(e, "not a sealed faasm artefact"));
    }
    // Cut inside the image, seal kept: the recorded length no longer holds.
    std::vector<uint8_t> shorter(image.begin(), image.end() - 100);
    CHECK(startsWith(loadError(writeBytes("truncated.so", withSeal(shorter, seal))),
                     "truncated or extended since it was compiled"));
  }
  SUBCASE("one bit flipped anywhere in the image") {
    for (size_t at : {size_t(0), size_t(17), size_t(100), image.size() / 3, image.size() / 2,
                      image.size() - 1}) {
      std::vector<uint8_t> flipped = good;
      flipped[at] ^= 0x10;
      CAPTURE(at);
      CHECK(startsWith(loadError(writeBytes("flipped.so", flipped)),
                       "modified since it was compiled"));
    }
  }
  SUBCASE("one bit flipped in the seal") {
    size_t sealAt = image.size();
    for (size_t field :
         {offsetof(abi::ArtefactSeal, imageDigest) + 3,
          offsetof(abi::ArtefactSeal, sourceDigest) + 5, offsetof(abi::ArtefactSeal, keyId),
          offsetof(abi::ArtefactSeal, mac) + 31}) {
      std::vector<uint8_t> flipped = good;
      flipped[sealAt + field] ^= 1;
      std::string e = loadError(writeBytes("flipped.so", flipped));
      CAPTURE(field);
      CHECK(e != "(loaded)");
      CHECK(e.find('\n') == std::string::npos);
    }
  }
  SUBCASE("sealed under another platform's key") {
    std::string e =
        loadError(writeBytes("foreign.so", withSeal(image, sealOf(image, kOtherKeyHex))));
    CHECK(startsWith(e, "sealed with another platform's key (key id "));
  }
  SUBCASE("a seal recomputed without the key") {
    // The attacker can write .so files: a fresh SHA-256 and the key id of a
    // genuine artefact, but no key for the MAC.
    std::vector<uint8_t> evil = image;
    evil[image.size() / 2] ^= 0xff;
    abi::ArtefactSeal forged = seal;
    abi::Digest d = abi::Sha256::of(evil);
    std::memcpy(forged.imageDigest, d.data(), 32);
    CHECK(startsWith(loadError(writeBytes("forged.so", withSeal(evil, forged))),
                     "its seal is forged"));
  }
  SUBCASE("another seal format") {
    abi::ArtefactSeal other = seal;
    other.version = 99;
    CHECK(startsWith(loadError(writeBytes("format.so", withSeal(image, other))),
                     "sealed in format 99"));
  }
  SUBCASE("no key on this host") {
    unsetenv(abi::kArtefactKeyEnv);
    std::string empty = scratch("no-key-home");
    mkdir(empty.c_str(), 0700);
    const char* home = getenv("HOME");
    std::string savedHome = home ? home : "";
    setenv("HOME", empty.c_str(), 1);
    unsetenv("XDG_CONFIG_HOME");
    struct stat st{};
    bool systemKey = stat(abi::kSystemArtefactKeyPath, &st) == 0;
    std::string e = loadError(writeBytes("good.so", good));
    if (!savedHome.empty()) setenv("HOME", savedHome.c_str(), 1);
    if (!systemKey) CHECK(startsWith(e, "no artefact key on this host"));
  }
  SUBCASE("a malformed key") {
    setenv(abi::kArtefactKeyEnv, "not-hex", 1);
    CHECK(loadError(writeBytes("good.so", good)) == "FAASM_ARTEFACT_KEY is not 64 hex digits");
  }
}

TEST_CASE("ELF shapes faasm-codegen never makes are refused even when sealed") {
  TestKey key;
  struct Case {
    const char* name;
    const char* says;
  };
  for (Case c :
       {Case{"art-sealable-ctor", "it has initialisers"},
        Case{"art-sealable-needed", "it needs other shared libraries"},
        Case{"art-sealable-tls", "thread-local storage"}, Case{"art-sealable-ifunc", "IFUNC"},
        Case{"art-sealable-import", "it imports \"getpid\" from the host"},
        Case{"art-sealable-execstack", "executable stack"},
        Case{"art-sealable-wx", "writable and executable"}}) {
    CAPTURE(c.name);
    std::string e = loadError(sealed(c.name));
    CHECK(startsWith(e, "not an artefact faasm-codegen makes: "));
    CHECK(e.find(c.says) != std::string::npos);
  }
  // The sealed clean variant of the same source passes.
  CHECK(loadError(sealed("art-sealable-explicit")) == "(loaded)");
}

TEST_CASE("a fault of a sealed module's code in its memory is a trap, in both modes") {
  TestKey key;
  for (const char* name : {"art-sealable", "art-sealable-explicit"}) {
    CAPTURE(name);
    auto m = rt::Module::load(sealed(name));
    REQUIRE(m.ok());
    auto inst = rt::Instance::instantiate(m.value(), nullptr).value();
    CHECK(callI32(*inst, "loadAt", {i64(0)}) == 0);
    // Past the 1-page memory, at the end of the 32-bit space, and at the
    // farthest an offset can reach: the reservation covers them all.
    for (int64_t eff :
         {int64_t(65536), int64_t(1) << 20, (int64_t(1) << 32) - 1, (int64_t(8) << 30) + 65535}) {
      CAPTURE(eff);
      CHECK(call(*inst, "loadAt", {i64(eff)}).trap == abi::TrapCode::MemoryOutOfBounds);
    }
  }
}

TEST_CASE("two artefacts loaded at once are two modules") {
  // dlopen finds an object it has loaded by name first; each load's name
  // (/proc/self/fd/N) must therefore stay unique while its module lives,
  // whatever was loaded and unloaded before.
  TestKey key;
  for (int round = 0; round < 3; ++round) {
    auto guard = rt::Module::load(sealed("art-sealable"));
    REQUIRE(guard.ok());
    auto explicitMode = rt::Module::load(sealed("art-sealable-explicit"));
    REQUIRE(explicitMode.ok());
    CHECK(guard.value()->boundsMode() == abi::BoundsMode::Guard);
    CHECK(explicitMode.value()->boundsMode() == abi::BoundsMode::Explicit);
    CHECK(guard.value()->imageDigest() != explicitMode.value()->imageDigest());
  }
}
