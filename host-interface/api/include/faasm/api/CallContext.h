// The per-call context of a Faaslet: this call's input and output and the
// chaining callbacks, as the Faasm API host functions reach them from the
// calling instance's VMContext. The host interface owns this interface; the
// loader (loader/faaslet) implements the callbacks.
//
// Life cycle: the loader creates one CallContext per instance, hands it to
// Instance::instantiate() through callContextHostState(), and before every
// call (fresh Faaslet, warm Faaslet, or a chained call) sets `input`, clears
// `output` and installs the callbacks. After the call it reads `output`.
// A Proto-Faaslet's initialisation (constructors, _faasm_zygote) runs with
// empty input and no chaining (the callbacks are empty: see below).
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/GuestInstance.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faasm::api {

struct CallContext {
  // faasmGetInputSize / faasmGetInput read this.
  std::vector<uint8_t> input;
  // faasmSetOutput replaces this; the loader sends it to whoever made the call.
  std::vector<uint8_t> output;

  // faasmChainNamed: starts a call of function `name` with `input` and
  // returns its call id (never 0), or 0 if there is no such function or the
  // call was refused (its input is more than the scheduler may hold). Ids
  // are this call's own: 1, 2, ... in the order it chained them, naming no
  // call of anyone else. Does not wait. Empty (not set): chaining
  // unavailable, answer 0.
  std::function<uint32_t(std::string_view name, std::span<const uint8_t> input)> chain;

  // faasmChain: as `chain`, of the calling function itself (the same
  // artefact and user), entering at function pointer `entry` (an index into
  // the module's function table; 0: main) instead of main. The entry is the
  // guest's value, unchecked: the callee's own call through its table checks
  // it. Empty: chaining unavailable, answer 0.
  std::function<uint32_t(uint32_t entry, std::span<const uint8_t> input)> chainThis;

  // faasmAwaitCall: blocks until call `callId` finishes and returns its
  // return code (0..125 the callee's exit code or main's result, 134 if it
  // trapped, died or timed out, 126 if it could not be loaded or was
  // refused); -1 for an id this call did not start. Empty: answer -1.
  std::function<int32_t(uint32_t callId)> await;

  // faasmGetOutput: copies the first min(buffer size, output size) bytes of
  // a finished call's output into `buffer` and returns the output's full
  // size, or -1 if the id is unknown or the call has not finished. Empty:
  // answer -1.
  std::function<int32_t(uint32_t callId, std::span<uint8_t> buffer)> getOutput;
};

// The tag under which the context is the instance's host state.
inline const void* callContextTag() {
  static const char tag = 0;
  return &tag;
}

// The InstantiateOptions::hostState entry that gives an instance `context`.
inline std::pair<const void*, std::shared_ptr<void>>
callContextHostState(std::shared_ptr<CallContext> context) {
  return {callContextTag(), std::static_pointer_cast<void>(std::move(context))};
}

// The context of the instance that owns `vmctx`, or null if it was
// instantiated without one (host functions should then behave as for an
// empty input and no chaining, not crash).
inline CallContext* callContextOf(abi::VMContext* vmctx) {
  return static_cast<CallContext*>(host::guestInstanceOf(vmctx).hostState(callContextTag()));
}

} // namespace faasm::api
