// Dummy host functions of any signature, like wasm-interp's
// --dummy-import-func: each call prints `called host M.N(ARGS) =>` (plus a
// zero result if the type has one) and returns zeros.
//
// Generated code calls host functions directly with the native (SysV
// x86-64) convention, so one C++ function cannot receive every signature.
// Instead a pool of tiny assembly stubs, one per import, all jump to a
// common entry that spills the argument registers and hands them, the
// caller's stack arguments and the stub's number to C++, which decodes them
// by the import's signature string.
#pragma once

#include "faasm/runtime/HostModule.h"

#include <string>

namespace faasm::spec {

// Number of distinct dummy imports one process can have.
inline constexpr unsigned kMaxDummyImports = 1024;

// A host function for (module, name, signature); false with outError if
// the pool is exhausted or the signature has more than one result (those
// would be returned through memory, which the stubs do not model).
bool makeDummyImport(const std::string& module, const std::string& name,
                     const std::string& signature, host::HostFunction& out, std::string& outError);

// wasm-interp's spelling of a value ("i32:%u", "f32:%f", ...).
std::string formatInterpValue(abi::ValType type, const abi::Value& value);

} // namespace faasm::spec
