#include "faasm/runtime/Backtrace.h"

#include "faasm/log/Log.h"

#include <cinttypes>
#include <cstdio>

namespace faasm::runtime {
namespace {

constexpr size_t kMaxNameBytes = 120;

std::string frameLine(const TraceFrame& f) {
  std::string name = f.module->functionName(f.funcIndex);
  std::string index = "func[" + std::to_string(f.funcIndex) + "]";
  std::string line =
      "  at " + (name.empty() ? index : log::printable(name, kMaxNameBytes) + " (" + index + ")");
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
