// Mapping a shared-memory object into a linear memory: the mechanism behind
// faasmReadStatePtr, which lets co-located Faaslets read and write the same
// physical pages of a state value without copying.
//
// The memory grows by the page-rounded length, and the new pages are then
// replaced (mmap MAP_SHARED | MAP_FIXED) by the object's pages. This works in
// both bounds modes because a Memory reserves its whole address range up
// front and never moves: the new pages are inside the reservation, and the
// fault handler that guards it still covers them.
#pragma once

#include "faasm/runtime/Error.h"
#include "faasm/runtime/Memory.h"

#include <cstdint>

namespace faasm::runtime {

// Grows `memory` by ceil(length / 64 KiB) wasm pages and maps bytes
// [fileOffset, fileOffset + that many pages) of `fd` over the new pages,
// shared with every other mapping of the object. Returns the guest address
// of the first mapped byte.
//
// The caller guarantees the object is at least that long (a mapping past the
// end of a file faults with SIGBUS on access) and that fileOffset is a
// multiple of the host page size. Fails (memory unchanged except for the
// grow, whose pages then stay zeroed and private) if the memory cannot grow
// or mmap refuses.
Expected<uint64_t> mapSharedIntoMemory(Memory& memory, int fd, uint64_t fileOffset,
                                       uint64_t length);

} // namespace faasm::runtime
