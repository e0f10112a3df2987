// Recursion bomb by function pointer: as recurse.c, but each level is a call
// of this same function chained with faasmChain at `level` (input "N" for
// the root, which enters at main). The scheduler must hold calls chained by
// pointer to the same cap of alive Faaslets as calls chained by name.
#include "census.h"

#include <stdio.h>
#include <stdlib.h>

static int level(void);

// One level: chains the next, depth - 1, and awaits it; a refusal (126)
// comes back up as 4.
static int descend(int depth) {
  census(+1);
  int rc = 0;
  if (depth > 0) {
    char next[32];
    int len = snprintf(next, sizeof next, "%d", depth - 1);
    uint32_t id = faasmChain(level, (const uint8_t*)next, len);
    if (!id) return 3;
    rc = faasmAwaitCall(id);
    if (rc == 126) rc = 4;
  }
  census(-1);
  return rc;
}

static int level(void) {
  char text[32];
  return descend(atoi(inputText(text, sizeof text)));
}

int main(void) {
  char text[32];
  int depth = atoi(inputText(text, sizeof text));
  int rc = descend(depth);
  printf("recurse-ptr: depth %d, status %d, peak %d\n", depth, rc, (int)censusPeak());
  return rc;
}
