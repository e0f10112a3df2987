// SHA-256 and HMAC-SHA256 (faasm/abi/Sha256.h, which seals artefacts) against
// the published test vectors: FIPS 180-4's examples (as in NIST's
// SHA256.pdf and FIPS 180-2 appendix B) and RFC 4231's HMAC-SHA256 cases.
#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using faasm::abi::hexOf;
using faasm::abi::hmacSha256;
using faasm::abi::Sha256;

namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string sha(const std::string& s) {
  return hexOf(Sha256::of(bytes(s)));
}

std::string hmac(const std::vector<uint8_t>& key, const std::string& data) {
  return hexOf(hmacSha256(key, bytes(data)));
}

} // namespace

TEST_CASE("SHA-256: FIPS 180-4 examples") {
  CHECK(sha("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(
      sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopq"
          "rlmnopqrsmnopqrstnopqrstu") ==
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  CHECK(sha(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("SHA-256: any split of the input gives the same digest") {
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += char('a' + i % 26);
  std::string whole = sha(text);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Sha256 s;
    s.update(text.data(), cut);
    s.update(text.data() + cut, text.size() - cut);
    REQUIRE(hexOf(s.finish()) == whole);
  }
}

TEST_CASE("HMAC-SHA256: RFC 4231 test cases") {
  CHECK(hmac(std::vector<uint8_t>(20, 0x0b), "Hi There") ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hmac({'J', 'e', 'f', 'e'}, "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(hmac(std::vector<uint8_t>(20, 0xaa), std::string(50, '\xdd')) ==
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  std::vector<uint8_t> key4;
  for (uint8_t b = 1; b <= 25; ++b)
    key4.push_back(b);
  CHECK(hmac(key4, std::string(50, '\xcd')) ==
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 5 is a truncated MAC: its first 128 bits.
  CHECK(hmac(std::vector<uint8_t>(20, 0x0c), "Test With Truncation").substr(0, 32) ==
        "a3b6167473100ee06e0c796c2955552b");
  CHECK(hmac(std::vector<uint8_t>(131, 0xaa),
             "Test Using Larger Than Block-Size Key - Hash Key First") ==
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  CHECK(hmac(std::vector<uint8_t>(131, 0xaa),
             "This is a test using a larger than block-size key and a larger than block-size "
             "data. The key needs to be hashed before being used by the HMAC algorithm.") ==
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("artefact keys: 64 hex digits, private files only") {
  using namespace faasm::abi;
  std::string hex64(64, 'a');
  CHECK(parseArtefactKey(hex64).has_value());
  CHECK(parseArtefactKey(hex64 + "\n").has_value());
  CHECK(parseArtefactKey(hex64)->at(0) == 0xaa);
  CHECK(!parseArtefactKey(hex64 + "\n\n").has_value());
  CHECK(!parseArtefactKey(hex64.substr(1)).has_value());
  CHECK(!parseArtefactKey(std::string(63, 'a') + "g").has_value());
  CHECK(artefactKeyFileIsPrivate(1000, 0100600, 1000));
  CHECK(artefactKeyFileIsPrivate(0, 0100640, 1000));
  CHECK(!artefactKeyFileIsPrivate(1001, 0100600, 1000)); // someone else's
  CHECK(!artefactKeyFileIsPrivate(1000, 0100604, 1000)); // others may read it
  CHECK(!artefactKeyFileIsPrivate(1000, 0100620, 1000)); // its group may replace it
  CHECK(userArtefactKeyPath("/x", "/home/u") == "/x/faasm/artefact-key");
  CHECK(userArtefactKeyPath(nullptr, "/home/u") == "/home/u/.config/faasm/artefact-key");
  CHECK(userArtefactKeyPath("", nullptr).empty());
}
