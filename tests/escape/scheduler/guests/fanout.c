// Fan-out bomb: one call chains N workers at once (input "N") and awaits
// them all. Each worker counts itself in the census while it lives, so the
// peak is how many ran at once. The scheduler must run at most its cap at
// once, queue the rest and lose none.
#include "census.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_CALLS 1000

int main(void) {
  char text[32];
  int n = atoi(inputText(text, sizeof text));
  if (n < 1 || n > MAX_CALLS) return 2;
  static uint32_t ids[MAX_CALLS];
  for (int i = 0; i < n; ++i)
    if (!(ids[i] = faasmChainNamed("fanout-worker", (const uint8_t*)"", 0))) return 3;
  int ok = 0;
  for (int i = 0; i < n; ++i)
    if (faasmAwaitCall(ids[i]) == 0) ++ok;
  printf("fanout: %d calls, %d ok, peak %d\n", n, ok, (int)censusPeak());
  return 0;
}
