// Faasm's file helpers (faasm/cpp libfaasm's files.h). Header only. Paths
// are the function's own (WASI, inside its preopened directories).
#pragma once

#ifndef __cplusplus
#error "faasm/files.h is C++"
#endif

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faasm {

// The file's size in bytes, or -1 if it cannot be opened.
inline long getFileLength(const char* path) {
  int fd = open(path, O_RDONLY);
  if (fd == -1) return -1;
  struct stat s{};
  int rc = fstat(fd, &s);
  close(fd);
  return rc == 0 ? long(s.st_size) : -1;
}

// The file's bytes and a NUL, malloc'd; nullptr if it cannot be read or is
// empty (as in Faasm).
inline char* readFileToString(const char* path) {
  long length = getFileLength(path);
  if (length <= 0) return nullptr;
  FILE* f = std::fopen(path, "rb");
  if (!f) return nullptr;
  char* buffer = static_cast<char*>(std::malloc(size_t(length) + 1));
  size_t n = buffer ? std::fread(buffer, 1, size_t(length), f) : 0;
  std::fclose(f);
  if (n == 0) {
    std::free(buffer);
    return nullptr;
  }
  buffer[n] = '\0';
  return buffer;
}

} // namespace faasm
