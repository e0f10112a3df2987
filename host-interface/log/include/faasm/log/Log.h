// Logging with levels, for the host side (runtime, Faaslets, scheduler, host
// functions, tools). The level comes from FAASM_LOG (error, warn, info,
// debug, trace; default warn) and can be set by a tool. A line is
//   <program>: warning: <message>          (error and warn)
//   <program>[<pid>] <level>: <message>    (info, debug, trace)
// written to stderr with one write(2), so lines of concurrent Faaslets do not
// interleave, and without taking a lock, so it may be used between fork and
// exec-free work in a Faaslet. One-line errors that are a tool's contract
// ("faasm-run: <file>: <problem>") are printed by the tools, not through this.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace faasm::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 };

// The current level: FAASM_LOG on first use, or what setLevel chose.
Level level();
void setLevel(Level level);
// Parses a level name; false (and `out` untouched) for an unknown one.
bool parseLevel(std::string_view name, Level& out);
// The name lines start with, e.g. "faasm-run" (default: the executable's).
void setProgramName(std::string_view name);

inline bool enabled(Level l) {
  return static_cast<int>(l) <= static_cast<int>(level());
}

// Bytes a guest chose (a name, a key) as a message may show them, so that
// they cannot make lines of their own or drive a terminal: printable ASCII as
// is but for the backslash, every other byte \xNN; cut after `maxBytes`
// bytes, and then ending in "...".
std::string printable(std::string_view bytes, size_t maxBytes = std::string_view::npos);

// Writes one line at `l` if it is enabled; printf-style.
void write(Level l, const char* format, ...) __attribute__((format(printf, 2, 3)));

} // namespace faasm::log

// The arguments are evaluated only when the level is enabled.
#define FAASM_LOG(lvl, ...)                                                                        \
  do {                                                                                             \
    if (::faasm::log::enabled(::faasm::log::Level::lvl))                                           \
      ::faasm::log::write(::faasm::log::Level::lvl, __VA_ARGS__);                                  \
  } while (0)
