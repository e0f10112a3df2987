// The Faasm guest API: what a function compiled to wasm32-wasi can ask of the
// runtime beyond WASI. Source-compatible with Faasm's C names, so existing
// Faasm functions build unchanged (Faasm declared lengths as `long`, which is
// 32 bits on wasm32, the same as the int32_t used here).
//
// Every function below is a host import of module "faasm" with the same name.
// The comment on each gives its exact wasm signature, which the host side
// (host-interface/) must implement as written. Pointers are i32 offsets into
// the caller's linear memory; the host checks every pointer and length against
// the memory size and traps ("host call with out of bounds pointer") if one
// leaves it. Strings (keys, function names) are NUL-terminated.
//
// Calls, inputs and outputs
//   A call has one input and one output, both byte arrays. Chaining starts
//   another call of a function by name and returns its id; awaiting it returns
//   the callee's return code, after which its output can be fetched.
//
// State
//   A key names a byte array shared by every function of the same user. Each
//   host keeps a local replica (one shared-memory object per key); the global
//   tier (Redis) is reached only by push and pull. Read and write functions
//   copy between the local replica and guest memory; the *Ptr functions map
//   the replica into linear memory instead, so that co-located functions see
//   the same pages without copying. Writes through such a pointer must be
//   flagged dirty before a push, so that only changed chunks are sent.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__wasm__)
#define FAASM_IMPORT(name) __attribute__((import_module("faasm"), import_name(#name)))
#else
// Native builds (tests, IDE indexing) see plain declarations.
#define FAASM_IMPORT(name)
#endif

// ----- Input and output of this call --------------------------------------

// (func $faasmGetInputSize (result i32))
// Size in bytes of this call's input.
FAASM_IMPORT(faasmGetInputSize) int32_t faasmGetInputSize(void);

// (func $faasmGetInput (param $buffer i32) (param $bufferLen i32))
// Copies min(bufferLen, input size) bytes of the input to buffer.
FAASM_IMPORT(faasmGetInput) void faasmGetInput(uint8_t* buffer, int32_t bufferLen);

// (func $faasmSetOutput (param $output i32) (param $outputLen i32))
// Sets (replaces) this call's output.
FAASM_IMPORT(faasmSetOutput) void faasmSetOutput(const uint8_t* output, int32_t outputLen);

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

// (func $faasmAwaitCall (param $callId i32) (result i32))
// Waits for a chained call to finish and returns its return code: the exit
// code of the callee's main (0..125), 134 if it trapped, died, timed out
// (chained-call timeout) or its output passed the limit, 126 if it could
// not be loaded or was refused. An id this call did not get from
// faasmChainNamed returns -1 at once.
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
FAASM_IMPORT(faasmReadStatePtr) uint8_t* faasmReadStatePtr(const char* key, int32_t totalLen);

// (func $faasmReadStateOffsetPtr (param $key i32) (param $totalLen i32) (param $offset i32)
//                                (param $len i32) (result i32))
// As faasmReadStatePtr, but only bytes [offset, offset + len) need be present
// locally; returns the address of byte `offset`.
FAASM_IMPORT(faasmReadStateOffsetPtr)
uint8_t* faasmReadStateOffsetPtr(const char* key, int32_t totalLen, int32_t offset, int32_t len);

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
// Marks the whole value dirty, after writes through a faasmReadStatePtr pointer.
FAASM_IMPORT(faasmFlagStateDirty) void faasmFlagStateDirty(const char* key, int32_t totalLen);

// ----- State: synchronising with the global tier --------------------------

// (func $faasmPushState (param $key i32))
// Sends the whole local value to the global tier.
FAASM_IMPORT(faasmPushState) void faasmPushState(const char* key);

// (func $faasmPushStatePartial (param $key i32))
// Sends only the dirty chunks of the local value to the global tier.
FAASM_IMPORT(faasmPushStatePartial) void faasmPushStatePartial(const char* key);

// (func $faasmPullState (param $key i32) (param $stateLen i32))
// Replaces the local replica with the global value (stateLen bytes).
FAASM_IMPORT(faasmPullState) void faasmPullState(const char* key, int32_t stateLen);

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

// ----- Conveniences (no imports of their own) -----------------------------

// Faasm's older spelling: await a chained call and fetch its output.
static inline int32_t faasmAwaitCallOutput(uint32_t callId, uint8_t* buffer, int32_t bufferLen) {
  int32_t rc = faasmAwaitCall(callId);
  if (rc == 0) {
    faasmGetOutput(callId, buffer, bufferLen);
  }
  return rc;
}

#ifdef __cplusplus
} // extern "C"
#endif

// The entry point of a function: runs once per call, in a fresh or reset
// Faaslet. Its return value is the call's return code (0 = success).
#define FAASM_MAIN_FUNC() int main(void)

// Optional one-time initialisation, run in the Proto-Faaslet before its
// snapshot is taken: whatever it leaves in memory, every call starts from.
// The runtime calls the export "_faasm_zygote" if the module has one; a
// non-zero result fails the function's deployment.
#if defined(__wasm__)
#define FAASM_ZYGOTE() __attribute__((export_name("_faasm_zygote"))) int32_t _faasm_zygote(void)
#else
#define FAASM_ZYGOTE() int32_t _faasm_zygote(void)
#endif
