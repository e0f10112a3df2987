// What the host-memory escape tests share: a guest (the hostile artefact,
// instantiated with WASI and the Faasm API as faasm-run would), a canary
// page just past its linear memory, a thread that keeps rewriting guest
// memory while host functions run, and a fresh state directory.
#pragma once

#include "faasm/api/CallContext.h"
#include "faasm/api/Faasm.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Memory.h"
#include "faasm/test/HandMade.h"
#include "faasm/wasi/Wasi.h"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace hostile {

namespace rt = faasm::runtime;
namespace abi = faasm::abi;
namespace api = faasm::api;
namespace wasi = faasm::wasi;

inline constexpr abi::BoundsMode kModes[] = {abi::BoundsMode::Guard, abi::BoundsMode::Explicit};
inline const char* modeName(abi::BoundsMode m) {
  return m == abi::BoundsMode::Guard ? "guard" : "explicit";
}

inline constexpr uint8_t kCanary = 0xCA;
inline constexpr uint64_t kPage = abi::kWasmPageSize;

inline abi::Value i32(int64_t v) {
  return rt::GlobalObject::i32(int32_t(uint32_t(v)));
}
inline abi::Value i64(int64_t v) {
  return rt::GlobalObject::i64(v);
}

// How a host call ended: a trap, or the value it returned (0 if none).
struct Outcome {
  abi::TrapCode trap = abi::TrapCode::None;
  int32_t value = 0;
  bool ok() const { return trap == abi::TrapCode::None; }
  bool succeeded() const { return ok() && value == 0; }
  bool pointerTrap() const { return trap == abi::TrapCode::HostPointerOutOfBounds; }
};

// A fresh state directory for this process (each test case runs alone).
inline std::string freshStateDirectory() {
  char tmpl[] = "/tmp/faasm-escape-hostmem.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  api::setStateDirectory(tmpl);
  return tmpl;
}

inline std::string tempDirectory() {
  char tmpl[] = "/tmp/faasm-escape-dir.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

struct Guest {
  rt::HostModuleRegistry registry;
  std::shared_ptr<wasi::WasiContext> wasi = std::make_shared<wasi::WasiContext>();
  std::shared_ptr<api::CallContext> callContext = std::make_shared<api::CallContext>();
  std::shared_ptr<rt::Instance> inst;
  abi::BoundsMode mode;
  uint64_t canaryAt = 0; // guest address of the canary page, 0 if none

  explicit Guest(abi::BoundsMode m, std::string user = "mallory") : mode(m) {
    registry.addFunctions(wasi::hostFunctions());
    registry.addFunctions(api::hostFunctions());
    std::string file =
        std::string(FAASM_HOSTILE_ARTEFACT_DIR) + "/art-hostile-" + modeName(m) + ".so";
    auto module = faasm::test::loadHandMade(file);
    REQUIRE_MESSAGE(module.ok(), module.error().message);
    rt::InstantiateOptions opts;
    opts.hostState.push_back(wasi::wasiHostState(wasi));
    opts.hostState.push_back(api::callContextHostState(callContext));
    opts.hostState.push_back(api::faasmHostState(std::move(user)));
    auto i = rt::Instance::instantiate(module.value(), registry.resolver(), opts);
    REQUIRE_MESSAGE(i.ok(), i.error().message);
    inst = i.value();
    REQUIRE(inst->memory()->mode() == m);
  }
  ~Guest() {
    if (canaryAt) mprotect(mem() + canaryAt, kPage, PROT_NONE); // as the runtime left it
  }

  uint8_t* mem() { return inst->memory()->base(); }
  uint64_t size() { return inst->memory()->sizeBytes(); }
  abi::VMContext* vm() { return inst->vmctx(); }

  Outcome call(const char* name, std::vector<abi::Value> args) {
    auto r = inst->invokeExport(name, args);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    Outcome o;
    o.trap = r.value().trap;
    if (o.ok() && !r.value().results.empty()) o.value = int32_t(uint32_t(r.value().results[0].lo));
    return o;
  }

  // Host memory just past linear memory, as in explicit mode with a small
  // memory: a readable, writable page of kCanary bytes right at the end
  // (inside the reservation, so the runtime never hands it out). No host
  // function may read or write it.
  void layCanary() {
    canaryAt = size();
    REQUIRE(mprotect(mem() + canaryAt, kPage, PROT_READ | PROT_WRITE) == 0);
    std::memset(mem() + canaryAt, kCanary, kPage);
  }
  bool canaryIntact() {
    for (uint64_t i = 0; i < kPage; ++i)
      if (mem()[canaryAt + i] != kCanary) return false;
    return true;
  }

  void put(uint64_t at, const void* bytes, size_t n) { std::memcpy(mem() + at, bytes, n); }
  void put(uint64_t at, const std::string& s) { put(at, s.data(), s.size()); }
  uint32_t u32(uint64_t at) {
    uint32_t v;
    std::memcpy(&v, mem() + at, 4);
    return v;
  }
};

// Rewrites guest bytes [at, at + a.size()) with `a`, then `b`, then `a`, ...
// as fast as it can until destroyed: what a second thread, or another
// Faaslet sharing the page, would do to a host function reading them.
class Flipper {
public:
  Flipper(uint8_t* where, std::vector<uint8_t> a, std::vector<uint8_t> b)
      : where_(where), a_(std::move(a)), b_(std::move(b)) {
    REQUIRE(a_.size() == b_.size());
    thread_ = std::thread([this] {
      while (!stop_.load(std::memory_order_relaxed)) {
        std::memcpy(where_, a_.data(), a_.size());
        asm volatile("" ::: "memory"); // each store happens, none is merged away
        std::memcpy(where_, b_.data(), b_.size());
        asm volatile("" ::: "memory");
        flips_.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  ~Flipper() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      stop_ = true;
      thread_.join();
    }
  }
  uint64_t flips() const { return flips_.load(); }

private:
  uint8_t* where_;
  std::vector<uint8_t> a_, b_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> flips_{0};
  std::thread thread_;
};

template <typename T> std::vector<uint8_t> bytesOf(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

} // namespace hostile
