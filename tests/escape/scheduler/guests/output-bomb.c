// Output bomb. Input "M": sets an output of M MiB (M = 1126: 1.1 GiB, more
// than a message may carry). Input "pile K M": chains K calls of itself
// with "M" and awaits them all, so that their outputs pile up in the
// scheduler; prints how many ended well and how many failed.
#include "census.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLS 256

int main(void) {
  char text[64];
  inputText(text, sizeof text);
  if (strncmp(text, "pile ", 5) == 0) {
    int k = 0, m = 0;
    if (sscanf(text + 5, "%d %d", &k, &m) != 2 || k < 1 || k > MAX_CALLS) return 2;
    char arg[16];
    int len = snprintf(arg, sizeof arg, "%d", m);
    static uint32_t ids[MAX_CALLS];
    for (int i = 0; i < k; ++i)
      if (!(ids[i] = faasmChainNamed("output-bomb", (const uint8_t*)arg, len))) return 3;
    int ok = 0, failed = 0, other = 0, sizeRight = 1;
    for (int i = 0; i < k; ++i) {
      int rc = faasmAwaitCall(ids[i]);
      if (rc == 0) {
        ++ok;
        // The full size comes back whatever the buffer's.
        uint8_t one;
        if (faasmGetOutput(ids[i], &one, 1) != (m << 20)) sizeRight = 0;
      } else if (rc == 134) {
        ++failed;
      } else {
        ++other;
      }
    }
    printf("pile: %d ok%s, %d failed, %d other\n", ok, sizeRight ? "" : " (wrong sizes)", failed,
           other);
    return 0;
  }
  int m = atoi(text);
  if (m < 1) return 2;
  // Fresh pages of linear memory: zero, and never written here.
  uint8_t* out = malloc((size_t)m << 20);
  if (!out) return 5;
  faasmSetOutput(out, m << 20);
  return 0;
}
