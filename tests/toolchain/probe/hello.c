#include <stdio.h>

int main(void) {
  puts("hello from the toolchain probe");
  return 0;
}
