// Helpers shared by the isolation sources; not part of the public API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace faasm::isolation::detail {

// Whole-file read/write for cgroup and proc files. writeFile returns 0 or errno.
std::optional<std::string> readFile(const std::string& path);
int writeFile(const std::string& path, const std::string& value);
// "key value" lines (memory.events, memory.oom_control): the value of `key`.
std::optional<uint64_t> readKeyed(const std::string& path, const std::string& key);

} // namespace faasm::isolation::detail
