// Traps that say where: a trap's recorded PCs (lastTrapTrace(), Invoke.h)
// turned into wasm frames through the modules' code maps, and printed
//
//   trap: integer divide by zero
//     at divide (func[3]) +0x6d
//     at main (func[7]) +0x91
//
// one line per frame, innermost first: the function's name from the
// module's name section (without it, only func[N]), its index, and the byte
// offset of the instruction in the module file (as wasm-objdump -d numbers
// them; omitted where not known). Not for signal handlers: it allocates.
#pragma once

#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Module.h"

#include <memory>
#include <string>
#include <vector>

namespace faasm::runtime {

struct TraceFrame {
  std::shared_ptr<const Module> module;
  uint32_t funcIndex = 0;
  uint32_t wasmOffset = 0; // 0: not known
};

// The wasm frames of a trace, innermost first (PCs of no live module's
// functions, such as the runtime's thunks, give none).
std::vector<TraceFrame> symbolise(const TrapTrace& trace);

// "  at <name> (func[N]) +0x<offset>\n" per frame; a frame repeated (deep
// recursion) is printed once with the count of its repetitions, and frames
// past the recorded ones are counted ("  ... N more frames"). Names are the
// module's, so any byte other than printable ASCII shows as \xNN, and a name
// is cut at 120 bytes. Empty if there is no frame.
std::string formatBacktrace(const TrapTrace& trace);

} // namespace faasm::runtime
