// The frontend <-> executor protocol of a worker: frames of {type u32,
// reserved u32, length u64} and a payload of little-endian fields. The
// executor is the frontend's own child (same binary, same trust), but a
// frame's length is still checked before anything is allocated for it.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace faasm::worker::wire {

enum class Type : uint32_t {
  Config = 1, // frontend -> executor, first: ExecutorConfig
  Run = 2,    // frontend -> executor: a call
  Retire = 3, // frontend -> executor: a function was uploaded again
  Done = 4,   // executor -> frontend: a call's outcome
  Load = 5,   // executor -> frontend: its scheduler's Faaslets and queue, when they change
  // executor -> frontend: a chained call this host has no slot for, to run
  // on another (with --redis): {id, user, function, input, ms left}
  Chain = 6,
  // frontend -> executor: the outcome of a Chain, once, by its deadline:
  // {id, state, return code, output, error}
  ChainDone = 7,
};

inline constexpr uint64_t kMaxFrame = (uint64_t(1) << 30) + (uint64_t(1) << 20);

struct Writer {
  std::string bytes;
  Writer& u32(uint32_t v) { return raw(&v, sizeof v); }
  Writer& u64(uint64_t v) { return raw(&v, sizeof v); }
  Writer& i32(int32_t v) { return raw(&v, sizeof v); }
  Writer& str(std::string_view s) {
    u64(s.size());
    return raw(s.data(), s.size());
  }
  // Bytes (an input or output buffer) as a string field.
  Writer& str(std::span<const uint8_t> s) {
    return str(std::string_view(reinterpret_cast<const char*>(s.data()), s.size()));
  }
  Writer& raw(const void* p, size_t n) {
    bytes.append(static_cast<const char*>(p), n);
    return *this;
  }
  // A fixed-size field (a call id's bytes), as Reader::fill reads it.
  Writer& raw(std::span<const uint8_t> b) { return raw(b.data(), b.size()); }
};

// Reads fields in order; a read past the end sets `bad` and yields zeros.
struct Reader {
  std::string_view rest;
  bool bad = false;
  template <typename T> T num() {
    T v{};
    if (rest.size() < sizeof v) {
      bad = true;
      return v;
    }
    std::memcpy(&v, rest.data(), sizeof v);
    rest.remove_prefix(sizeof v);
    return v;
  }
  // Fills `out` whole (e.g. a call id's bytes), or zeroes it and sets `bad`.
  void fill(std::span<uint8_t> out) {
    if (rest.size() < out.size()) {
      bad = true;
      std::memset(out.data(), 0, out.size());
      return;
    }
    std::memcpy(out.data(), rest.data(), out.size());
    rest.remove_prefix(out.size());
  }
  uint32_t u32() { return num<uint32_t>(); }
  uint64_t u64() { return num<uint64_t>(); }
  int32_t i32() { return num<int32_t>(); }
  std::string str() {
    uint64_t n = u64();
    if (n > rest.size()) {
      bad = true;
      return {};
    }
    std::string s(rest.substr(0, n));
    rest.remove_prefix(n);
    return s;
  }
};

// A frame: header and payload as one string, for a non-blocking writer.
std::string frame(Type type, const std::string& payload);
// Blocking, whole frames; false on EOF or error (or a frame over kMaxFrame).
bool send(int fd, Type type, const std::string& payload);
bool receive(int fd, Type& type, std::string& payload);

} // namespace faasm::worker::wire
