// Recursion bomb: a call chains itself with depth - 1 and awaits it, so
// every level stays alive waiting for the next (input "N" for the root,
// "+N" below it). The scheduler must refuse the level that would pass its
// cap of alive Faaslets (126), not start them all nor hang. Each level
// passes the refusal up as 4.
#include "census.h"

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  char text[32];
  inputText(text, sizeof text);
  int depth = atoi(text);
  census(+1);
  int rc = 0;
  if (depth > 0) {
    char next[32];
    int len = snprintf(next, sizeof next, "+%d", depth - 1);
    uint32_t id = faasmChainNamed("recurse", (const uint8_t*)next, len);
    if (!id) return 3;
    rc = faasmAwaitCall(id);
    if (rc == 126) rc = 4;
  }
  census(-1);
  if (text[0] != '+')
    printf("recurse: depth %d, status %d, peak %d\n", depth, rc, (int)censusPeak());
  return rc;
}
