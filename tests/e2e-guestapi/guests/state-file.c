// faasmWriteStateFromFile (C): a file the function can see (a preopened
// directory, faasm-run --dir) copied into state. The arguments:
//   write PATH       writes a file at PATH, copies it into state, reads it back
//   copy PATH        copies an existing file into state (it must fail loudly
//                    when PATH is not one of the function's files)
#include <faasm/faasm.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  const char* key = "guestapi-file";
  if (strcmp(argv[1], "write") == 0) {
    const char* text = "state from a file\n";
    FILE* f = fopen(argv[2], "w");
    if (!f) {
      perror(argv[2]);
      return 3;
    }
    fputs(text, f);
    fclose(f);
    unsigned long n = faasmWriteStateFromFile(key, argv[2]);
    char back[64] = {0};
    int32_t size = faasmReadState(key, (uint8_t*)back, sizeof back - 1);
    printf("wrote %lu bytes; state holds %d: %s", n, size, back);
    return n == strlen(text) && strcmp(back, text) == 0 ? 0 : 4;
  }
  if (strcmp(argv[1], "copy") == 0) {
    unsigned long n = faasmWriteStateFromFile(key, argv[2]);
    printf("copied %lu bytes\n", n);
    return 0;
  }
  return 2;
}
