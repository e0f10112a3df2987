// A shared object that looks like a faasm-codegen artefact built for ABI
// version FAASM_E2E_ABI_VERSION (999; 3, the version two branches each took
// before both became 4; or 4, before import calls went through
// abi::ImportCall): right magic and symbol; only the fields that keep their place
// in every ABI version are set, the rest is zero. faasm-run must refuse it with
// one line that names the file and says to recompile, without touching
// anything else in it. Built and sealed as the hand-made test artefacts are
// (tests/CMakeLists.txt), so that it passes the seal and reaches the ABI check,
// as an artefact of an older faasm-codegen on this platform would.
#include "faasm/abi/Abi.h"

namespace abi = faasm::abi;

#ifndef FAASM_E2E_ABI_VERSION
#define FAASM_E2E_ABI_VERSION 999
#endif

extern "C" __attribute__((visibility("default")))
const abi::ModuleDescriptor faasm_module_descriptor = {
    .magic = abi::kMagic,
    .abiVersion = FAASM_E2E_ABI_VERSION,
    .compilerVersion = "99.0.0-e2e-test",
    .boundsMode = static_cast<uint32_t>(abi::BoundsMode::Guard),
};
