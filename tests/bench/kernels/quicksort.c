/* Quicksort of n 32-bit integers (argv[1] = n): median-of-three Hoare
 * partition, recursion on the smaller side, insertion sort below 16.
 * Check: the output is sorted and is a permutation of the input (sum and
 * a sum of hashed values are preserved). */
#include "bench.h"

static void insertionSort(uint32_t* a, long lo, long hi) {
  for (long i = lo + 1; i <= hi; i++) {
    uint32_t v = a[i];
    long j = i - 1;
    while (j >= lo && a[j] > v)
      a[j + 1] = a[j], j--;
    a[j + 1] = v;
  }
}

static void swap(uint32_t* a, long i, long j) {
  uint32_t t = a[i];
  a[i] = a[j];
  a[j] = t;
}

static void quickSort(uint32_t* a, long lo, long hi) {
  while (hi - lo >= 16) {
    long mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    uint32_t pivot = a[mid];
    long i = lo - 1, j = hi + 1;
    for (;;) {
      do
        i++;
      while (a[i] < pivot);
      do
        j--;
      while (a[j] > pivot);
      if (i >= j) break;
      swap(a, i, j);
    }
    if (j - lo < hi - j) {
      quickSort(a, lo, j);
      lo = j + 1;
    } else {
      quickSort(a, j + 1, hi);
      hi = j;
    }
  }
  insertionSort(a, lo, hi);
}

int main(int argc, char** argv) {
  long n = benchSize(argc, argv, 4400000);
  uint32_t* a = malloc(sizeof(uint32_t) * n);
  BenchRng rng = {1234};
  uint64_t sumBefore = 0, hashBefore = 0;
  for (long i = 0; i < n; i++) {
    a[i] = (uint32_t)(benchNext(&rng) >> 32);
    sumBefore += a[i];
    hashBefore += benchMix(a[i]);
  }

  benchStart();
  quickSort(a, 0, n - 1);
  benchStop();

  int sorted = 1;
  uint64_t sumAfter = 0, hashAfter = 0, weighted = 0;
  for (long i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) sorted = 0;
    sumAfter += a[i];
    hashAfter += benchMix(a[i]);
    weighted += (uint64_t)a[i] * (uint64_t)(i + 1);
  }
  char checksum[64];
  snprintf(checksum, sizeof checksum, "%016llx", (unsigned long long)weighted);
  return benchFinish(checksum, sorted && sumBefore == sumAfter && hashBefore == hashAfter,
                     "output is not a sorted permutation of the input");
}
