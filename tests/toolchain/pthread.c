// POSIX threads for wasm32-wasi: wasi-libc has no pthread.h, and the host's
// must not be found instead.
#include <pthread.h>

static void* work(void* arg) {
  return arg;
}

int main(void) {
  pthread_t thread;
  return pthread_create(&thread, 0, work, 0);
}
