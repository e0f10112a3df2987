/* Open-addressing hash table (linear probing, 64-bit keys hashed with a
 * splitmix64 finaliser), as a key-value cache would use: n inserts
 * (argv[1] = n), then 4 n lookups of which half hit, then n/2 updates.
 * Check: the inserted keys are benchMix(2i) and the missing ones
 * benchMix(2i+1), distinct because benchMix is a bijection, so the hit count
 * and the sum of the values found are known in closed form. */
#include "bench.h"

typedef struct {
  uint64_t key; /* 0 marks an empty slot; no inserted key is 0 */
  uint64_t value;
} Slot;

static inline uint64_t hashKey(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdULL;
  key ^= key >> 33;
  return key;
}

static Slot* lookup(Slot* table, uint64_t mask, uint64_t key) {
  uint64_t i = hashKey(key) & mask;
  while (table[i].key != 0 && table[i].key != key)
    i = (i + 1) & mask;
  return &table[i];
}

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 1000000);
  uint64_t capacity = 1;
  while (capacity < (uint64_t)n * 2)
    capacity <<= 1;
  Slot* table = calloc(capacity, sizeof(Slot));
  uint64_t mask = capacity - 1;

  benchStart();
  for (long i = 0; i < n; i++) {
    uint64_t key = benchMix(2 * (uint64_t)i + 2);
    Slot* s = lookup(table, mask, key);
    s->key = key;
    s->value = (uint64_t)i;
  }
  uint64_t hits = 0, valueSum = 0;
  for (long round = 0; round < 2; round++)
    for (long i = 0; i < n; i++) {
      uint64_t key = benchMix((uint64_t)i * 2 + 2 + (uint64_t)((i + round) & 1));
      Slot* s = lookup(table, mask, key);
      if (s->key == key) hits++, valueSum += s->value;
    }
  for (long i = 0; i < n; i++) {
    Slot* s = lookup(table, mask, benchMix(2 * (uint64_t)i + 2));
    if (s->key != 0) s->value += 1;
  }
  benchStop();

  /* Round 0 hits even i, round 1 odd i: each inserted key is found once. */
  uint64_t expectedSum = (uint64_t)n * (uint64_t)(n - 1) / 2, finalSum = 0, occupied = 0;
  for (uint64_t i = 0; i < capacity; i++)
    if (table[i].key != 0) occupied++, finalSum += table[i].value;
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%llu/%llu", (unsigned long long)hits,
           (unsigned long long)finalSum);
  int ok = hits == (uint64_t)n && valueSum == expectedSum && occupied == (uint64_t)n &&
           finalSum == expectedSum + (uint64_t)n;
  return benchFinish(checksum, ok, "hash table lost, duplicated or corrupted entries");
}
