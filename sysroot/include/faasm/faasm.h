// The Faasm guest API: what a function compiled to wasm32-wasi can ask of the
// runtime beyond WASI. Source-compatible with Faasm's C API (faasm/cpp's
// libfaasm, faasm/core.h, and the 2020 API of the ATC paper: FAASM_FUNC,
// faasmChainThisInput), so existing Faasm functions build unchanged; what
// cannot mean here what it means in Faasm fails loudly when called (see
// "Not supported" below and docs/GuestAPI.md, which lists every name).
// Faasm declared lengths as `long`, 32 bits on wasm32, the same as the
// int32_t used here. Faasm's wasm binaries do not run here: they import
// Faasm's `env.__faasm_*` functions; their sources build against this header.
//
// Most functions below are host imports of module "faasm" with the same
// name. The comment on each gives its exact wasm signature, which the host
// side (host-interface/) must implement as written. Pointers are i32 offsets
// into the caller's linear memory; the host checks every pointer and length
// against the memory size and traps ("host call with out of bounds
// pointer") if one leaves it. Strings (keys, function names) are
// NUL-terminated. The rest are defined here, in the guest, on top of the
// imports ("Defined in the guest" below).
//
// Calls, inputs and outputs
//   A call has one input and one output, both byte arrays. Chaining starts
//   another call of a function by name, or of a function of this very
//   module by function pointer, and returns its id; awaiting it returns the
//   callee's return code, after which its output can be fetched.
//
// State
//   A key names a byte array shared by every function of the same user. Each
//   host keeps a local replica (one shared-memory object per key); the global
//   tier (Redis, when the host runs with one) is reached only by push, pull
//   and the global locks, and a read of a key the host has no replica of
//   pulls it first. Read and write functions copy between the local replica
//   and guest memory; the *Ptr functions map the replica into linear memory
//   instead, so that co-located functions see the same pages without
//   copying. Writes by copy mark what they wrote dirty; writes through such
//   a pointer must be flagged dirty (faasmFlagStateDirty or
//   faasmFlagStateOffsetDirty) before a partial push, so that it sends them. A push is one unit:
//   another host sees the value before or after it, never half. Failures (the global tier down or
//   too slow, a write lease lost) trap with one line on stderr.
#pragma once

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)
#define FAASM_IMPORT(name) __attribute__((import_module("faasm"), import_name(#name)))
#else
// Native builds (tests, IDE indexing) see plain declarations.
#define FAASM_IMPORT(name)
#endif

// A function of this module that faasmChain can start as a call of its own:
// no parameters, returns the call's return code. Its value in wasm is the
// function's index in the module's function table.
typedef int (*FaasmFuncPtr)(void);
// The 2020 spelling.
typedef FaasmFuncPtr _FaasmFuncPtr;

// Faasm's cast of an object's address to the byte pointer the API takes.
#ifdef __cplusplus
#define BYTES(arr) reinterpret_cast<uint8_t*>(arr)
#else
#define BYTES(arr) ((uint8_t*)(arr))
#endif

// ----- Input and output of this call --------------------------------------

// (func $faasmGetInputSize (result i32))
// Size in bytes of this call's input.
FAASM_IMPORT(faasmGetInputSize) int32_t faasmGetInputSize(void);

// (func $faasmGetInput (param $buffer i32) (param $bufferLen i32))
// Copies min(bufferLen, input size) bytes of the input to buffer.
FAASM_IMPORT(faasmGetInput) void faasmGetInput(uint8_t* buffer, int32_t bufferLen);

// (func $faasmSetOutput (param $output i32) (param $outputLen i32))
// Sets (replaces) this call's output. Takes bytes or chars alike: Faasm's
// header declared `const uint8_t*` first and `const char*` later.
FAASM_IMPORT(faasmSetOutput) void faasmSetOutput(const void* output, int32_t outputLen);

// ----- Chained calls ------------------------------------------------------

// (func $faasmChainNamed (param $name i32) (param $input i32) (param $inputLen i32) (result i32))
// Starts a call of function `name` (same user) with the given input and
// returns its call id, never 0. Ids are this call's own (1, 2, ... in the
// order it chained them): they name no call of any other caller. Returns 0
// if no such function exists or the call was refused because the scheduler
// may not hold its input (the reason goes to stderr). The call may wait in a
// queue before it runs.
FAASM_IMPORT(faasmChainNamed)
uint32_t faasmChainNamed(const char* name, const uint8_t* input, int32_t inputLen);

