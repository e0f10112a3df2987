// The `spectest` host module every spec script may import from.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/HostModule.h"

#include <memory>
#include <string>

namespace faasm::spec {

// print, print_i32, print_i64, print_f32, print_f64, print_i32_f32,
// print_f64_f64 (they print nothing), global_i32 = 666, global_i64 = 666,
// global_f32 = 666.6, global_f64 = 666.6, a funcref table of 10..20 and a
// memory of 1..2 pages in the given bounds mode. Null with outError if the
// memory cannot be created.
std::unique_ptr<runtime::HostModuleRegistry> makeSpectest(abi::BoundsMode bounds,
                                                          std::string& outError);

} // namespace faasm::spec
