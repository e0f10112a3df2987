// Chained calls: faasmChainNamed, faasmAwaitCall, faasmGetOutput, through the
// callbacks of the instance's CallContext (which run the callee as a
// sibling Faaslet). Without a context or callback: no chaining (0 / -1).
// The callbacks may allocate and throw; nothing they throw crosses the wasm
// frames above us.
#include "FaasmPrivate.h"

#include "faasm/api/CallContext.h"

#include <algorithm>
#include <cstring>

namespace faasm::api {
namespace {

uint32_t chainImpl(CallContext* call, std::string_view name, const uint8_t* input,
                   uint32_t inputLen) {
  try {
    return call->chain(name, std::span<const uint8_t>(input, inputLen));
  } catch (...) {
    return 0;
  }
}

int32_t chainNamed(VMContext* vm, int32_t name, int32_t input, int32_t inputLen) {
  std::string_view fn = guestString(vm, uint32_t(name));
  const uint8_t* in = guestRange(vm, input, inputLen);
  CallContext* call = callContextOf(vm);
  if (!call || !call->chain) return 0;
  return int32_t(chainImpl(call, fn, in, uint32_t(inputLen)));
}

int32_t awaitImpl(CallContext* call, uint32_t id) {
  try {
    return call->await(id);
  } catch (...) {
    return -1;
  }
}

int32_t awaitCall(VMContext* vm, int32_t callId) {
  CallContext* call = callContextOf(vm);
  if (!call || !call->await) return -1;
  return awaitImpl(call, uint32_t(callId));
}

int32_t outputImpl(CallContext* call, uint32_t id, uint8_t* out, uint32_t outLen) {
  try {
    return call->getOutput(id, std::span<uint8_t>(out, outLen));
  } catch (...) {
    return -1;
  }
}

int32_t getOutput(VMContext* vm, int32_t callId, int32_t buffer, int32_t bufferLen) {
  uint8_t* out = guestRange(vm, buffer, bufferLen);
  CallContext* call = callContextOf(vm);
  if (!call || !call->getOutput) return -1;
  return outputImpl(call, uint32_t(callId), out, uint32_t(bufferLen));
}

} // namespace

void addChain(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&chainNamed>(kFaasmModule, "faasmChainNamed"));
  out.push_back(host::hostFunction<&awaitCall>(kFaasmModule, "faasmAwaitCall"));
  out.push_back(host::hostFunction<&getOutput>(kFaasmModule, "faasmGetOutput"));
}

} // namespace faasm::api
