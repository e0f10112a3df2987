// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), header only, for the
// artefact seal (faasm/abi/Artefact.h) that faasm-codegen writes and the
// runtime checks: both sides must compute exactly the same function, and this
// header is the only code they share. A plain implementation of the public
// algorithm, written from the standard; tests/unit/runtime/DigestTests.cpp
// checks it against the FIPS 180-4 and RFC 4231 test vectors.
//
// Not constant time in its input length (nothing secret is ever a length
// here); the MAC comparison is (equalDigests).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace faasm::abi {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
public:
  Sha256() { reset(); }

  void reset() {
    static constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(h_, kInit, sizeof h_);
    total_ = 0;
    used_ = 0;
  }

  void update(const void* data, size_t size) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    total_ += size;
    if (used_) {
      size_t take = std::min(size, sizeof buffer_ - used_);
      std::memcpy(buffer_ + used_, p, take);
      used_ += take;
      p += take;
      size -= take;
      if (used_ < sizeof buffer_) return;
      compress(buffer_);
      used_ = 0;
    }
    for (; size >= 64; p += 64, size -= 64)
      compress(p);
    std::memcpy(buffer_, p, size);
    used_ = size;
  }
  void update(std::span<const uint8_t> bytes) { update(bytes.data(), bytes.size()); }

  Digest finish() {
    uint64_t bits = total_ * 8;
    uint8_t pad[72] = {0x80};
    size_t padBytes = (used_ < 56 ? 56 : 120) - used_;
    for (int i = 0; i < 8; ++i)
      pad[padBytes + size_t(i)] = uint8_t(bits >> (56 - 8 * i));
    update(pad, padBytes + 8);
    Digest out;
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 4; ++j)
        out[size_t(4 * i + j)] = uint8_t(h_[i] >> (24 - 8 * j));
    reset();
    return out;
  }

  static Digest of(std::span<const uint8_t> bytes) {
    Sha256 s;
    s.update(bytes);
    return s.finish();
  }

private:
  static constexpr uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

  void compress(const uint8_t* block) {
    static constexpr uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(block[4 * i]) << 24 | uint32_t(block[4 * i + 1]) << 16 |
             uint32_t(block[4 * i + 2]) << 8 | uint32_t(block[4 * i + 3]);
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
  }

  uint32_t h_[8];
  uint64_t total_;
  uint8_t buffer_[64];
  size_t used_;
};

// HMAC-SHA256(key, message), RFC 2104 with B = 64: a key longer than a block
// is hashed first.
inline Digest hmacSha256(std::span<const uint8_t> key, std::span<const uint8_t> message) {
  uint8_t block[64] = {};
  if (key.size() > sizeof block) {
    Digest k = Sha256::of(key);
    std::memcpy(block, k.data(), k.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t pad[64];
  Sha256 inner;
  for (size_t i = 0; i < 64; ++i)
    pad[i] = block[i] ^ 0x36;
  inner.update(pad, sizeof pad);
  inner.update(message);
  Digest innerDigest = inner.finish();
  Sha256 outer;
  for (size_t i = 0; i < 64; ++i)
    pad[i] = block[i] ^ 0x5c;
  outer.update(pad, sizeof pad);
  outer.update(innerDigest.data(), innerDigest.size());
  // Best effort: fewer copies of the key left in this frame's stack.
  volatile uint8_t* wipe = block;
  for (size_t i = 0; i < sizeof block; ++i)
    wipe[i] = 0;
  wipe = pad;
  for (size_t i = 0; i < sizeof pad; ++i)
    wipe[i] = 0;
  return outer.finish();
}

// Compares two digests in time independent of where they differ (a MAC check
// must not tell a forger how many leading bytes were right).
inline bool equalDigests(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= uint8_t(a[i] ^ b[i]);
  return diff == 0;
}

} // namespace faasm::abi
