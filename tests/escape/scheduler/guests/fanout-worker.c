// A worker of the fan-out bomb: alive for 20 ms, counted in the census.
#include "census.h"

#include <unistd.h>

int main(void) {
  census(+1);
  usleep(20000);
  census(-1);
  return 0;
}
