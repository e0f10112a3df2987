/* Dynamic loading for wasm32-wasi guests of Faasm (docs/DynamicLoading.md).
 *
 * dlopen opens the library file with open(2), so its path is resolved and
 * confined under the Faaslet's preopened directories exactly as every file
 * path is, and hands the descriptor to the host, which links the artefact
 * into this instance if it is one the function was granted (faasm-run
 * --lib). dlsym returns a function pointer (a table index) or a data
 * address. Libraries are built with faasm-cc --faasm-dl-lib, the main module
 * with faasm-cc --faasm-dl-main.
 *
 * Header only: the host imports of module "faasm" and the rest, here. */
#ifndef FAASM_DLFCN_H
#define FAASM_DLFCN_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RTLD_LAZY 0x1
#define RTLD_NOW 0x2
#define RTLD_NOLOAD 0x4
#define RTLD_NODELETE 0x1000
#define RTLD_GLOBAL 0x100
#define RTLD_LOCAL 0
#define RTLD_DEFAULT ((void*)0)

#define FAASM_DL_IMPORT(name) __attribute__((import_module("faasm"), import_name(#name)))

/* The host side: a handle > 0 or 0; 0 or -1; 0 or -1; the error's length
 * (copied NUL-terminated, cut to fit) or 0 if there is none. */
FAASM_DL_IMPORT(__faasm_dlopen)
int32_t __faasm_dlopen(int32_t fd, const char* name, int32_t nameLen, int32_t flags);
FAASM_DL_IMPORT(__faasm_dlsym)
int32_t __faasm_dlsym(int32_t handle, const char* name, int32_t nameLen, uint32_t* out);
FAASM_DL_IMPORT(__faasm_dlclose) int32_t __faasm_dlclose(int32_t handle);
FAASM_DL_IMPORT(__faasm_dlerror) int32_t __faasm_dlerror(char* buffer, int32_t bufferLen);

/* An error of the guest side (the file could not be opened), which the
 * next dlerror reports before asking the host. */
static char __faasm_dl_error[512];
static int __faasm_dl_error_set;

static inline void* dlopen(const char* path, int flags) {
  if (!path) {
    snprintf(__faasm_dl_error, sizeof __faasm_dl_error,
             "dlopen(NULL): the main module's symbols are reached with RTLD_DEFAULT");
    __faasm_dl_error_set = 1;
    return 0;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(__faasm_dl_error, sizeof __faasm_dl_error, "%s: cannot open: %s", path,
             strerror(errno));
    __faasm_dl_error_set = 1;
    return 0;
  }
  int32_t handle = __faasm_dlopen(fd, path, (int32_t)strlen(path), flags);
  close(fd);
  __faasm_dl_error_set = 0;
  return handle > 0 ? (void*)(uintptr_t)handle : 0;
}

static inline void* dlsym(void* handle, const char* symbol) {
  uint32_t value = 0;
  if (__faasm_dlsym((int32_t)(uintptr_t)handle, symbol, (int32_t)strlen(symbol), &value) != 0)
    return 0;
  return (void*)(uintptr_t)value;
}

static inline int dlclose(void* handle) {
  return __faasm_dlclose((int32_t)(uintptr_t)handle) == 0 ? 0 : -1;
}

static inline char* dlerror(void) {
  static char buffer[512];
  if (__faasm_dl_error_set) {
    __faasm_dl_error_set = 0;
    return __faasm_dl_error;
  }
  return __faasm_dlerror(buffer, (int32_t)sizeof buffer) > 0 ? buffer : 0;
}

#undef FAASM_DL_IMPORT

#ifdef __cplusplus
}
#endif

#endif
