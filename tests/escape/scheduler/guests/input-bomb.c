// Input bomb through chaining. Input "big M": chains sink with an input of
// M MiB (1126: 1.1 GiB). Input "pile K M": chains K sinks with M MiB each
// while they cannot start (those that do start wait for state "release"),
// so their inputs pile up in the scheduler's queue; then releases them and
// awaits those it got.
#include "census.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALLS 256

int main(void) {
  char text[64];
  inputText(text, sizeof text);
  int k = 0, m = 0;
  if (sscanf(text, "big %d", &m) == 1) {
    uint8_t* in = malloc((size_t)m << 20); // fresh zero pages
    if (!in) return 5;
    uint32_t id = faasmChainNamed("sink", in, m << 20);
    if (!id) {
      printf("input-bomb: chain refused\n");
      return 7;
    }
    printf("input-bomb: sink returned %d\n", (int)faasmAwaitCall(id));
    return 0;
  }
  if (sscanf(text, "pile %d %d", &k, &m) != 2 || k < 1 || k > MAX_CALLS) return 2;
  uint8_t* in = malloc((size_t)m << 20);
  if (!in) return 5;
  memset(in, 'w', (size_t)m << 20); // "wait for release"
  static uint32_t ids[MAX_CALLS];
  int accepted = 0, refused = 0;
  for (int i = 0; i < k; ++i) {
    uint32_t id = faasmChainNamed("sink", in, m << 20);
    if (id)
      ids[accepted++] = id;
    else
      ++refused;
  }
  uint8_t one = 1;
  faasmWriteState("release", &one, 1);
  int ok = 0;
  for (int i = 0; i < accepted; ++i)
    if (faasmAwaitCall(ids[i]) == 0) ++ok;
  printf("pile: %d accepted, %d refused, %d ok\n", accepted, refused, ok);
  return 0;
}
