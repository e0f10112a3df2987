// Takes any input. One that starts with 'w' waits until state "release" is
// set (polling every millisecond).
#include "census.h"

#include <unistd.h>

int main(void) {
  uint8_t first = 0;
  if (faasmGetInputSize() > 0) faasmGetInput(&first, 1);
  while (first == 'w') {
    uint8_t released = 0;
    if (faasmReadStateSize("release") >= 1) faasmReadState("release", &released, 1);
    if (released) break;
    usleep(1000);
  }
  return 0;
}
