// Input and output of this call: faasmGetInputSize, faasmGetInput,
// faasmSetOutput, through the instance's loader::CallContext. Without one
// the input is empty and the output is dropped.
#include "FaasmPrivate.h"

#include "faasm/loader/CallContext.h"

#include <algorithm>
#include <cstring>

namespace faasm::host::faasm_api {
namespace {

int32_t getInputSize(VMContext* vm) {
  loader::CallContext* call = loader::callContextOf(vm);
  return call ? int32_t(call->input.size()) : 0;
}

void getInput(VMContext* vm, int32_t buffer, int32_t bufferLen) {
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  loader::CallContext* call = loader::callContextOf(vm);
  if (!call) return;
  size_t n = std::min<size_t>(uint32_t(bufferLen), call->input.size());
  if (n) std::memcpy(out, call->input.data(), n);
}

void setOutputImpl(loader::CallContext* call, const uint8_t* data, uint32_t length) {
  call->output.assign(data, data + length);
}

void setOutput(VMContext* vm, int32_t output, int32_t outputLen) {
  const uint8_t* data = guestRange(vm, output, outputLen);
  loader::CallContext* call = loader::callContextOf(vm);
  if (!call) return;
  setOutputImpl(call, data, uint32_t(outputLen));
}

} // namespace

void registerIO(runtime::HostModuleRegistry& r) {
  r.addFunction(runtime::hostFunction<&getInputSize>(kFaasmModule, "faasmGetInputSize"));
  r.addFunction(runtime::hostFunction<&getInput>(kFaasmModule, "faasmGetInput"));
  r.addFunction(runtime::hostFunction<&setOutput>(kFaasmModule, "faasmSetOutput"));
}

} // namespace faasm::host::faasm_api
