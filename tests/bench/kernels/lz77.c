/* LZ77 compression with hash chains (4-byte hash, chain depth 32, matches of
 * 4..255 bytes within a 64 KiB window) of generated text-like data
 * (argv[1] = KiB of input), then decompression. Check: the round trip gives
 * the input back, and the data compresses below 60%. */
#include "bench.h"
#include <string.h>

#define WINDOW 65536
#define HASH_BITS 16
#define MAX_CHAIN 32
#define MIN_MATCH 4
#define MAX_MATCH 255

static inline uint32_t hash4(const uint8_t* p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Token stream: a control byte c; c < 128 means c+1 literal bytes follow;
 * otherwise a match of length (c - 128 + MIN_MATCH), then a 16-bit distance. */
static size_t compress(const uint8_t* in, size_t n, uint8_t* out, int32_t* head, int32_t* prev) {
  size_t o = 0, literalStart = 0, i = 0;
  for (size_t h = 0; h < (1u << HASH_BITS); h++)
    head[h] = -1;
  while (i < n) {
    size_t bestLength = 0, bestDistance = 0;
    if (i + MIN_MATCH <= n) {
      uint32_t h = hash4(in + i);
      int32_t candidate = head[h];
      size_t limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
      for (int depth = 0; candidate >= 0 && i - (size_t)candidate < WINDOW && depth < MAX_CHAIN;
           depth++) {
        const uint8_t* a = in + candidate;
        const uint8_t* b = in + i;
        if (a[bestLength] == b[bestLength]) {
          size_t length = 0;
          while (length < limit && a[length] == b[length])
            length++;
          if (length > bestLength) {
            bestLength = length, bestDistance = i - (size_t)candidate;
            if (length == limit) break;
          }
        }
        candidate = prev[candidate % WINDOW];
      }
      prev[i % WINDOW] = head[h];
      head[h] = (int32_t)i;
    }
    if (bestLength >= MIN_MATCH) {
      while (literalStart < i) {
        size_t run = i - literalStart < 128 ? i - literalStart : 128;
        out[o++] = (uint8_t)(run - 1);
        memcpy(out + o, in + literalStart, run);
        o += run, literalStart += run;
      }
      out[o++] = (uint8_t)(128 + bestLength - MIN_MATCH);
      out[o++] = (uint8_t)bestDistance;
      out[o++] = (uint8_t)(bestDistance >> 8);
      for (size_t k = 1; k < bestLength; k++) {
        size_t p = i + k;
        if (p + MIN_MATCH <= n) {
          uint32_t h = hash4(in + p);
          prev[p % WINDOW] = head[h];
          head[h] = (int32_t)p;
        }
      }
      i += bestLength;
      literalStart = i;
    } else {
      i++;
    }
  }
  while (literalStart < n) {
    size_t run = n - literalStart < 128 ? n - literalStart : 128;
    out[o++] = (uint8_t)(run - 1);
    memcpy(out + o, in + literalStart, run);
    o += run, literalStart += run;
  }
  return o;
}

static size_t decompress(const uint8_t* in, size_t n, uint8_t* out) {
  size_t i = 0, o = 0;
  while (i < n) {
    uint8_t c = in[i++];
    if (c < 128) {
      memcpy(out + o, in + i, (size_t)c + 1);
      i += (size_t)c + 1, o += (size_t)c + 1;
    } else {
      size_t length = (size_t)c - 128 + MIN_MATCH;
      size_t distance = (size_t)in[i] | (size_t)in[i + 1] << 8;
      i += 2;
      for (size_t k = 0; k < length; k++, o++)
        out[o] = out[o - distance];
    }
  }
  return o;
}

int main(int argc, char** argv) {
  size_t n = (size_t)benchSize(argc, argv, 11264) * 1024;
  static const char* const words[] = {"the",     "function", "returns", "state", "memory",
                                      "faaslet", "of",       "and",     "value", "request",
                                      "user",    "id",       "time",    "error", "cache",
                                      "to",      "from",     "with",    "data",  "node"};
  uint8_t* input = malloc(n + 64);
  BenchRng rng = {77};
  size_t at = 0;
  while (at < n) {
    uint64_t r = benchNext(&rng);
    if ((r & 7) == 0) {
      at += (size_t)snprintf((char*)input + at, 32, "%u ", (unsigned)(r >> 40) % 100000);
    } else {
      const char* w = words[(r >> 8) % 20];
      size_t length = strlen(w);
      memcpy(input + at, w, length);
      at += length;
      input[at++] = (r >> 16) % 13 == 0 ? '\n' : ' ';
    }
  }
  uint8_t* packed = malloc(n + n / 64 + 16);
  uint8_t* unpacked = malloc(n + 16);
  int32_t* head = malloc(sizeof(int32_t) << HASH_BITS);
  int32_t* prev = malloc(sizeof(int32_t) * WINDOW);

  benchStart();
  size_t packedSize = compress(input, n, packed, head, prev);
  size_t unpackedSize = decompress(packed, packedSize, unpacked);
  benchStop();

  uint64_t fnv = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < packedSize; i++)
    fnv = (fnv ^ packed[i]) * 0x100000001b3ULL;
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%zu/%016llx", packedSize, (unsigned long long)fnv);
  int ok = unpackedSize == n && memcmp(unpacked, input, n) == 0 && packedSize < n * 6 / 10;
  return benchFinish(checksum, ok, "LZ77 round trip differs from the input or does not compress");
}
