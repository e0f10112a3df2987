// Chains secret and awaits it (its output stays with the scheduler for
// this call), then chains thief, which guesses ids. Prints what thief
// returned: the number of outputs it could read.
#include <faasm/faasm.h>

#include <stdio.h>

int main(void) {
  uint32_t secret = faasmChainNamed("secret", (const uint8_t*)"", 0);
  if (!secret || faasmAwaitCall(secret) != 0) return 3;
  uint32_t thief = faasmChainNamed("thief", (const uint8_t*)"", 0);
  if (!thief) return 3;
  printf("victim: thief read %d outputs\n", (int)faasmAwaitCall(thief));
  return 0;
}
