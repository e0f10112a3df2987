/* dlopen during initialisation (a constructor, run in the Proto-Faaslet):
 * refused, as a library cannot be part of a snapshot. */
#include <dlfcn.h>
#include <stdio.h>

int host_twice(int x) {
  return 2 * x;
}
int host_note(int v) {
  return v;
}

static void* loaded;

__attribute__((constructor)) static void early(void) {
  loaded = dlopen("/lib/libb.so", RTLD_NOW);
}

int main(void) {
  printf("loaded: %d\n", loaded != NULL);
  return 0;
}
