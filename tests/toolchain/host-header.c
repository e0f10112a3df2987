// zlib.h is a host header (Debian's zlib1g-dev); the target has no zlib, so the
// wrappers must not find it.
#include <zlib.h>

int main(void) {
  return ZLIB_VERNUM == 0;
}
