// Calls every function of faasm/faasm.h once, so that the e2e test can check
// the imports the header declares (module, name, wasm signature) against
// faasm-api.imports. Built with sysroot/bin/faasm-cc; never run.
#include <faasm/faasm.h>

FAASM_ZYGOTE() {
  return 0;
}

static int callee(void) {
  return 0;
}

FAASM_MAIN_FUNC() {
  static uint8_t buffer[64];
  const char* key = "key";
  int32_t n = faasmGetInputSize();
  faasmGetInput(buffer, n);
  faasmSetOutput(buffer, n);
  uint32_t id = faasmChainNamed("other", buffer, 4);
  n += faasmAwaitCall(faasmChain(callee, buffer, 4));
  n += faasmAwaitCall(id);
  n += faasmGetOutput(id, buffer, sizeof(buffer));
  n += faasmReadStateSize(key);
  n += faasmReadState(key, buffer, 8);
  faasmReadStateOffset(key, 64, 8, buffer, 8);
  uint8_t* whole = faasmReadStatePtr(key, 64);
  uint8_t* part = faasmReadStateOffsetPtr(key, 64, 8, 8);
  faasmWriteState(key, whole, 8);
  faasmWriteStateOffset(key, 64, 8, part, 8);
  faasmFlagStateDirty(key, 64);
  faasmFlagStateOffsetDirty(key, 64, 8, 8);
  faasmPushState(key);
  faasmPushStatePartial(key);
  faasmPushStatePartialMask(key, "mask");
  faasmPullState(key, 64);
  faasmLockStateRead(key);
  faasmUnlockStateRead(key);
  faasmLockStateWrite(key);
  faasmUnlockStateWrite(key);
  faasmAppendState(key, buffer, 4);
  faasmReadAppendedState(key, buffer, 8, 2);
  faasmClearAppendedState(key);
  faasmPullStateOffset(key, 64, 8, 8);
  faasmLockStateGlobalRead(key);
  faasmUnlockStateGlobalRead(key);
  faasmLockStateGlobalWrite(key);
  faasmUnlockStateGlobalWrite(key);
  return n + faasmAwaitCallOutput(id, buffer, 8);
}
