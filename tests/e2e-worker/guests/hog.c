// Takes memory until something stops it (the Faaslet's memory limit).
#include <stdlib.h>
#include <string.h>

int main(void) {
  for (;;) {
    char* p = malloc(1 << 20);
    if (!p) return 3; // linear memory is full (4 GiB): no limit stopped it first
    memset(p, 1, 1 << 20);
  }
}
