// Input and output of this call: faasmGetInputSize, faasmGetInput,
// faasmSetOutput, through the instance's CallContext. Without one
// the input is empty and the output is dropped.
#include "FaasmPrivate.h"

#include "faasm/api/CallContext.h"

#include <algorithm>

namespace faasm::api {
namespace {

int32_t getInputSize(VMContext* vm) {
  CallContext* call = callContextOf(vm);
  return call ? int32_t(call->input.size()) : 0;
}

void getInput(VMContext* vm, int32_t buffer, int32_t bufferLen) {
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  CallContext* call = callContextOf(vm);
  if (!call) return;
  out.write(0, call->input.data(), std::min<uint64_t>(out.size(), call->input.size()));
}

void setOutput(VMContext* vm, int32_t output, int32_t outputLen) {
  host::GuestSpan data = guestRange(vm, output, outputLen);
  CallContext* call = callContextOf(vm);
  if (!call) return;
  call->output.assign(data.data(), data.data() + data.size());
}

} // namespace

void addIO(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&getInputSize>(kFaasmModule, "faasmGetInputSize"));
  out.push_back(host::hostFunction<&getInput>(kFaasmModule, "faasmGetInput"));
  out.push_back(host::hostFunction<&setOutput>(kFaasmModule, "faasmSetOutput"));
}

} // namespace faasm::api
