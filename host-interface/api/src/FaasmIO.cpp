// Input and output of this call: faasmGetInputSize, faasmGetInput,
// faasmSetOutput, through the instance's CallContext. Without one
// the input is empty and the output is dropped.
#include "FaasmPrivate.h"

#include "faasm/api/CallContext.h"

#include <algorithm>
#include <cstring>

namespace faasm::api {
namespace {

int32_t getInputSize(VMContext* vm) {
  CallContext* call = callContextOf(vm);
  return call ? int32_t(call->input.size()) : 0;
}

void getInput(VMContext* vm, int32_t buffer, int32_t bufferLen) {
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  CallContext* call = callContextOf(vm);
  if (!call) return;
  size_t n = std::min<size_t>(uint32_t(bufferLen), call->input.size());
  if (n) std::memcpy(out, call->input.data(), n);
}

void setOutputImpl(CallContext* call, const uint8_t* data, uint32_t length) {
  call->output.assign(data, data + length);
}

void setOutput(VMContext* vm, int32_t output, int32_t outputLen) {
  const uint8_t* data = guestRange(vm, output, outputLen);
  CallContext* call = callContextOf(vm);
  if (!call) return;
  setOutputImpl(call, data, uint32_t(outputLen));
}

} // namespace

void addIO(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&getInputSize>(kFaasmModule, "faasmGetInputSize"));
  out.push_back(host::hostFunction<&getInput>(kFaasmModule, "faasmGetInput"));
  out.push_back(host::hostFunction<&setOutput>(kFaasmModule, "faasmSetOutput"));
}

} // namespace faasm::api
