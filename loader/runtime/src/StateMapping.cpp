#include "faasm/runtime/StateMapping.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>

namespace faasm::runtime {

Expected<uint64_t> mapSharedIntoMemory(Memory& memory, int fd, uint64_t fileOffset,
                                       uint64_t length) {
  if (length == 0) return makeError("cannot map an empty state value");
  uint64_t bytes = abi::roundUpToWasmPages(length);
  if (fileOffset % uint64_t(sysconf(_SC_PAGESIZE)) != 0)
    return makeError("state object offset is not page aligned");
  int64_t oldPages = memory.grow(bytes / abi::kWasmPageSize);
  if (oldPages < 0)
    return makeError("linear memory cannot grow by " + std::to_string(bytes) +
                     " bytes to map a state value");
  uint64_t guestAddress = uint64_t(oldPages) * abi::kWasmPageSize;
  // The grown pages are ours alone: Memory::grow hands out each page range
  // once. The memory remembers the region, so that a snapshot taken now
  // keeps it shared (Memory::mapSnapshot).
  if (!memory.mapShared(guestAddress, bytes, fd, fileOffset))
    return makeError(std::string("cannot map state into linear memory: ") + strerror(errno));
  return guestAddress;
}

} // namespace faasm::runtime
