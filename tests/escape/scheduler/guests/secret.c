// A call whose output is nobody's business but its caller's.
#include <faasm/faasm.h>

int main(void) {
  static const char secret[] = "secret-data";
  faasmSetOutput((const uint8_t*)secret, sizeof secret - 1);
  return 0;
}