// (func $faasmChain (param $funcPtr i32) (param $input i32) (param $inputLen i32) (result i32))
// Starts a call of this same function (the same artefact, the same user),
// entering at `funcPtr` instead of main, with its own input: the callee is
// a fresh Faaslet in which `funcPtr()`'s result is the call's return code,
// and faasmGetInput reads `input`. A null funcPtr runs main, as in Faasm.
// Ids, queueing and refusals as faasmChainNamed. The callee calls funcPtr
// through the module's own function table (a call_indirect of type
// () -> i32, through faasm/faasm.h's _faasm_dispatch export below): a
// pointer that is not such a function traps in the callee (return code
// 134), never in the caller.
FAASM_IMPORT(faasmChain)
uint32_t faasmChain(FaasmFuncPtr funcPtr, const uint8_t* input, int32_t inputLen);

// (func $faasmAwaitCall (param $callId i32) (result i32))
// Waits for a chained call to finish and returns its return code: the exit
// code of the callee's main (0..125), 134 if it trapped, died, timed out
// (chained-call timeout) or its output passed the limit, 126 if it could
// not be loaded or was refused. An id this call did not get from
// faasmChainNamed or faasmChain returns -1 at once.
FAASM_IMPORT(faasmAwaitCall) int32_t faasmAwaitCall(uint32_t callId);

// (func $faasmGetOutput (param $callId i32) (param $buffer i32) (param $bufferLen i32) (result
// i32)) After faasmAwaitCall(callId): copies min(bufferLen, output size) bytes of the callee's
// output to buffer and returns the full output size, so a caller can ask again with a bigger
// buffer. An unknown or unfinished call returns -1.
FAASM_IMPORT(faasmGetOutput)
int32_t faasmGetOutput(uint32_t callId, uint8_t* buffer, int32_t bufferLen);

// ----- State: reading -----------------------------------------------------

// (func $faasmReadStateSize (param $key i32) (result i32))
// Size in bytes of the value under key (pulled from the global tier if this
// host has no replica yet), or 0 if there is none.
FAASM_IMPORT(faasmReadStateSize) int32_t faasmReadStateSize(const char* key);

// (func $faasmReadState (param $key i32) (param $buffer i32) (param $bufferLen i32) (result i32))
// Copies the first bufferLen bytes of the value to buffer and returns the
// value's full size.
FAASM_IMPORT(faasmReadState)
int32_t faasmReadState(const char* key, uint8_t* buffer, int32_t bufferLen);

// (func $faasmReadStateOffset (param $key i32) (param $totalLen i32) (param $offset i32)
//                             (param $buffer i32) (param $bufferLen i32))
// Copies bytes [offset, offset + bufferLen) of a value of totalLen bytes.
FAASM_IMPORT(faasmReadStateOffset)
void faasmReadStateOffset(const char* key, int32_t totalLen, int32_t offset, uint8_t* buffer,
                          int32_t bufferLen);

// (func $faasmReadStatePtr (param $key i32) (param $totalLen i32) (result i32))
// Maps the local replica of a value of totalLen bytes into linear memory
// (growing it by the page-rounded size) and returns its address. Repeated
// calls for the same key return the same address.
//
// (func $faasmReadStateOffsetPtr (param $key i32) (param $totalLen i32) (param $offset i32)
//                                (param $len i32) (result i32))
// As faasmReadStatePtr, but only bytes [offset, offset + len) need be present
// locally; returns the address of byte `offset`.
//
// In wasm both are defined here, around the imports: wasi-libc's malloc
// makes its heap at the first allocation out of everything from __heap_base
// to the memory's end at that moment, so a value mapped before it (by a
// constructor, the zygote hook, or a main that has not allocated yet) would
// lie inside the heap and be overwritten by allocations. The wrappers make
// the heap before the first mapping.
#if defined(__wasm__)
FAASM_IMPORT(faasmReadStatePtr)
uint8_t* __faasm_import_faasmReadStatePtr(const char* key, int32_t totalLen);
FAASM_IMPORT(faasmReadStateOffsetPtr)
uint8_t* __faasm_import_faasmReadStateOffsetPtr(const char* key, int32_t totalLen, int32_t offset,
                                                int32_t len);

