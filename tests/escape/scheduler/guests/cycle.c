// An await cycle through guessed ids: a (the root) chains b and awaits it,
// b chains c and awaits it, c awaits ids 1..8, which on a scheduler with
// one numbering for every call include a's and b's (both waiting for c).
// Input "a", "b" or "c"; c returns how many of its awaits were not -1.
#include <faasm/faasm.h>

#include <stdio.h>

static int awaitThrough(const char* next) {
  uint32_t id = faasmChainNamed("cycle", (const uint8_t*)next, 1);
  return id ? faasmAwaitCall(id) : -100;
}

int main(void) {
  char role = 0;
  if (faasmGetInputSize() >= 1) faasmGetInput((uint8_t*)&role, 1);
  if (role == 'c') {
    int answered = 0;
    for (uint32_t id = 1; id <= 8; ++id)
      if (faasmAwaitCall(id) != -1) ++answered;
    return answered;
  }
  if (role == 'b') return awaitThrough("c");
  printf("cycle: c had %d awaits answered\n", awaitThrough("b"));
  return 0;
}
