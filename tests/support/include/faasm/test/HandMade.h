// Loading a hand-made test artefact (tests/unit/runtime/data and the like):
// a shared object the host's compiler built, whose descriptor is laid out as
// faasm-codegen's but which has no seal, links libc and has constructors, so
// runtime::Module::load refuses it (as it must refuse any such file). The
// test opens it itself, as an embedder that vouches for code it linked
// would, and wraps the descriptor with Module::fromDescriptor, which applies
// every descriptor check and registers the object's code with the fault
// handler. The handle stays open for the life of the test process.
#pragma once

#include "faasm/runtime/Module.h"

#include <dlfcn.h>
#include <memory>
#include <string>

namespace faasm::test {

inline runtime::Expected<std::shared_ptr<runtime::Module>> loadHandMade(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    return runtime::makeError(std::string("cannot load: ") + (e ? e : "dlopen failed"));
  }
  void* descriptor = dlsym(handle, abi::kDescriptorSymbol);
  if (!descriptor)
    return runtime::makeError("not a faasm artefact (no faasm_module_descriptor symbol)");
  return runtime::Module::fromDescriptor(static_cast<const abi::ModuleDescriptor*>(descriptor),
                                         path);
}

} // namespace faasm::test