static inline void __faasm_heap_before_mapping(void) {
  static int ready;
  if (!ready) {
    // Through a volatile, or the compiler drops the pair as unused.
    void* volatile first = malloc(1);
    free(first);
    ready = 1;
  }
}

static inline uint8_t* faasmReadStatePtr(const char* key, int32_t totalLen) {
  __faasm_heap_before_mapping();
  return __faasm_import_faasmReadStatePtr(key, totalLen);
}

static inline uint8_t* faasmReadStateOffsetPtr(const char* key, int32_t totalLen, int32_t offset,
                                               int32_t len) {
  __faasm_heap_before_mapping();
  return __faasm_import_faasmReadStateOffsetPtr(key, totalLen, offset, len);
}
#else
uint8_t* faasmReadStatePtr(const char* key, int32_t totalLen);
uint8_t* faasmReadStateOffsetPtr(const char* key, int32_t totalLen, int32_t offset, int32_t len);
#endif

// ----- State: writing -----------------------------------------------------

// (func $faasmWriteState (param $key i32) (param $data i32) (param $dataLen i32))
// Replaces the local replica's value with dataLen bytes (not pushed yet).
FAASM_IMPORT(faasmWriteState)
void faasmWriteState(const char* key, const uint8_t* data, int32_t dataLen);

// (func $faasmWriteStateOffset (param $key i32) (param $totalLen i32) (param $offset i32)
//                              (param $data i32) (param $dataLen i32))
// Writes bytes [offset, offset + dataLen) of a value of totalLen bytes and
// marks them dirty.
FAASM_IMPORT(faasmWriteStateOffset)
void faasmWriteStateOffset(const char* key, int32_t totalLen, int32_t offset, const uint8_t* data,
                           int32_t dataLen);

// (func $faasmFlagStateDirty (param $key i32) (param $totalLen i32))
// Marks the whole value (totalLen bytes) dirty, after writes through a
// faasmReadStatePtr pointer.
FAASM_IMPORT(faasmFlagStateDirty) void faasmFlagStateDirty(const char* key, int32_t totalLen);

// (func $faasmFlagStateOffsetDirty (param $key i32) (param $totalLen i32) (param $offset i32)
//                                  (param $len i32))
// Marks bytes [offset, offset + len) of a value of totalLen bytes dirty (the
// value is made at least totalLen bytes long, as the offset reads and
// writes make it). What is marked is this Faaslet's: the next
// faasmPushStatePartial of the key sends those bytes and clears the marks.
FAASM_IMPORT(faasmFlagStateOffsetDirty)
void faasmFlagStateOffsetDirty(const char* key, int32_t totalLen, int32_t offset, int32_t len);

// Copies the file at `filePath`, as this function sees its files (WASI,
// inside its preopened directories: `faasm-run --dir`), into the value
// under key, replacing it, and returns the number of bytes written. A file
// that cannot be opened or read, or of 2 GiB - 1 bytes or more, fails the
// call (one line on stderr, then a trap), as Faasm's host raised an error.
// Defined below, in the guest: reading through WASI keeps the file inside
// the function's own files, which a host-side read could not know of.
static inline unsigned long faasmWriteStateFromFile(const char* key, const char* filePath);

// ----- State: synchronising with the global tier --------------------------

// (func $faasmPushState (param $key i32))
// Sends the whole local value to the global tier.
FAASM_IMPORT(faasmPushState) void faasmPushState(const char* key);

// (func $faasmPushStatePartial (param $key i32))
// Sends only what changed since the last pull or push (the bytes marked
// dirty by writes by copy, faasmFlagStateDirty and faasmFlagStateOffsetDirty,
// in 4 KiB granules) onto the global value, leaving the rest of it as other
// hosts made it.
FAASM_IMPORT(faasmPushStatePartial) void faasmPushStatePartial(const char* key);

