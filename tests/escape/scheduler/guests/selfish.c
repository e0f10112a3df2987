// A call awaiting its own id. The root (input empty) awaits 0, 1, 2 and
// 0xffffffff before it has chained anything, which on a scheduler with one
// numbering are its own id and its child's to be; then chains a child
// (input "child") and awaits it. The child awaits 2 (its own id there) and
// 1 (its caller's, waiting for it). Each returns how many of those awaits
// were not -1.
#include <faasm/faasm.h>

#include <stdio.h>

int main(void) {
  char role = 0;
  if (faasmGetInputSize() >= 1) faasmGetInput((uint8_t*)&role, 1);
  if (role == 'c') return (faasmAwaitCall(2) != -1) + (faasmAwaitCall(1) != -1);
  static const uint32_t mine[] = {0, 1, 2, 0xffffffff};
  int answered = 0;
  for (unsigned i = 0; i < sizeof mine / sizeof mine[0]; ++i)
    if (faasmAwaitCall(mine[i]) != -1) ++answered;
  uint32_t child = faasmChainNamed("selfish", (const uint8_t*)"child", 5);
  if (!child) return 3;
  printf("selfish: %d of own awaits answered, child %d\n", answered, (int)faasmAwaitCall(child));
  return 0;
}
