// Its initialisation never ends: a constructor (run once, when its zygote
// makes the Proto-Faaslet) that spins, so a call to it waits for a zygote
// that is never ready.
#include <faasm/faasm.h>

__attribute__((constructor)) static void spin(void) {
  for (volatile int i = 0;; ++i) {
  }
}

int main(void) {
  return 0;
}
