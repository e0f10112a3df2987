// Chains stuck (whose zygote never becomes ready) and awaits it, then
// chains sink and awaits it: with one running slot, sink runs only if the
// slot stuck was given when it started waiting for its zygote came back.
#include <faasm/faasm.h>

#include <stdio.h>

int main(void) {
  uint32_t stuck = faasmChainNamed("stuck", (const uint8_t*)"", 0);
  if (!stuck) return 3;
  int32_t stuckStatus = faasmAwaitCall(stuck);
  uint32_t sink = faasmChainNamed("sink", (const uint8_t*)"", 0);
  if (!sink) return 4;
  int32_t sinkStatus = faasmAwaitCall(sink);
  printf("stuck-caller: stuck returned %d, sink returned %d\n", (int)stuckStatus, (int)sinkStatus);
  return 0;
}
