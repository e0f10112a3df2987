#include "faasm/log/Log.h"

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace faasm::log {
namespace {

constexpr int kUnset = -1;
std::atomic<int> currentLevel{kUnset};
char programName[64] = "";

const char* nameOf(Level l) {
  switch (l) {
  case Level::Error: return "error";
  case Level::Warn: return "warning";
  case Level::Info: return "info";
  case Level::Debug: return "debug";
  case Level::Trace: return "trace";
  }
  return "?";
}

Level levelFromEnvironment() {
  Level l = Level::Warn;
  if (const char* text = std::getenv("FAASM_LOG"); text && *text) {
    if (!parseLevel(text, l)) {
      std::fprintf(stderr,
                   "faasm: FAASM_LOG=%s: not a level (error, warn, info, debug, trace); "
                   "using warn\n",
                   text);
      l = Level::Warn;
    }
  }
  return l;
}

const char* program() {
  if (!programName[0]) {
    const char* self = program_invocation_short_name;
    std::snprintf(programName, sizeof programName, "%s", self && *self ? self : "faasm");
  }
  return programName;
}

} // namespace

Level level() {
  int l = currentLevel.load(std::memory_order_relaxed);
  if (l == kUnset) {
    l = static_cast<int>(levelFromEnvironment());
    int expected = kUnset;
    currentLevel.compare_exchange_strong(expected, l, std::memory_order_relaxed);
    l = currentLevel.load(std::memory_order_relaxed);
  }
  return static_cast<Level>(l);
}

void setLevel(Level l) {
  currentLevel.store(static_cast<int>(l), std::memory_order_relaxed);
}

bool parseLevel(std::string_view name, Level& out) {
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"error", Level::Error}, {"warn", Level::Warn},   {"warning", Level::Warn},
      {"info", Level::Info},   {"debug", Level::Debug}, {"trace", Level::Trace}};
  for (const auto& [text, l] : kNames)
    if (name == text) {
      out = l;
      return true;
    }
  return false;
}

void setProgramName(std::string_view name) {
  std::snprintf(programName, sizeof programName, "%.*s", int(name.size()), name.data());
}

void write(Level l, const char* format, ...) {
  if (!enabled(l)) return;
  int saved = errno;
  char line[1024];
  int n =
      static_cast<int>(l) <= static_cast<int>(Level::Warn)
          ? std::snprintf(line, sizeof line, "%s: %s: ", program(), nameOf(l))
          : std::snprintf(line, sizeof line, "%s[%d] %s: ", program(), int(getpid()), nameOf(l));
  va_list args;
  va_start(args, format);
  int m = std::vsnprintf(line + n, sizeof line - n - 1, format, args);
  va_end(args);
  size_t length = std::min<size_t>(size_t(n) + size_t(m > 0 ? m : 0), sizeof line - 2);
  line[length++] = '\n';
  for (size_t done = 0; done < length;) {
    ssize_t w = ::write(STDERR_FILENO, line + done, length - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += size_t(w);
  }
  errno = saved;
}

std::string printable(std::string_view bytes, size_t maxBytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < maxBytes; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  if (bytes.size() > maxBytes) out += "...";
  return out;
}

} // namespace faasm::log
