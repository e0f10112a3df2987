// Fails the way a test fails: a non-zero exit status.
#include <stdio.h>

int main(void) {
  printf("about to fail\n");
  return 3;
}
