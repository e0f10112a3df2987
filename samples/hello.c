// The smallest Faasm function: prints a greeting through WASI's fd_write.
#include <stdio.h>

int main(void) {
  printf("Hello from a Faaslet!\n");
  return 0;
}
