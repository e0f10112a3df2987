// Whether this test binary was built with AddressSanitizer (scripts/test
// --sanitize, FAASM_ENABLE_ASAN). A test that cannot work under it skips
// with FAASM_SKIP_TEST and a reason, and docs/Security.md, "Compiler" lists it.
#pragma once

namespace faasm::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

} // namespace faasm::test
