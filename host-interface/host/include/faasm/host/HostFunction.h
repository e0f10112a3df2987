// Host functions: C++ functions the runtime offers to guests as imports, and
// the boundary every call into one crosses.
//
// A host function is a C++ function taking the calling instance's
// abi::VMContext* first and then the wasm parameters (int32_t/uint32_t ->
// i32, int64_t/uint64_t -> i64, float -> f32, double -> f64; at most one
// result). hostFunction<&fn>(module, name) describes it for the runtime.
//
// Traps: a host function ends the guest call by throwing host::Trap (through
// trap() or exitGuest()). It may hold any RAII object while doing so: the
// boundary below catches the exception in the first host frame above
// generated code, lets every host frame unwind normally, and only then asks
// the runtime to raise the trap (GuestInstance::raiseTrap), which leaves
// nothing but generated code and this trivial frame behind. No exception
// ever crosses generated code.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/GuestInstance.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace faasm::host {

// Thrown by host functions to end the guest call with a trap.
struct Trap {
  abi::TrapCode code = abi::TrapCode::HostError;
  int32_t exitCode = 0; // the guest's exit code when code is TrapCode::Exit
};

[[noreturn]] inline void trap(abi::TrapCode code) {
  throw Trap{code, 0};
}
// proc_exit: ends the call as a trap with TrapCode::Exit carrying `code`.
[[noreturn]] inline void exitGuest(int32_t code) {
  throw Trap{abi::TrapCode::Exit, code};
}

// A host function as the runtime sees it: the import it satisfies, its wasm
// signature, the code generated code calls, and a thunk the host can invoke
// it through.
struct HostFunction {
  std::string module;
  std::string name;
  std::string signature; // "PARAMS:RESULTS", abi::ValType chars
  const void* code = nullptr;
  abi::ThunkFn thunk = nullptr;
};

namespace detail {
template <typename T> constexpr char valTypeChar() {
  if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>)
    return 'i';
  else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>)
    return 'I';
  else if constexpr (std::is_same_v<T, float>)
    return 'f';
  else if constexpr (std::is_same_v<T, double>)
    return 'F';
  else
    static_assert(sizeof(T) == 0, "host function parameter must be i32/i64/f32/f64");
}

template <typename T> T fromValue(const abi::Value& v) {
  T out;
  std::memcpy(&out, &v.lo, sizeof(T));
  return out;
}
template <typename T> abi::Value toValue(T x) {
  abi::Value v{};
  std::memcpy(&v.lo, &x, sizeof(T));
  return v;
}

template <auto Fn, typename FnType = decltype(Fn)> struct Boundary;
template <auto Fn, typename R, typename... Args>
struct Boundary<Fn, R (*)(abi::VMContext*, Args...)> {
  static std::string signature() {
    std::string s{valTypeChar<Args>()...};
    s += ':';
    if constexpr (!std::is_void_v<R>) s += valTypeChar<R>();
    return s;
  }

  // What generated code calls. Every frame of Fn is gone (destructors run)
  // before raiseTrap unwinds past this one, which holds nothing to destroy.
  static R call(abi::VMContext* vmctx, Args... args) {
    Trap caught;
    try {
      return Fn(vmctx, args...);
    } catch (const Trap& t) {
      caught = t;
    } catch (const std::bad_alloc&) {
      caught = Trap{abi::TrapCode::HostError, 0};
    }
    guestInstanceOf(vmctx).raiseTrap(caught.code, caught.exitCode);
    std::abort(); // raiseTrap never returns; a runtime whose does must not go on
  }
};

// Invokes any host function of this C++ type through its code pointer (the
// runtime shares one thunk among all functions of a wasm signature).
template <typename FnType> struct Thunk;
template <typename R, typename... Args> struct Thunk<R (*)(abi::VMContext*, Args...)> {
  template <size_t... I>
  static void unpack(abi::VMContext* vmctx, const void* code, const abi::Value* args,
                     abi::Value* results, std::index_sequence<I...>) {
    auto fn = reinterpret_cast<R (*)(abi::VMContext*, Args...)>(const_cast<void*>(code));
    if constexpr (std::is_void_v<R>) {
      fn(vmctx, fromValue<Args>(args[I])...);
    } else {
      results[0] = toValue<R>(fn(vmctx, fromValue<Args>(args[I])...));
    }
  }
  static void thunk(abi::VMContext* vmctx, const void* code, const abi::Value* args,
                    abi::Value* results) {
    unpack(vmctx, code, args, results, std::index_sequence_for<Args...>{});
  }
};
} // namespace detail

// Describes `Fn` as the host function module.name, called through the
// boundary above.
template <auto Fn> HostFunction hostFunction(std::string module, std::string name) {
  using B = detail::Boundary<Fn>;
  return HostFunction{std::move(module), std::move(name), B::signature(),
                      reinterpret_cast<const void*>(&B::call), &detail::Thunk<decltype(Fn)>::thunk};
}

} // namespace faasm::host
