// Errors the runtime returns to its embedder. Nothing in the runtime throws
// past its API or aborts on bad input: every failure is one of these.
#pragma once

#include "faasm/abi/Abi.h"

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace faasm::runtime {

// One line, lower-case, without the file name (the tool prefixes it).
// `trap` is set when the failure is a trap raised while instantiating (an
// out-of-bounds segment, a trapping start function).
struct Error {
  std::string message;
  abi::TrapCode trap = abi::TrapCode::None;
  int32_t exitCode = 0; // when trap == Exit (proc_exit in a start function)
  // For a trap of guest code: where (Backtrace.h's lines), if known.
  std::string backtrace;
};

// A value or an Error, in the spirit of llvm::Expected but without the
// must-check machinery.
template <typename T> class Expected {
public:
  Expected(T value) : v_(std::move(value)) {}
  Expected(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() {
    assert(ok() && "value() of a failed Expected");
    return std::get<0>(v_);
  }
  const T& value() const {
    assert(ok() && "value() of a failed Expected");
    return std::get<0>(v_);
  }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }

  const Error& error() const {
    assert(!ok() && "error() of a successful Expected");
    return std::get<1>(v_);
  }

private:
  std::variant<T, Error> v_;
};

inline Error makeError(std::string message) {
  Error e;
  e.message = std::move(message);
  return e;
}

} // namespace faasm::runtime
