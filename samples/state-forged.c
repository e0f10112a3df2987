// Hands the host forged pointers and lengths; every case must trap with
// "host call with out of bounds pointer" and leave the host unharmed.
//
//   state-forged write-ptr | write-len | read-ptr | key | fd-write | fd-write-len | state-range
#include <faasm/faasm.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  static uint8_t buffer[64];
  uint8_t* nearTop = (uint8_t*)(uintptr_t)0xFFFFFFF0u;
  if (strcmp(mode, "write-ptr") == 0)
    faasmWriteState("forged", nearTop, 64);
  else if (strcmp(mode, "write-len") == 0)
    faasmWriteState("forged", buffer, -1);
  else if (strcmp(mode, "read-ptr") == 0)
    faasmReadState("forged", nearTop, 64);
  else if (strcmp(mode, "key") == 0)
    faasmReadStateSize((const char*)nearTop);
  else if (strcmp(mode, "fd-write") == 0) {
    __wasi_ciovec_t iov = {nearTop, 64};
    __wasi_size_t written;
    if (__wasi_fd_write(1, &iov, 1, &written) != 0) return 1;
  } else if (strcmp(mode, "fd-write-len") == 0) {
    __wasi_ciovec_t iov = {buffer, 0xFFFFFFFFu};
    __wasi_size_t written;
    if (__wasi_fd_write(1, &iov, 1, &written) != 0) return 1;
  } else if (strcmp(mode, "state-range") == 0) {
    faasmWriteStateOffset("forged", 16, 8, buffer, 16); // past the value's end
  } else {
    return 2;
  }
  printf("not trapped\n");
  return 0;
}
