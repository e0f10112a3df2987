// Skipping a doctest case that cannot run on this host (no root, a cgroup
// controller or a kernel feature missing), so that ctest reports it as
// skipped and not as passed. doctest 2.4 has no skip at run time, so the case
// prints one line, FAASM_TEST_SKIP_MARKER followed by the reason, and returns;
// faasm_discover_doctests (tests/CMakeLists.txt) gives every discovered case
// a SKIP_REGULAR_EXPRESSION on that marker. ctest then reports the case as
// skipped whatever its status, so a case may skip only before it checks
// anything.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>

#ifndef FAASM_TEST_SKIP_MARKER
#error "FAASM_TEST_SKIP_MARKER comes from linking faasm::test-support (tests/CMakeLists.txt)"
#endif

namespace faasm::test {

// Prints the skip line: the marker, then `reason` with newlines as spaces.
inline void printSkipLine(std::string reason) {
  for (char& c : reason)
    if (c == '\n') c = ' ';
  std::printf("%s%s\n", FAASM_TEST_SKIP_MARKER, reason.c_str());
  std::fflush(stdout);
}

} // namespace faasm::test

// Ends the current test case as skipped; `reason` is streamed like MESSAGE's
// argument: FAASM_SKIP_TEST("needs root, euid " << ::geteuid());
#define FAASM_SKIP_TEST(reason)                                                                    \
  do {                                                                                             \
    std::ostringstream faasmSkipReason;                                                            \
    faasmSkipReason << reason;                                                                     \
    ::faasm::test::printSkipLine(faasmSkipReason.str());                                           \
    return;                                                                                        \
  } while (0)
