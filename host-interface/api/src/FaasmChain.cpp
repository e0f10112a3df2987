// Chained calls: faasmChainNamed, faasmChain, faasmAwaitCall, faasmGetOutput, through the
// callbacks of the instance's CallContext (which run the callee as a
// sibling Faaslet). Without a context or callback: no chaining (0 / -1).
// The callbacks may allocate and throw; nothing they throw crosses the wasm
// frames above us. The callee's name reaches the callback as the host's one
// copy (a name the callback checks is the name it uses); the input is
// payload, a span of guest memory the callback copies.
#include "FaasmPrivate.h"

#include "faasm/api/CallContext.h"

#include <algorithm>
#include <optional>
#include <string>

namespace faasm::api {
namespace {

uint32_t chainImpl(CallContext* call, const std::string& name, const host::GuestSpan& input) {
  try {
    return call->chain(name, std::span<const uint8_t>(input.data(), input.size()));
  } catch (...) {
    return 0;
  }
}

int32_t chainNamed(VMContext* vm, int32_t name, int32_t input, int32_t inputLen) {
  // A name too long to be a file name of the function table names no function.
  std::optional<std::string> fn = host::guestLoadCString(vm, uint32_t(name), kMaxFunctionName);
  host::GuestSpan in = guestRange(vm, input, inputLen);
  CallContext* call = callContextOf(vm);
  if (!fn || !call || !call->chain) return 0;
  return int32_t(chainImpl(call, *fn, in));
}

uint32_t chainThisImpl(CallContext* call, uint32_t entry, const host::GuestSpan& input) {
  try {
    return call->chainThis(entry, std::span<const uint8_t>(input.data(), input.size()));
  } catch (...) {
    return 0;
  }
}

// The function pointer is a value, not guest memory: it goes to the
// callee as it is, where the guest's own call_indirect checks it.
int32_t chainPtr(VMContext* vm, int32_t funcPtr, int32_t input, int32_t inputLen) {
  host::GuestSpan in = guestRange(vm, input, inputLen);
  CallContext* call = callContextOf(vm);
  if (!call || !call->chainThis) return 0;
  return int32_t(chainThisImpl(call, uint32_t(funcPtr), in));
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

int32_t outputImpl(CallContext* call, uint32_t id, const host::GuestSpan& out) {
  try {
    return call->getOutput(id, std::span<uint8_t>(out.data(), out.size()));
  } catch (...) {
    return -1;
  }
}

int32_t getOutput(VMContext* vm, int32_t callId, int32_t buffer, int32_t bufferLen) {
  host::GuestSpan out = guestRange(vm, buffer, bufferLen);
  CallContext* call = callContextOf(vm);
  if (!call || !call->getOutput) return -1;
  return outputImpl(call, uint32_t(callId), out);
}

} // namespace

void addChain(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&chainNamed>(kFaasmModule, "faasmChainNamed"));
  out.push_back(host::hostFunction<&chainPtr>(kFaasmModule, "faasmChain"));
  out.push_back(host::hostFunction<&awaitCall>(kFaasmModule, "faasmAwaitCall"));
  out.push_back(host::hostFunction<&getOutput>(kFaasmModule, "faasmGetOutput"));
}

} // namespace faasm::api
