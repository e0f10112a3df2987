// Host modules: functions (and memories, tables, globals) the embedder
// provides to instances by (module name, field name).
//
// A host function is a plain C function taking the calling instance's
// abi::VMContext* first and then the wasm parameters, exactly like generated
// code, so generated code calls it directly through its FuncRef. It may trap
// with raiseTrap()/exitGuest() (see Invoke.h) but must then have no live
// object with a destructor in its frame: validate first, then act.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/runtime/Extern.h"

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace faasm::runtime {

struct HostFunction {
  std::string module;
  std::string name;
  std::string signature; // "PARAMS:RESULTS", abi::ValType chars
  const void* code = nullptr;
  // Optional: lets the host invoke() this function directly (when it is not
  // called through an importing instance whose module has a thunk for it).
  abi::ThunkFn thunk = nullptr;
};

namespace detail {
template <typename T> constexpr char valTypeChar() {
  if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) return 'i';
  else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) return 'I';
  else if constexpr (std::is_same_v<T, float>) return 'f';
  else if constexpr (std::is_same_v<T, double>) return 'F';
  else static_assert(sizeof(T) == 0, "host function parameter must be i32/i64/f32/f64");
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

template <typename Fn> struct HostFnTraits;
template <typename R, typename... Args> struct HostFnTraits<R (*)(abi::VMContext*, Args...)> {
  using Ptr = R (*)(abi::VMContext*, Args...);
  static std::string signature() {
    std::string s{valTypeChar<Args>()...};
    s += ':';
    if constexpr (!std::is_void_v<R>) s += valTypeChar<R>();
    return s;
  }
  template <size_t... I>
  static void call(abi::VMContext* vmctx, const void* code, const abi::Value* args,
                   abi::Value* results, std::index_sequence<I...>) {
    auto fn = reinterpret_cast<Ptr>(const_cast<void*>(code));
    if constexpr (std::is_void_v<R>) {
      fn(vmctx, fromValue<Args>(args[I])...);
    } else {
      results[0] = toValue<R>(fn(vmctx, fromValue<Args>(args[I])...));
    }
  }
  static void thunk(abi::VMContext* vmctx, const void* code, const abi::Value* args,
                    abi::Value* results) {
    call(vmctx, code, args, results, std::index_sequence_for<Args...>{});
  }
};
} // namespace detail

// Describes the C function Fn as a host function; its signature string and a
// thunk are derived from its C++ type (int32_t -> i, int64_t -> I, float -> f,
// double -> F; at most one result).
template <auto Fn> HostFunction hostFunction(std::string module, std::string name) {
  using Traits = detail::HostFnTraits<decltype(Fn)>;
  return HostFunction{std::move(module), std::move(name), Traits::signature(),
                      reinterpret_cast<const void*>(Fn), &Traits::thunk};
}

// A set of host modules, and the resolver instantiate() wants. Later
// additions replace earlier ones of the same (module, name).
class HostModuleRegistry {
public:
  void addFunction(HostFunction function);
  void addMemory(const std::string& module, const std::string& name, std::shared_ptr<Memory> m);
  void addTable(const std::string& module, const std::string& name,
                std::shared_ptr<TableObject> t);
  void addGlobal(const std::string& module, const std::string& name,
                 std::shared_ptr<GlobalObject> g);
  // Any extern, e.g. another instance's export registered under a name.
  void addExtern(const std::string& module, const std::string& name, Extern e);

  std::optional<Extern> resolve(std::string_view module, std::string_view name) const;
  // A resolver that refers to this registry (which must outlive its use).
  ImportResolver resolver() const;

private:
  std::map<std::pair<std::string, std::string>, Extern, std::less<>> externs_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<HostFunction>> functions_;
};

// Tries `first`, then `second`.
ImportResolver chainResolvers(ImportResolver first, ImportResolver second);

} // namespace faasm::runtime
