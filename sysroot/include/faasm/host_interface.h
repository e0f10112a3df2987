// Faasm's raw host interface, the `__faasm_*` functions its libfaasm wraps,
// for code that calls them directly. In Faasm each was an import of module
// "env"; here each is defined in the guest on top of faasm/faasm.h, with the
// meaning Faasm's host gave it. Those that cannot have that meaning here
// fail the call when called (one line on stderr, then a trap: exit status
// 134), as the API functions of faasm/faasm.h's "Not supported" do:
// Python (no Python runtime), the OpenMP shared-memory calls (no threads),
// S3 (no object store), the backtrace. docs/GuestAPI.md lists every name.
#pragma once

#include "faasm/faasm.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// Faasm's marker for these declarations (weak in native builds there).
#ifdef __wasm__
#define HOST_IFACE_FUNC
#else
#define HOST_IFACE_FUNC __attribute__((weak))
#endif

// A function a migration point may resume a call at (with one argument).
typedef void (*FaasmMigrateEntryPoint)(int);

// ----- State --------------------------------------------------------------

// With bufferLen 0 the value's size, else faasmReadState.
static inline long __faasm_read_state(const char* key, unsigned char* buffer, long bufferLen) {
  if (bufferLen == 0) return faasmReadStateSize(key);
  return faasmReadState(key, buffer, (int32_t)bufferLen);
}
static inline unsigned char* __faasm_read_state_ptr(const char* key, long totalLen) {
  return faasmReadStatePtr(key, (int32_t)totalLen);
}
static inline void __faasm_write_state(const char* key, const unsigned char* data, long dataLen) {
  faasmWriteState(key, data, (int32_t)dataLen);
}
static inline void __faasm_append_state(const char* key, const unsigned char* data, long dataLen) {
  faasmAppendState(key, data, (int32_t)dataLen);
}
static inline void __faasm_read_appended_state(const char* key, unsigned char* data, long dataLen,
                                               long nElems) {
  faasmReadAppendedState(key, data, (int32_t)dataLen, (int32_t)nElems);
}
static inline void __faasm_clear_appended_state(const char* key) {
  faasmClearAppendedState(key);
}
static inline void __faasm_write_state_offset(const char* key, long totalLen, long offset,
                                              const unsigned char* data, long dataLen) {
  faasmWriteStateOffset(key, (int32_t)totalLen, (int32_t)offset, data, (int32_t)dataLen);
}
static inline unsigned int __faasm_write_state_from_file(const char* key, const char* filePath) {
  return (unsigned int)faasmWriteStateFromFile(key, filePath);
}
static inline void __faasm_read_state_offset(const char* key, long totalLen, long offset,
                                             unsigned char* buffer, long bufferLen) {
  faasmReadStateOffset(key, (int32_t)totalLen, (int32_t)offset, buffer, (int32_t)bufferLen);
}
static inline void __faasm_flag_state_dirty(const char* key, long totalLen) {
  faasmFlagStateDirty(key, (int32_t)totalLen);
}
static inline void __faasm_flag_state_offset_dirty(const char* key, long totalLen, long offset,
                                                   long dataLen) {
  faasmFlagStateOffsetDirty(key, (int32_t)totalLen, (int32_t)offset, (int32_t)dataLen);
}
static inline unsigned char* __faasm_read_state_offset_ptr(const char* key, long totalLen,
                                                           long offset, long len) {
  return faasmReadStateOffsetPtr(key, (int32_t)totalLen, (int32_t)offset, (int32_t)len);
}
static inline void __faasm_push_state(const char* key) {
  faasmPushState(key);
}
static inline void __faasm_push_state_partial(const char* key) {
  faasmPushStatePartial(key);
}
static inline void __faasm_push_state_partial_mask(const char* key, const char* maskKey) {
  faasmPushStatePartialMask(key, maskKey);
}
static inline void __faasm_pull_state(const char* key, long stateLen) {
  faasmPullState(key, (int32_t)stateLen);
}
static inline void __faasm_lock_state_read(const char* key) {
  faasmLockStateRead(key);
}
static inline void __faasm_unlock_state_read(const char* key) {
  faasmUnlockStateRead(key);
}
static inline void __faasm_lock_state_write(const char* key) {
  faasmLockStateWrite(key);
}
static inline void __faasm_unlock_state_write(const char* key) {
  faasmUnlockStateWrite(key);
}

