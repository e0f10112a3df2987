// The artefact file: what faasm-codegen writes and faasm-run accepts
// (docs/Compiler.md, "The artefact file"; docs/Security.md, "Runtime and artefacts" says what
// it stops and what it cannot).
//
//   [ELF image: the shared object lld linked][ArtefactSeal: 128 bytes]
//
// The seal records the SHA-256 of the image (the build's identity, which
// snapshots key on) and of the wasm it was compiled from, and authenticates
// both with HMAC-SHA256 under the platform's artefact key. The loader reads
// the whole file, checks the seal, strips it and loads only the checked image
// bytes (never the file again), so no byte of an artefact runs, not even its
// constructors, before the check.
//
// The key (32 bytes) is, in order of precedence:
//   1. $FAASM_ARTEFACT_KEY: 64 hex digits (tests and CI; it is visible to
//      every process of the environment, so not for production);
//   2. /etc/faasm/artefact-key, the operator's (created by hand);
//   3. $XDG_CONFIG_HOME/faasm/artefact-key (default ~/.config/...), which
//      faasm-codegen creates on first use (mode 0600, directory 0700).
// A key file holds 64 hex digits and a newline, must be a regular file owned
// by root or by the user reading it, and must not be readable or writable by
// others nor writable by its group: a key others can read seals nothing.
// Only faasm-codegen creates a key; the runtime never does (it would accept
// nothing made before).
#pragma once

#include "faasm/abi/Sha256.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace faasm::abi {

inline constexpr char kSealMagic[8] = {'F', 'A', 'A', 'S', 'M', 'S', 'E', 'L'};
inline constexpr uint32_t kSealVersion = 1;

// The last bytes of an artefact file. Little-endian, no padding.
struct ArtefactSeal {
  char magic[8];            // kSealMagic
  uint32_t version;         // kSealVersion
  uint32_t sealBytes;       // sizeof(ArtefactSeal)
  uint64_t imageBytes;      // the ELF image before the seal; file size - sealBytes
  uint8_t imageDigest[32];  // SHA-256 of the image: the build identity
  uint8_t sourceDigest[32]; // SHA-256 of the wasm module it was compiled from
  uint8_t keyId[8];         // artefactKeyId() of the key that sealed it
  uint8_t mac[32];          // HMAC-SHA256(key, every byte of the seal before `mac`)
};
static_assert(sizeof(ArtefactSeal) == 128);
static_assert(offsetof(ArtefactSeal, imageDigest) == 24);
static_assert(offsetof(ArtefactSeal, mac) == 96);

inline constexpr size_t kArtefactKeyBytes = 32;
using ArtefactKey = std::array<uint8_t, kArtefactKeyBytes>;

inline constexpr const char* kArtefactKeyEnv = "FAASM_ARTEFACT_KEY";
inline constexpr const char* kSystemArtefactKeyPath = "/etc/faasm/artefact-key";

// The per-user key file: $XDG_CONFIG_HOME/faasm/artefact-key, or
// $HOME/.config/faasm/artefact-key; empty if neither variable is set.
inline std::string userArtefactKeyPath(const char* xdgConfigHome, const char* home) {
  if (xdgConfigHome && *xdgConfigHome) return std::string(xdgConfigHome) + "/faasm/artefact-key";
  if (home && *home) return std::string(home) + "/.config/faasm/artefact-key";
  return {};
}

// 64 hex digits, optionally followed by one newline; nothing else.
inline std::optional<ArtefactKey> parseArtefactKey(std::string_view text) {
  if (text.size() == 2 * kArtefactKeyBytes + 1 && text.back() == '\n') text.remove_suffix(1);
  if (text.size() != 2 * kArtefactKeyBytes) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  ArtefactKey key;
  for (size_t i = 0; i < key.size(); ++i) {
    int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    key[i] = uint8_t(hi << 4 | lo);
  }
  return key;
}

// Whether a key file with this owner and mode may be used by `user`.
inline bool artefactKeyFileIsPrivate(uid_t owner, mode_t mode, uid_t user) {
  return (owner == 0 || owner == user) && (mode & 0027) == 0;
}

// Names a key in messages without revealing it: the first 8 bytes of
// SHA-256("faasm artefact key id" || key).
inline std::array<uint8_t, 8> artefactKeyId(const ArtefactKey& key) {
  Sha256 s;
  static constexpr char kLabel[] = "faasm artefact key id";
  s.update(kLabel, sizeof kLabel - 1);
  s.update(key.data(), key.size());
  Digest d = s.finish();
  std::array<uint8_t, 8> id;
  std::memcpy(id.data(), d.data(), id.size());
  return id;
}

// The MAC of a seal whose other fields are filled in.
inline Digest artefactSealMac(const ArtefactKey& key, const ArtefactSeal& seal) {
  return hmacSha256(key, {reinterpret_cast<const uint8_t*>(&seal), offsetof(ArtefactSeal, mac)});
}

inline std::string hexOf(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

} // namespace faasm::abi
