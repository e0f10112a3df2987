// Process-wide interning of function signatures ("ii:i") to canonical ids, so
// call_indirect can compare types across modules with one integer compare.
#pragma once

#include "faasm/abi/Abi.h"

#include <string>
#include <string_view>

namespace faasm::runtime {

// Returns the id of `signature`, interning it on first use. Ids start at 1
// and are never reused. Thread-safe.
uint32_t internSignature(std::string_view signature);

// The signature of an id returned by internSignature; empty for an unknown id.
std::string signatureOf(uint32_t typeId);

// A thunk that can call any function of this type (generated code or a host
// function: they share the calling convention). Modules and host function
// definitions offer theirs; the first offer for a type is kept. A module's
// thunks are withdrawn when it is unloaded. Null if none is known.
void offerThunk(uint32_t typeId, abi::ThunkFn thunk, const void* owner);
void withdrawThunks(const void* owner);
abi::ThunkFn anyThunkFor(uint32_t typeId);

// Counts of params and results of a signature string; false if malformed.
bool parseSignature(std::string_view signature, std::string_view& params,
                    std::string_view& results);

} // namespace faasm::runtime