// ----- Calls --------------------------------------------------------------

// 0 for an empty input; with bufferLen 0 the input's size; else copies
// min(bufferLen, size) bytes and returns how many.
static inline long __faasm_read_input(unsigned char* buffer, long bufferLen) {
  int32_t size = faasmGetInputSize();
  if (size == 0 || bufferLen == 0) return size;
  faasmGetInput(buffer, (int32_t)bufferLen);
  return bufferLen < size ? bufferLen : size;
}
static inline void __faasm_write_output(const char* output, long outputLen) {
  faasmSetOutput(output, (int32_t)outputLen);
}
static inline unsigned int __faasm_chain_name(const char* name, const unsigned char* inputData,
                                              long inputDataSize) {
  return faasmChainNamed(name, inputData, (int32_t)inputDataSize);
}
static inline unsigned int __faasm_chain_ptr(FaasmFuncPtr funcPtr, const unsigned char* inputData,
                                             long inputDataSize) {
  return faasmChain(funcPtr, inputData, (int32_t)inputDataSize);
}
static inline int __faasm_await_call(unsigned int messageId) {
  return faasmAwaitCall(messageId);
}
// Points *output at a malloc'd copy of the call's output (faasm/faasm.h).
static inline int __faasm_await_call_output(unsigned int messageId, char** output, int* outputLen) {
  return _faasmAwaitCallOutputAlloc(messageId, output, outputLen);
}
static inline unsigned int __faasm_conf_flag(const char* key) {
  return getConfFlag(key);
}
static inline void __faasm_backtrace(const int depth) {
  faasmBacktrace(depth);
}

// A point at which Faasm may move the call to another host, if its planner
// asked for that; otherwise the call goes on. This runtime's scheduler never
// asks, so the call always goes on: the same meaning, not a failure.
static inline void __faasm_migrate_point(FaasmMigrateEntryPoint f, int arg) {
  (void)f;
  (void)arg;
}

// Faasm's hook for testing how its host reports errors: test 0 does
// nothing, test 1 (ExceptionPropagationTest) raises an error that ends the
// call; any other number is an error too.
static inline void __faasm_host_interface_test(int testNum) {
  if (testNum == 0) return;
  fprintf(stderr, "faasm: __faasm_host_interface_test(%d): %s\n", testNum,
          testNum == 1 ? "the host raised an error (exception propagation test)" : "no such test");
  abort();
}

// ----- Not supported: Python ----------------------------------------------

static inline void __faasm_get_py_user(unsigned char* buffer, long bufferLen) {
  (void)buffer, (void)bufferLen;
  _faasmFail("__faasm_get_py_user is not supported here", "there is no Python runtime");
}
static inline void __faasm_get_py_func(unsigned char* buffer, long bufferLen) {
  (void)buffer, (void)bufferLen;
  _faasmFail("__faasm_get_py_func is not supported here", "there is no Python runtime");
}
static inline void __faasm_get_py_entry(unsigned char* buffer, long bufferLen) {
  (void)buffer, (void)bufferLen;
  _faasmFail("__faasm_get_py_entry is not supported here", "there is no Python runtime");
}
static inline unsigned int __faasm_chain_py(const char* name, const unsigned char* inputData,
                                            long inputDataSize) {
  (void)name, (void)inputData, (void)inputDataSize;
  _faasmFail("__faasm_chain_py is not supported here", "there is no Python runtime");
}

// ----- Not supported: OpenMP shared memory --------------------------------
// Faasm's distributed OpenMP merges the memory of threads on many hosts;
// there are no threads here (no wasm threads, no OpenMP runtime).

