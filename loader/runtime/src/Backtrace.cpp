#include "faasm/runtime/Backtrace.h"

#include <cinttypes>
#include <cstdio>

namespace faasm::runtime {
namespace {

constexpr size_t kMaxNameBytes = 120;

// A name from the module: the guest's bytes, shown so that they cannot make
// lines of their own or drive a terminal.
std::string printable(const std::string& name) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < name.size() && i < kMaxNameBytes; ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += char(c);
    } else {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  if (name.size() > kMaxNameBytes) out += "...";
  return out;
}

std::string frameLine(const TraceFrame& f) {
  std::string name = f.module->functionName(f.funcIndex);
  std::string index = "func[" + std::to_string(f.funcIndex) + "]";
  std::string line = "  at " + (name.empty() ? index : printable(name) + " (" + index + ")");
  if (f.wasmOffset) {
    char offset[24];
    std::snprintf(offset, sizeof offset, " +0x%" PRIx32, f.wasmOffset);
    line += offset;
  }
  return line + "\n";
}

} // namespace

std::vector<TraceFrame> symbolise(const TrapTrace& trace) {
  std::vector<TraceFrame> frames;
  for (uint32_t i = 0; i < trace.count && i < TrapTrace::kMaxFrames; ++i) {
    // A return address is the instruction after the call: look up the call.
    uintptr_t pc = trace.pcs[i] - (i == 0 && trace.firstIsExact ? 0 : 1);
    std::shared_ptr<const Module> module = Module::containing(pc);
    if (!module) continue;
    for (const Module::WasmFrame& w : module->locate(pc, i == 0 ? trace.firstSite : 0))
      frames.push_back({module, w.funcIndex, w.wasmOffset});
  }
  return frames;
}

std::string formatBacktrace(const TrapTrace& trace) {
  std::vector<TraceFrame> frames = symbolise(trace);
  std::string out;
  for (size_t i = 0; i < frames.size();) {
    std::string line = frameLine(frames[i]);
    size_t same = 1;
    while (i + same < frames.size() && frameLine(frames[i + same]) == line)
      ++same;
    out += line;
    if (same > 1) out += "  ... the line above " + std::to_string(same - 1) + " more times\n";
    i += same;
  }
  if (!frames.empty() && trace.total > trace.count)
    out += "  ... " + std::to_string(trace.total - trace.count) + " more frames\n";
  return out;
}

} // namespace faasm::runtime
