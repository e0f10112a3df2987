/* SHA-256 (FIPS 180-4) over a generated buffer (argv[1] = MiB hashed), in
 * 1 MiB messages chained through their digests. Check: the FIPS test vectors
 * ("", "abc", one million 'a'), and the same data hashed in one call and in
 * uneven pieces through the streaming interface give the same digest. */
#include "bench.h"
#include <string.h>

static const uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

typedef struct {
  uint32_t h[8];
  uint8_t block[64];
  size_t used;
  uint64_t length;
} Sha256;

static inline uint32_t rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t* h, const uint8_t* p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 =
        k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

static void shaInit(Sha256* s) {
  static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, initial, sizeof initial);
  s->used = 0;
  s->length = 0;
}

static void shaUpdate(Sha256* s, const uint8_t* data, size_t n) {
  s->length += n;
  while (n > 0) {
    if (s->used == 0 && n >= 64) {
      compress(s->h, data);
      data += 64, n -= 64;
      continue;
    }
    size_t take = 64 - s->used < n ? 64 - s->used : n;
    memcpy(s->block + s->used, data, take);
    s->used += take, data += take, n -= take;
    if (s->used == 64) compress(s->h, s->block), s->used = 0;
  }
}

static void shaFinal(Sha256* s, uint8_t out[32]) {
  uint64_t bits = s->length * 8;
  uint8_t pad[72] = {0x80};
  size_t padLength = (s->used < 56 ? 56 : 120) - s->used;
  for (int i = 0; i < 8; i++)
    pad[padLength + i] = (uint8_t)(bits >> (56 - 8 * i));
  shaUpdate(s, pad, padLength + 8);
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 4; j++)
      out[4 * i + j] = (uint8_t)(s->h[i] >> (24 - 8 * j));
}

static void toHex(const uint8_t* digest, char* out) {
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", digest[i]);
}

static int vectorMatches(const uint8_t* data, size_t n, size_t repeat, const char* expected) {
  Sha256 s;
  uint8_t digest[32];
  char hex[65];
  shaInit(&s);
  for (size_t i = 0; i < repeat; i++)
    shaUpdate(&s, data, n);
  shaFinal(&s, digest);
  toHex(digest, hex);
  return strcmp(hex, expected) == 0;
}

int main(int argc, char** argv) {
  long mib = benchSize(argc, argv, 64);
  const size_t messageSize = 1 << 20;
  uint8_t* buffer = malloc(messageSize);
  BenchRng rng = {5};
  for (size_t i = 0; i < messageSize; i++)
    buffer[i] = (uint8_t)(benchNext(&rng) >> 56);

  int ok = vectorMatches((const uint8_t*)"", 0, 1,
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &&
           vectorMatches((const uint8_t*)"abc", 3, 1,
                         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") &&
           vectorMatches((const uint8_t*)"a", 1, 1000000,
                         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

  uint8_t digest[32];
  benchStart();
  for (long m = 0; m < mib; m++) {
    Sha256 s;
    shaInit(&s);
    shaUpdate(&s, buffer, messageSize);
    shaFinal(&s, digest);
    memcpy(buffer + (m * 32) % (messageSize - 32), digest, 32);
  }
  benchStop();

  /* The final buffer, hashed whole and in uneven pieces. */
  uint8_t pieces[32];
  {
    Sha256 whole, split;
    uint8_t wholeDigest[32];
    shaInit(&whole);
    shaUpdate(&whole, buffer, messageSize);
    shaFinal(&whole, wholeDigest);
    shaInit(&split);
    size_t at = 0, step = 1;
    while (at < messageSize) {
      size_t take = step < messageSize - at ? step : messageSize - at;
      shaUpdate(&split, buffer + at, take);
      at += take, step = step * 3 % 1021 + 1;
    }
    shaFinal(&split, pieces);
    if (memcmp(pieces, wholeDigest, 32) != 0) ok = 0;
  }
  char hex[65];
  toHex(digest, hex);
  return benchFinish(hex, ok, "SHA-256 test vectors or streaming check failed");
}
