// wasm-interp's --run-all-exports --dummy-import-func, for faasm-compiled
// modules: the other half of the differential fuzzer (scripts/fuzz-diff).
#pragma once

#include "SpecRunner.h"

#include <string>

namespace faasm::spec {

// Compiles `wasmPath`, instantiates it with every imported function a dummy
// that prints `called host M.N(ARGS) =>` and returns zeros, then calls each
// exported function that takes no parameters, in export order, printing
// `NAME() => RESULTS` or `NAME() => error: TRAP` in wasm-interp's spelling.
// Returns 0 if the module ran (traps included), 1 if it could not be
// compiled, loaded or instantiated (with a line on stdout saying why).
int runAllExports(const std::string& wasmPath, const RunOptions& options);

} // namespace faasm::spec
