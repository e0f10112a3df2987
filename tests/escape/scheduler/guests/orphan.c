// Chains spinner, which never ends. Input "forget": returns at once without
// awaiting it. Input "await": awaits it and prints its return code.
#include <faasm/faasm.h>

#include <stdio.h>
#include <string.h>

int main(void) {
  char mode[16] = {0};
  int32_t n = faasmGetInputSize();
  faasmGetInput((uint8_t*)mode, n < 15 ? n : 15);
  uint32_t id = faasmChainNamed("spinner", (const uint8_t*)"", 0);
  if (!id) return 3;
  if (strcmp(mode, "await") == 0) printf("orphan: spinner returned %d\n", (int)faasmAwaitCall(id));
  return 0;
}
