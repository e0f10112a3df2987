// Dynamic loading host functions (module "faasm", the guest's <dlfcn.h>):
// __faasm_dlopen, __faasm_dlsym, __faasm_dlclose, __faasm_dlerror over the
// host::DynamicLinker the embedder gives the instance
// (docs/DynamicLoading.md). The guest opens the library file itself, with
// open(2), so that its path is resolved and confined under the preopens
// exactly as every WASI path; the host reads the artefact through that
// descriptor only.
#pragma once

#include "faasm/host/DynamicLinker.h"
#include "faasm/host/HostFunction.h"

#include <memory>
#include <utility>
#include <vector>

namespace faasm::dl {

// Every dynamic-loading host function, for the runtime's registry.
std::vector<host::HostFunction> hostFunctions();

// The InstantiateOptions::hostState entry that gives an instance `linker`
// (and dlerror's last error). An instance without one gets "dynamic loading
// is not available here" from every dlopen.
std::pair<const void*, std::shared_ptr<void>>
dlHostState(std::shared_ptr<host::DynamicLinker> linker);

} // namespace faasm::dl
