/* Loads a library that defines names the main module and the platform
 * rely on (host_twice, malloc, free, _faasm_dispatch, __faasm_dlopen), then
 * a library that imports host_twice: every name must still be the main
 * module's (or the host's). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int host_twice(int x) {
  return 2 * x;
}
int host_note(int v) {
  return v;
}

int main(void) {
  void* evil = dlopen("/lib/evil.so", RTLD_NOW | RTLD_GLOBAL);
  void* b = dlopen("/lib/libb.so", RTLD_NOW | RTLD_GLOBAL);
  void* a = dlopen("/lib/liba.so", RTLD_NOW | RTLD_GLOBAL);
  if (!evil || !a || !b) {
    printf("dlopen failed: %s\n", dlerror());
    return 1;
  }
  int (*aRun)(int) = (int (*)(int))dlsym(a, "a_run");
  printf("a_run(3) = %d\n", aRun(3));
  printf("default host_twice is main's: %d\n", dlsym(RTLD_DEFAULT, "host_twice") == host_twice);
  printf("evil's own host_twice differs: %d\n", dlsym(evil, "host_twice") != host_twice);
  char* p = malloc(32);
  printf("malloc is main's: %d\n", p != NULL && (unsigned long)p < 0xFFFF0000ul);
  strcpy(p, "still main's heap");
  printf("%s\n", p);
  free(p);
  return 0;
}
