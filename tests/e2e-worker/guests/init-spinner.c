// Never finishes its initialisation: a constructor (run once, in the
// zygote, when its Proto-Faaslet is made) that spins until the
// initialisation's deadline kills it. A call to it waits for a zygote that
// never becomes ready.
#include "faasm/faasm.h"

__attribute__((constructor)) static void spin(void) {
  for (volatile int i = 0;; ++i) {
  }
}

int main(void) {
  return 0;
}