// (func $faasmPushStatePartialMask (param $key i32) (param $maskKey i32))
// Sends the bytes of the value under key whose byte in the value under
// maskKey is not zero, then zeroes the mask value (as Faasm does). The mask
// must exist and be exactly as long as the value: otherwise the call fails
// (one line on stderr, then a trap), as Faasm's did.
FAASM_IMPORT(faasmPushStatePartialMask)
void faasmPushStatePartialMask(const char* key, const char* maskKey);

// (func $faasmPullState (param $key i32) (param $stateLen i32))
// Replaces the local replica with the global value (at least stateLen
// bytes). Moves no value bytes when neither changed since the last sync.
FAASM_IMPORT(faasmPullState) void faasmPullState(const char* key, int32_t stateLen);

// (func $faasmPullStateOffset (param $key i32) (param $totalLen i32) (param $offset i32)
//                             (param $len i32))
// Replaces bytes [offset, offset + len) of the local replica of a value of
// totalLen bytes (and the rest of the chunks around them) with the global
// value's.
FAASM_IMPORT(faasmPullStateOffset)
void faasmPullStateOffset(const char* key, int32_t totalLen, int32_t offset, int32_t len);

// ----- State: global locks ------------------------------------------------
// Reader/writer locks across every host, held for a lease (see docs/State.md):
// a holder that stalls past its lease loses the lock, and its later pushes
// trap ("state lock for USER/KEY lost: push refused"). Without a global tier
// they are host-wide locks.

// (func $faasmLockStateGlobalRead (param $key i32))
FAASM_IMPORT(faasmLockStateGlobalRead) void faasmLockStateGlobalRead(const char* key);
// (func $faasmUnlockStateGlobalRead (param $key i32))
FAASM_IMPORT(faasmUnlockStateGlobalRead) void faasmUnlockStateGlobalRead(const char* key);
// (func $faasmLockStateGlobalWrite (param $key i32))
FAASM_IMPORT(faasmLockStateGlobalWrite) void faasmLockStateGlobalWrite(const char* key);
// (func $faasmUnlockStateGlobalWrite (param $key i32))
FAASM_IMPORT(faasmUnlockStateGlobalWrite) void faasmUnlockStateGlobalWrite(const char* key);

// ----- State: locks -------------------------------------------------------
// Reader/writer locks on the local replica, shared by co-located functions.

// (func $faasmLockStateRead (param $key i32))
FAASM_IMPORT(faasmLockStateRead) void faasmLockStateRead(const char* key);
// (func $faasmUnlockStateRead (param $key i32))
FAASM_IMPORT(faasmUnlockStateRead) void faasmUnlockStateRead(const char* key);
// (func $faasmLockStateWrite (param $key i32))
FAASM_IMPORT(faasmLockStateWrite) void faasmLockStateWrite(const char* key);
// (func $faasmUnlockStateWrite (param $key i32))
FAASM_IMPORT(faasmUnlockStateWrite) void faasmUnlockStateWrite(const char* key);

// ----- State: append-only lists -------------------------------------------
// A key can also hold a list of elements, appended to atomically in the
// global tier (for example, gradients from many workers).

// (func $faasmAppendState (param $key i32) (param $data i32) (param $dataLen i32))
// Appends one element of dataLen bytes.
FAASM_IMPORT(faasmAppendState)
void faasmAppendState(const char* key, const uint8_t* data, int32_t dataLen);

// (func $faasmReadAppendedState (param $key i32) (param $buffer i32) (param $bufferLen i32)
//                               (param $nElems i32))
// Copies the first nElems elements, concatenated, into buffer (bufferLen bytes).
FAASM_IMPORT(faasmReadAppendedState)
void faasmReadAppendedState(const char* key, uint8_t* buffer, int32_t bufferLen, int32_t nElems);

// (func $faasmClearAppendedState (param $key i32))
FAASM_IMPORT(faasmClearAppendedState) void faasmClearAppendedState(const char* key);

#undef FAASM_IMPORT

// ===== Defined in the guest ===============================================
// No imports of their own: Faasm's conveniences, its older spellings, and
// its function-index dispatch, on top of the imports above.

