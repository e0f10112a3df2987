// The dynamic-loading host functions. Every guest pointer goes through
// host/GuestMemory.h: names are copied once, bounded, and the out-pointer is
// checked before anything is linked, so a bad pointer traps without side
// effects. Errors are not traps: they are kept for __faasm_dlerror, one line
// each, as dlerror(3) wants.
#include "faasm/dl/Dl.h"

#include "faasm/host/GuestMemory.h"
#include "faasm/wasi/Wasi.h"

#include <string>

namespace faasm::dl {
namespace {

using abi::VMContext;

// Linux's PATH_MAX for library paths; symbol names are bounded alike.
constexpr uint32_t kNameMax = 4096;

struct DlState {
  std::shared_ptr<host::DynamicLinker> linker;
  std::string lastError; // empty: no error since dlerror last asked
};

const char kDlStateTag = 0;

DlState* stateOf(VMContext* vm) {
  return static_cast<DlState*>(host::guestInstanceOf(vm).hostState(&kDlStateTag));
}

// The guest's name [ptr, ptr + len), copied once; nullopt if too long.
std::optional<std::string> copyName(VMContext* vm, int32_t ptr, int32_t len) {
  host::guestCheck(vm, uint32_t(ptr), uint32_t(len));
  if (uint32_t(len) >= kNameMax) return std::nullopt;
  return host::guestLoadString(vm, uint32_t(ptr), uint32_t(len));
}

int32_t fail(DlState* state, std::string error) {
  if (state) state->lastError = std::move(error);
  return 0;
}

int32_t dlOpen(VMContext* vm, int32_t fd, int32_t namePtr, int32_t nameLen, int32_t /*flags*/) {
  std::optional<std::string> name = copyName(vm, namePtr, nameLen);
  DlState* state = stateOf(vm);
  if (!state || !state->linker) return fail(state, "dynamic loading is not available here");
  if (!name) return fail(state, "library path too long");
  int host = wasi::readableFileOf(vm, fd);
  if (host < 0) return fail(state, *name + ": not an open, readable file");
  host::LinkResult r = state->linker->open(vm, host, *name);
  if (!r.error.empty()) return fail(state, std::move(r.error));
  return int32_t(r.value);
}

int32_t dlSym(VMContext* vm, int32_t handle, int32_t namePtr, int32_t nameLen, int32_t outPtr) {
  std::optional<std::string> name = copyName(vm, namePtr, nameLen);
  host::guestCheck(vm, uint32_t(outPtr), 4);
  DlState* state = stateOf(vm);
  if (!state || !state->linker) return fail(state, "dynamic loading is not available here"), -1;
  if (!name) return fail(state, "symbol name too long"), -1;
  host::LinkResult r = state->linker->symbol(vm, uint32_t(handle), *name);
  if (!r.error.empty()) return fail(state, std::move(r.error)), -1;
  host::guestStore<uint32_t>(vm, uint32_t(outPtr), r.value);
  return 0;
}

int32_t dlClose(VMContext* vm, int32_t handle) {
  DlState* state = stateOf(vm);
  if (!state || !state->linker) return fail(state, "dynamic loading is not available here"), -1;
  if (std::string e = state->linker->close(vm, uint32_t(handle)); !e.empty())
    return fail(state, std::move(e)), -1;
  return 0;
}

// Copies the last error (NUL-terminated, cut to bufLen - 1 bytes) into
// [bufPtr, bufPtr + bufLen) and forgets it; returns its length before
// cutting, or 0 if there is none.
int32_t dlError(VMContext* vm, int32_t bufPtr, int32_t bufLen) {
  host::GuestSpan buf = host::guestSpan(vm, uint32_t(bufPtr), uint32_t(bufLen));
  DlState* state = stateOf(vm);
  if (!state || state->lastError.empty() || buf.size() == 0) return 0;
  std::string error = std::move(state->lastError);
  state->lastError.clear();
  uint64_t n = std::min<uint64_t>(error.size(), buf.size() - 1);
  buf.write(0, error.data(), n);
  const char nul = 0;
  buf.write(n, &nul, 1);
  return int32_t(std::min<uint64_t>(error.size(), INT32_MAX));
}

} // namespace

std::vector<host::HostFunction> hostFunctions() {
  return {
      host::hostFunction<&dlOpen>("faasm", "__faasm_dlopen"),
      host::hostFunction<&dlSym>("faasm", "__faasm_dlsym"),
      host::hostFunction<&dlClose>("faasm", "__faasm_dlclose"),
      host::hostFunction<&dlError>("faasm", "__faasm_dlerror"),
  };
}

std::pair<const void*, std::shared_ptr<void>>
dlHostState(std::shared_ptr<host::DynamicLinker> linker) {
  auto state = std::make_shared<DlState>();
  state->linker = std::move(linker);
  return {&kDlStateTag, std::move(state)};
}

} // namespace faasm::dl
