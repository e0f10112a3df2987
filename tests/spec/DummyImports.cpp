#include "DummyImports.h"

#include "faasm/runtime/TypeRegistry.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#if !defined(__x86_64__)
#error "DummyImports.cpp models the x86-64 SysV calling convention only"
#endif

extern "C" void faasm_spec_dummy_dispatch(uint32_t index, const uint64_t* regs,
                                          const uint64_t* stackArgs);
extern "C" char faasm_spec_dummy_stubs[];

// Stub i (at faasm_spec_dummy_stubs + 16 * i) puts i in r11 and jumps to the
// common entry. The entry's frame: 6 argument GPRs at 0..47, xmm0..7 at
// 48..175; the caller's stack arguments start 16 bytes above rbp. After the
// dispatch every return register is zeroed, which is the dummy's result.
asm(R"(
  .text
  .p2align 4
  .type faasm_spec_dummy_common, @function
faasm_spec_dummy_common:
  pushq %rbp
  movq %rsp, %rbp
  subq $176, %rsp
  movq %rdi, 0(%rsp)
  movq %rsi, 8(%rsp)
  movq %rdx, 16(%rsp)
  movq %rcx, 24(%rsp)
  movq %r8, 32(%rsp)
  movq %r9, 40(%rsp)
  movdqu %xmm0, 48(%rsp)
  movdqu %xmm1, 64(%rsp)
  movdqu %xmm2, 80(%rsp)
  movdqu %xmm3, 96(%rsp)
  movdqu %xmm4, 112(%rsp)
  movdqu %xmm5, 128(%rsp)
  movdqu %xmm6, 144(%rsp)
  movdqu %xmm7, 160(%rsp)
  movl %r11d, %edi
  movq %rsp, %rsi
  leaq 16(%rbp), %rdx
  call faasm_spec_dummy_dispatch@PLT
  xorl %eax, %eax
  xorl %edx, %edx
  xorl %ecx, %ecx
  pxor %xmm0, %xmm0
  pxor %xmm1, %xmm1
  leave
  ret
  .size faasm_spec_dummy_common, .-faasm_spec_dummy_common

  .p2align 4
  .globl faasm_spec_dummy_stubs
  .hidden faasm_spec_dummy_stubs
faasm_spec_dummy_stubs:
  .set stub_index, 0
  .rept 1024
  .p2align 4
  movl $stub_index, %r11d
  jmp faasm_spec_dummy_common
  .set stub_index, stub_index + 1
  .endr
)");

namespace faasm::spec {
namespace {

struct DummyImport {
  std::string module;
  std::string name;
  std::string params;
  std::string results;
};

std::vector<DummyImport>& dummies() {
  static std::vector<DummyImport> all;
  return all;
}

} // namespace

std::string formatInterpValue(abi::ValType type, const abi::Value& v) {
  char buf[400]; // "%f" of DBL_MAX is 316 characters

  switch (type) {
  case abi::ValType::I32: std::snprintf(buf, sizeof buf, "i32:%" PRIu32, uint32_t(v.lo)); break;
  case abi::ValType::I64: std::snprintf(buf, sizeof buf, "i64:%" PRIu64, v.lo); break;
  case abi::ValType::F32: {
    float f;
    uint32_t bits = uint32_t(v.lo);
    std::memcpy(&f, &bits, 4);
    std::snprintf(buf, sizeof buf, "f32:%f", double(f));
    break;
  }
  case abi::ValType::F64: {
    double d;
    std::memcpy(&d, &v.lo, 8);
    std::snprintf(buf, sizeof buf, "f64:%f", d);
    break;
  }
  case abi::ValType::V128: {
    uint32_t w[4];
    std::memcpy(w, &v, 16);
    std::snprintf(buf, sizeof buf,
                  "v128 i32x4:0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32 " 0x%08" PRIx32, w[0],
                  w[1], w[2], w[3]);
    break;
  }
  // wasm-interp prints its store index; ours is an address. Null is 0 in
  // both; scripts/fuzz-diff maps every other number to "non-null".
  case abi::ValType::FuncRef: std::snprintf(buf, sizeof buf, "funcref:%d", v.lo ? 1 : 0); break;
  case abi::ValType::ExternRef: std::snprintf(buf, sizeof buf, "externref:%d", v.lo ? 1 : 0); break;
  }
  return buf;
}

bool makeDummyImport(const std::string& module, const std::string& name,
                     const std::string& signature, host::HostFunction& out, std::string& outError) {
  std::string_view params, results;
  if (!runtime::parseSignature(signature, params, results)) {
    outError = "bad signature \"" + signature + "\"";
    return false;
  }
  if (results.size() > 1) {
    outError = "dummy import \"" + module + "\".\"" + name + "\" has " +
               std::to_string(results.size()) + " results; only 0 or 1 are supported";
    return false;
  }
  if (dummies().size() >= kMaxDummyImports) {
    outError = "more than " + std::to_string(kMaxDummyImports) + " dummy imports";
    return false;
  }
  uint32_t index = uint32_t(dummies().size());
  dummies().push_back({module, name, std::string(params), std::string(results)});
  out = host::HostFunction{module, name, signature, faasm_spec_dummy_stubs + 16 * index, nullptr};
  return true;
}

} // namespace faasm::spec

// Decodes the arguments by the SysV rules: integers and references take the
// next of rsi, rdx, rcx, r8, r9 (rdi is the vmctx), floats and v128 the next
// of xmm0..7, and whatever does not fit goes to 8-byte stack slots in order
// (a v128 to an aligned pair).
extern "C" void faasm_spec_dummy_dispatch(uint32_t index, const uint64_t* regs,
                                          const uint64_t* stackArgs) {
  using faasm::abi::ValType;
  const faasm::spec::DummyImport& d = faasm::spec::dummies()[index];
  unsigned gpr = 1, xmm = 0, slot = 0;
  std::string line = "called host " + d.module + "." + d.name + "(";
  for (size_t i = 0; i < d.params.size(); ++i) {
    ValType t = ValType(d.params[i]);
    faasm::abi::Value v{};
    bool isVector = t == ValType::F32 || t == ValType::F64 || t == ValType::V128;
    if (!isVector) {
      v.lo = gpr < 6 ? regs[gpr++] : stackArgs[slot++];
    } else if (xmm < 8) {
      std::memcpy(&v, regs + 6 + 2 * xmm++, t == ValType::V128 ? 16 : 8);
    } else if (t == ValType::V128) {
      slot = (slot + 1) & ~1u;
      std::memcpy(&v, stackArgs + slot, 16);
      slot += 2;
    } else {
      v.lo = stackArgs[slot++];
    }
    if (t == ValType::I32 || t == ValType::F32) v.lo &= 0xffffffffu;
    if (i) line += ", ";
    line += faasm::spec::formatInterpValue(t, v);
  }
  line += ") =>";
  if (!d.results.empty()) line += " " + faasm::spec::formatInterpValue(ValType(d.results[0]), {});
  std::printf("%s\n", line.c_str());
}