// One line "faasm: <what>" on stderr, then a trap (exit status 134). How the
// functions below fail, where Faasm's host raised an error.
__attribute__((noreturn)) static inline void _faasmFail(const char* what, const char* detail) {
  fprintf(stderr, "faasm: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

// Chains `nFuncs` calls of funcPtr (faasmChain), each with the NUL-terminated
// `inputData` as input (without its NUL), and awaits them all: 0 if every
// one returned 0, else 1 (a refused chain counts as a failure).
static inline unsigned int faasmChainBatch(FaasmFuncPtr funcPtr, const char* inputData,
                                           int nFuncs) {
  if (nFuncs <= 0) return 0;
  uint32_t* ids = (uint32_t*)malloc(sizeof(uint32_t) * (size_t)nFuncs);
  if (!ids) _faasmFail("faasmChainBatch", "no memory for the call ids");
  int32_t len = (int32_t)strlen(inputData);
  for (int i = 0; i < nFuncs; ++i)
    ids[i] = faasmChain(funcPtr, (const uint8_t*)inputData, len);
  unsigned int failed = 0;
  for (int i = 0; i < nFuncs; ++i)
    failed |= faasmAwaitCall(ids[i]) != 0;
  free(ids);
  return failed;
}

// Faasm's two spellings of awaiting a call and fetching its output. Both
// wait for the call, fetch its output whatever its return code, and return
// the return code (-1 for an id this call did not chain, output empty):
//   faasmAwaitCallOutput(id, buffer, bufferLen)  (2020) copies up to
//     bufferLen bytes into buffer;
//   faasmAwaitCallOutput(id, &out, &outLen)      (faasm/cpp) points out at a
//     malloc'd copy of the whole output (the caller may free it) and sets
//     outLen to its size.
// Overloads in C++; in C, _Generic picks one by the second argument's type.
static inline int32_t _faasmAwaitCallOutputBuffer(uint32_t callId, void* buffer, long bufferLen) {
  int32_t rc = faasmAwaitCall(callId);
  if (rc != -1) faasmGetOutput(callId, (uint8_t*)buffer, (int32_t)bufferLen);
  return rc;
}
static inline int32_t _faasmAwaitCallOutputAlloc(uint32_t callId, char** output, int* outputLen) {
  int32_t rc = faasmAwaitCall(callId);
  int32_t size = rc == -1 ? -1 : faasmGetOutput(callId, NULL, 0);
  char* bytes = (char*)malloc(size > 0 ? (size_t)size : 1);
  if (!bytes) _faasmFail("faasmAwaitCallOutput", "no memory for the output");
  if (size > 0 && faasmGetOutput(callId, (uint8_t*)bytes, size) != size)
    _faasmFail("faasmAwaitCallOutput", "the output changed while it was copied");
  *output = bytes;
  *outputLen = size > 0 ? size : 0;
  return rc;
}
#ifndef __cplusplus
#define faasmAwaitCallOutput(callId, out, len)                                                     \
  _Generic((out), char**: _faasmAwaitCallOutputAlloc, default: _faasmAwaitCallOutputBuffer)(       \
      (callId), (out), (len))
#endif

static inline unsigned long faasmWriteStateFromFile(const char* key, const char* filePath) {
  FILE* file = fopen(filePath, "rb");
  if (!file) {
    fprintf(stderr, "faasm: faasmWriteStateFromFile: cannot open %s: %s\n", filePath,
            strerror(errno));
    abort();
  }
  size_t capacity = 64 * 1024, size = 0;
  uint8_t* bytes = (uint8_t*)malloc(capacity);
  for (;;) {
    if (!bytes) _faasmFail("faasmWriteStateFromFile", "no memory for the file");
    size += fread(bytes + size, 1, capacity - size, file);
    if (size < capacity) break;
    if (capacity >= (size_t)INT32_MAX)
      _faasmFail("faasmWriteStateFromFile", "the file has 2 GiB - 1 bytes or more");
    capacity = capacity * 2 > (size_t)INT32_MAX ? (size_t)INT32_MAX : capacity * 2;
    uint8_t* grown = (uint8_t*)realloc(bytes, capacity);
    if (!grown) free(bytes);
    bytes = grown;
  }
  if (ferror(file)) {
    fprintf(stderr, "faasm: faasmWriteStateFromFile: cannot read %s: %s\n", filePath,
            strerror(errno));
    abort();
  }
  fclose(file);
  faasmWriteState(key, bytes, (int32_t)size);
  free(bytes);
  return (unsigned long)size;
}

// ----- The 2020 API: chaining by name and by function index ---------------
// A module defines up to ten functions with FAASM_FUNC(name, idx), idx 1..9
// (FAASM_MAIN_FUNC is index 0), and chains them by index; each index is a
// weak symbol, null where the module defines none.

int _faasm_func_0(void) __attribute__((weak));
int _faasm_func_1(void) __attribute__((weak));
int _faasm_func_2(void) __attribute__((weak));
int _faasm_func_3(void) __attribute__((weak));
int _faasm_func_4(void) __attribute__((weak));
int _faasm_func_5(void) __attribute__((weak));
int _faasm_func_6(void) __attribute__((weak));
int _faasm_func_7(void) __attribute__((weak));
int _faasm_func_8(void) __attribute__((weak));
int _faasm_func_9(void) __attribute__((weak));

// The function FAASM_FUNC gave index idx (0..9), or null.
static inline FaasmFuncPtr getFaasmFunc(int idx) {
  switch (idx) {
  case 0: return _faasm_func_0;
  case 1: return _faasm_func_1;
  case 2: return _faasm_func_2;
  case 3: return _faasm_func_3;
  case 4: return _faasm_func_4;
  case 5: return _faasm_func_5;
  case 6: return _faasm_func_6;
  case 7: return _faasm_func_7;
  case 8: return _faasm_func_8;
  case 9: return _faasm_func_9;
  default: return NULL;
  }
}

// The entry of the running call: 0 when it entered at main, else the
// function pointer it was chained with (set by _faasm_dispatch below).
// Weak, so that every translation unit including this header shares one.
__attribute__((weak)) int32_t _faasmCurrentEntry = 0;

// The index of the function this call runs: 0 for main (FAASM_MAIN_FUNC),
// i for FAASM_FUNC(name, i); -1 if it was chained by a pointer that is no
// FAASM_FUNC.
static inline int faasmGetCurrentIdx(void) {
  if (_faasmCurrentEntry == 0) return 0;
  for (int i = 0; i <= 9; ++i) {
    FaasmFuncPtr f = getFaasmFunc(i);
    if (f && (int32_t)(uintptr_t)f == _faasmCurrentEntry) return i;
  }
  return -1;
}

// Chains FAASM_FUNC number idx of this module with the given input: index
// 0 is main. An index with no function is refused as an unknown function
// name is: 0, and one line on stderr.
static inline unsigned int faasmChainThisInput(int idx, const uint8_t* inputData,
                                               long inputDataSize) {
  FaasmFuncPtr f = idx == 0 ? NULL : getFaasmFunc(idx);
  if (idx != 0 && !f) {
    fprintf(stderr, "faasm: faasmChainThisInput: this module has no FAASM_FUNC number %d\n", idx);
    return 0;
  }
  return faasmChain(f, inputData, (int32_t)inputDataSize);
}
static inline unsigned int faasmChainThis(int idx) {
  return faasmChainThisInput(idx, NULL, 0);
}
static inline unsigned int faasmChainFunctionInput(const char* name, const uint8_t* inputData,
                                                   long inputDataSize) {
  return faasmChainNamed(name, inputData, (int32_t)inputDataSize);
}
static inline unsigned int faasmChainFunction(const char* name) {
  return faasmChainNamed(name, NULL, 0);
}

// ----- Configuration ------------------------------------------------------

// Faasm's configuration flags as a function sees them: "ALWAYS_ON" is 1,
// "ALWAYS_OFF" 0, "PYTHON_PRELOAD" 0 (there is no Python runtime here), and
// any other flag 0, as in Faasm.
static inline unsigned int getConfFlag(const char* key) {
  return strcmp(key, "ALWAYS_ON") == 0 ? 1u : 0u;
}

// ----- Not supported ------------------------------------------------------
// These cannot mean here what they mean in Faasm. They are declared so that
// functions that mention them build; calling one fails the call at once
// (one line on stderr naming it and why, then a trap: exit status 134).

// Faasm's Python functions (the Python runtime's user, function and entry):
// there is no Python runtime here.
static inline char* faasmGetPythonUser(void) {
  _faasmFail("faasmGetPythonUser is not supported here", "there is no Python runtime");
  return NULL;
}
static inline char* faasmGetPythonFunc(void) {
  _faasmFail("faasmGetPythonFunc is not supported here", "there is no Python runtime");
  return NULL;
}
static inline char* faasmGetPythonEntry(void) {
  _faasmFail("faasmGetPythonEntry is not supported here", "there is no Python runtime");
  return NULL;
}

// Faasm printed the guest's call stack; generated code here keeps no
// unwinding information a host could walk.
static inline void faasmBacktrace(const int depth) {
  (void)depth;
  _faasmFail("faasmBacktrace is not supported here", "the runtime cannot walk a guest's stack");
}

// The 2019-2020 lock across every host (Faasm removed it in 2021): the
// global write lock, with its lease and fencing (faasmLockStateGlobalWrite).
static inline void faasmLockStateGlobal(const char* key) {
  faasmLockStateGlobalWrite(key);
}
static inline void faasmUnlockStateGlobal(const char* key) {
  faasmUnlockStateGlobalWrite(key);
}

// ----- Entry points -------------------------------------------------------

// Optional one-time initialisation, run in the Proto-Faaslet before its
// snapshot is taken: whatever it leaves in memory, every call starts from.
// The runtime calls the export "_faasm_zygote" if the module has one; a
// non-zero result fails the function's deployment.
int32_t _faasm_zygote(void);
#if defined(__wasm__)
#define FAASM_ZYGOTE() __attribute__((export_name("_faasm_zygote"))) int32_t _faasm_zygote(void)
#else
#define FAASM_ZYGOTE() int32_t _faasm_zygote(void)
#endif

#if defined(__wasm__)
// The entry of a call chained with faasmChain: the runtime calls this export
// with the function pointer instead of entering at main. The call through
// the pointer is the module's own call_indirect of type () -> i32, so a
// pointer that names no such function traps here, in the callee's sandbox.
// Weak, so that every translation unit may include this header.
__attribute__((weak, export_name("_faasm_dispatch"))) int32_t _faasm_dispatch(int32_t entry) {
  _faasmCurrentEntry = entry;
  return ((FaasmFuncPtr)(uintptr_t)(uint32_t)entry)();
}
#endif

#ifdef __cplusplus
} // extern "C"

inline int32_t faasmAwaitCallOutput(uint32_t callId, uint8_t* buffer, long bufferLen) {
  return _faasmAwaitCallOutputBuffer(callId, buffer, bufferLen);
}
inline int32_t faasmAwaitCallOutput(uint32_t callId, void* buffer, long bufferLen) {
  return _faasmAwaitCallOutputBuffer(callId, buffer, bufferLen);
}
inline int32_t faasmAwaitCallOutput(uint32_t callId, char** output, int* outputLen) {
  return _faasmAwaitCallOutputAlloc(callId, output, outputLen);
}
#endif

// The entry point of a function: runs once per call, in a fresh or reset
// Faaslet. Its return value is the call's return code (0 = success). It is
// FAASM_FUNC number 0 (faasmMain, as in 2020), which main runs.
#define FAASM_MAIN_FUNC()                                                                          \
  int _faasm_func_0(void);                                                                         \
  int faasmMain(void) {                                                                            \
    return _faasm_func_0();                                                                        \
  }                                                                                                \
  int main(void) {                                                                                 \
    return _faasm_func_0();                                                                        \
  }                                                                                                \
  int _faasm_func_0(void)

// Another function of this module, number idx (1..9), callable by its name
// and chainable with faasmChainThisInput(idx, ...) or faasmChain(name, ...):
//   FAASM_FUNC(worker, 1) { ... return 0; }
// A call chained with faasmChain(name, ...) enters at the wrapper `name`,
// which records itself as number idx for faasmGetCurrentIdx.
#define FAASM_FUNC(name, idx)                                                                      \
  int _faasm_func_##idx(void);                                                                     \
  int name(void) {                                                                                 \
    if (_faasmCurrentEntry == (int32_t)(uintptr_t)&name)                                           \
      _faasmCurrentEntry = (int32_t)(uintptr_t)&_faasm_func_##idx;                                 \
    return _faasm_func_##idx();                                                                    \
  }                                                                                                \
  int _faasm_func_##idx(void)
