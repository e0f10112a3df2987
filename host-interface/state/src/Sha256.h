// SHA-256 (FIPS 180-4), for naming state objects whose escaped name would
// be too long: the name must be collision resistant, since another key of
// the same user must never land on the same object.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace faasm::state {

std::array<uint8_t, 32> sha256(std::string_view bytes);

// Lower-case hex of sha256(bytes): 64 characters.
std::string sha256Hex(std::string_view bytes);

} // namespace faasm::state
