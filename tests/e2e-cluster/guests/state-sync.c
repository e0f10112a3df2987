// Input: a state key. Pulls it from the global tier and outputs its value;
// then writes "seen:" + value under "<key>-seen" and pushes that, so a test
// sees both directions across hosts.
#include "faasm/faasm.h"

#include <string.h>

int main(void) {
  static char key[128], value[4096], seen[4200], seenKey[160];
  int32_t n = faasmGetInputSize();
  if (n <= 0 || n >= (int32_t)sizeof key) return 2;
  faasmGetInput((uint8_t*)key, n);
  faasmPullState(key, 0);
  int32_t size = faasmReadStateSize(key);
  if (size > (int32_t)sizeof value) size = sizeof value;
  if (size > 0) faasmReadState(key, (uint8_t*)value, size);
  faasmSetOutput((uint8_t*)value, size);
  memcpy(seen, "seen:", 5);
  memcpy(seen + 5, value, size);
  memcpy(seenKey, key, n);
  memcpy(seenKey + n, "-seen", 6);
  faasmWriteState(seenKey, (uint8_t*)seen, size + 5);
  faasmPushState(seenKey);
  return 0;
}
