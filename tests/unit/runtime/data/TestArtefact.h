// Helpers for hand-made test artefacts: shared objects that define
// faasm_module_descriptor exactly as faasm-codegen would, with functions
// written in C++ that take the VMContext* first. Loaded by the runtime the
// same way as generated code.
#pragma once

#include "faasm/abi/Abi.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace testart {

using namespace faasm::abi;

template <typename T> T arg(const Value& v) {
  T out;
  std::memcpy(&out, &v.lo, sizeof(T));
  return out;
}
// constexpr, so that descriptors are constant data (see FAASM_TEST_DESCRIPTOR).
template <typename T> constexpr Value val(T x) {
  Value v{};
  if constexpr (sizeof(T) == 4)
    v.lo = std::bit_cast<uint32_t>(x);
  else
    v.lo = std::bit_cast<uint64_t>(x);
  return v;
}

// A thunk for functions of type R(VMContext*, Args...).
template <typename R, typename... Args> struct Thunk {
  template <size_t... I>
  static void call(VMContext* vm, const void* code, const Value* a, Value* r,
                   std::index_sequence<I...>) {
    auto fn = reinterpret_cast<R (*)(VMContext*, Args...)>(const_cast<void*>(code));
    if constexpr (std::is_void_v<R>)
      fn(vm, arg<Args>(a[I])...);
    else
      r[0] = val<R>(fn(vm, arg<Args>(a[I])...));
  }
  static void thunk(VMContext* vm, const void* code, const Value* a, Value* r) {
    call(vm, code, a, r, std::index_sequence_for<Args...>{});
  }
};

template <typename T, size_t N> constexpr Array<T> arr(const T (&a)[N]) {
  return {a, N};
}
template <typename T> constexpr Array<T> none() {
  return {nullptr, 0};
}

constexpr InitExpr i32Const(int32_t v) {
  InitExpr e{};
  e.value = val<int32_t>(v);
  e.kind = uint8_t(InitKind::Const);
  e.type = uint8_t(ValType::I32);
  return e;
}
constexpr InitExpr refFunc(uint32_t index) {
  InitExpr e{};
  e.index = index;
  e.kind = uint8_t(InitKind::RefFunc);
  e.type = uint8_t(ValType::FuncRef);
  return e;
}
constexpr InitExpr refNull() {
  InitExpr e{};
  e.kind = uint8_t(InitKind::RefNull);
  e.type = uint8_t(ValType::FuncRef);
  return e;
}
constexpr InitExpr globalGet(uint32_t index, ValType t = ValType::I32) {
  InitExpr e{};
  e.index = index;
  e.kind = uint8_t(InitKind::GlobalGet);
  e.type = uint8_t(t);
  return e;
}
constexpr Limits limits(uint64_t min) {
  return Limits{min, 0, 0, {}};
}
constexpr Limits limits(uint64_t min, uint64_t max) {
  return Limits{min, max, 1, {}};
}

constexpr ModuleDescriptor header(BoundsMode mode) {
  ModuleDescriptor d{};
  d.magic = kMagic;
  d.abiVersion = kAbiVersion;
  d.compilerVersion = "test-artefact";
  d.boundsMode = uint32_t(mode);
  d.startFunction = -1;
  d.cpuFeatures = 0;
  d.sourceName = "hand-made";
  return d;
}

} // namespace testart

// Declared first so the definition below has C linkage without `extern`.
// constinit: the descriptor is constant data, as faasm-codegen emits it, so
// the artefact has no initialiser (which Module::load would refuse).
#define FAASM_TEST_DESCRIPTOR                                                                      \
  extern "C"                                                                                       \
      __attribute__((visibility("default"))) faasm::abi::ModuleDescriptor faasm_module_descriptor; \
  constinit faasm::abi::ModuleDescriptor faasm_module_descriptor