static inline void __faasm_sm_array(void* var, int varType, int arrayLen) {
  (void)var, (void)varType, (void)arrayLen;
  _faasmFail("__faasm_sm_array is not supported here", "there are no threads");
}
static inline void __faasm_sm_raw(void* var, int varSize) {
  (void)var, (void)varSize;
  _faasmFail("__faasm_sm_raw is not supported here", "there are no threads");
}
static inline void __faasm_sm_reduce(void* var, int varType, int reduceOp, int currentBatch) {
  (void)var, (void)varType, (void)reduceOp, (void)currentBatch;
  _faasmFail("__faasm_sm_reduce is not supported here", "there are no threads");
}
static inline void __faasm_sm_var(void* var, int varType) {
  (void)var, (void)varType;
  _faasmFail("__faasm_sm_var is not supported here", "there are no threads");
}
static inline void __faasm_sm_critical_local(void) {
  _faasmFail("__faasm_sm_critical_local is not supported here", "there are no threads");
}
static inline void __faasm_sm_critical_local_end(void) {
  _faasmFail("__faasm_sm_critical_local_end is not supported here", "there are no threads");
}

// ----- Not supported: S3 --------------------------------------------------
// There is no object store here.

static inline int __faasm_s3_get_num_buckets(void) {
  _faasmFail("__faasm_s3_get_num_buckets is not supported here", "there is no S3 store");
}
static inline void __faasm_s3_list_buckets(void* bucketsBuffer, int* bucketsBufferLens) {
  (void)bucketsBuffer, (void)bucketsBufferLens;
  _faasmFail("__faasm_s3_list_buckets is not supported here", "there is no S3 store");
}
static inline int __faasm_s3_get_num_keys(const char* bucketName) {
  (void)bucketName;
  _faasmFail("__faasm_s3_get_num_keys is not supported here", "there is no S3 store");
}
static inline int __faasm_s3_get_num_keys_with_prefix(const char* bucketName, const char* prefix) {
  (void)bucketName, (void)prefix;
  _faasmFail("__faasm_s3_get_num_keys_with_prefix is not supported here", "there is no S3 store");
}
static inline void __faasm_s3_list_keys(const char* bucketName, void* keysBuffer,
                                        int* keysBufferLens) {
  (void)bucketName, (void)keysBuffer, (void)keysBufferLens;
  _faasmFail("__faasm_s3_list_keys is not supported here", "there is no S3 store");
}
static inline void __faasm_s3_list_keys_with_prefix(const char* bucketName, const char* prefix,
                                                    void* keysBuffer, int* keysBufferLens) {
  (void)bucketName, (void)prefix, (void)keysBuffer, (void)keysBufferLens;
  _faasmFail("__faasm_s3_list_keys_with_prefix is not supported here", "there is no S3 store");
}
// Faasm's C++ declarations default the last argument to false.
#ifdef __cplusplus
#define FAASM_S3_DEFAULT_FALSE = false
#else
#define FAASM_S3_DEFAULT_FALSE
#endif
static inline int __faasm_s3_add_key_bytes(const char* bucketName, const char* keyName,
                                           void* keyBuffer, int keyBufferLen,
                                           bool overwrite FAASM_S3_DEFAULT_FALSE) {
  (void)bucketName, (void)keyName, (void)keyBuffer, (void)keyBufferLen, (void)overwrite;
  _faasmFail("__faasm_s3_add_key_bytes is not supported here", "there is no S3 store");
}
static inline int __faasm_s3_get_key_bytes(const char* bucketName, const char* keyName,
                                           void* keyBuffer, int* keyBufferLen,
                                           bool tolerateMissing FAASM_S3_DEFAULT_FALSE) {
  (void)bucketName, (void)keyName, (void)keyBuffer, (void)keyBufferLen, (void)tolerateMissing;
  _faasmFail("__faasm_s3_get_key_bytes is not supported here", "there is no S3 store");
}
#undef FAASM_S3_DEFAULT_FALSE

#ifdef __cplusplus
} // extern "C"
#endif
