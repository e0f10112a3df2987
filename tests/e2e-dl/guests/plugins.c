/* A plugin host: loads two libraries that call back into it and into each
 * other, calls through pointers both ways, reads their data, and checks
 * dlerror and dlclose. Built for wasm (faasm-cc --faasm-dl-main) and
 * natively (-rdynamic -ldl) from this one source; the outputs must match. */
#include <dlfcn.h>
#include <stdio.h>

int host_calls = 0;

int host_twice(int x) {
  return 2 * x;
}

int host_note(int v) {
  ++host_calls;
  return v;
}

static void* load(const char* dir, const char* name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  void* handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  /* On stderr: the text of the error is the platform's own. */
  if (!handle) fprintf(stderr, "dlopen %s failed: %s\n", name, dlerror());
  return handle;
}

int main(int argc, char** argv) {
  const char* dir = argc > 1 ? argv[1] : "/lib";
  void* b = load(dir, "libb.so"); /* liba needs it: first */
  void* a = load(dir, "liba.so");
  if (!a || !b) return 1;
  int (*aRun)(int) = (int (*)(int))dlsym(a, "a_run");
  int* aData = (int*)dlsym(a, "a_data");
  int (*(*aScale)(void))(int) = (int (*(*)(void))(int))dlsym(a, "a_get_scale");
  int (*(*aHost)(void))(int) = (int (*(*)(void))(int))dlsym(a, "a_get_host_twice");
  int (*bScale)(int) = (int (*)(int))dlsym(b, "b_scale");
  if (!aRun || !aData || !aScale || !aHost || !bScale) {
    printf("dlsym failed: %s\n", dlerror());
    return 2;
  }
  printf("a_run(3) = %d\n", aRun(3));
  printf("a_data = %d\n", *aData);
  *aData = 100;
  printf("a_run(3) after a_data = 100: %d\n", aRun(3));
  printf("host_calls = %d\n", host_calls);
  printf("a_get_scale()(7) = %d\n", aScale()(7));
  printf("a_get_scale() == dlsym(b, b_scale): %d\n", aScale() == bScale);
  printf("a_get_host_twice() == host_twice: %d\n", aHost() == host_twice);
  printf("host_calls = %d\n", host_calls);
  printf("missing symbol: %s\n", dlsym(a, "no_such_symbol") ? "found" : "NULL");
  printf("dlerror set: %d\n", dlerror() != NULL);
  printf("dlerror cleared: %d\n", dlerror() == NULL);
  printf("missing library: %s\n", load(dir, "missing.so") ? "loaded" : "NULL");
  printf("dlclose(a) = %d\n", dlclose(a));
  printf("dlclose(b) = %d\n", dlclose(b));
  return 0;
}
