/* dlopens every path it is given, one line each: "<path>: OK" or
 * "<path>: NULL: <dlerror>", then "alive" (the Faaslet survived). */
#include <dlfcn.h>
#include <stdio.h>

int host_twice(int x) {
  return 2 * x;
}
int host_note(int v) {
  return v;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    void* handle = dlopen(argv[i], RTLD_NOW);
    if (handle)
      printf("%s: OK\n", argv[i]);
    else
      printf("%s: NULL: %s\n", argv[i], dlerror());
  }
  printf("alive\n");
  return 0;
}
