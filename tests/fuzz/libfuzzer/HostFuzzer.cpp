// libFuzzer target: the argument decoding of one topic of host functions
// (FAASM_FUZZ_TOPIC: wasi-fd, wasi-files, wasi-poll, wasi-args, wasi-clocks,
// wasi-random, api-io, api-chain, api-state).
//
// A real runtime instance: a module compiled once (at the first input) that
// imports every host function of the topic from the public registries
// (wasi::hostFunctions(), api::hostFunctions()) and defines one memory.
// Each input makes a fresh instance, fills its first memory page from the
// input, then calls host functions, chosen and given arguments by the rest
// of the input, through runtime::invoke: guest pointers, lengths, fds,
// flags and the structures in memory are all the fuzzer's. Checked after
// each call: nothing outside linear memory changed (canary pages around a
// host buffer, the memory's base and its size within its maximum), and no
// crash (ASan and UBSan watch the host code). Only public APIs are used, so
// the target survives changes to how host functions reach guest memory.
#include "faasm/api/CallContext.h"
#include "faasm/api/Faasm.h"
#include "faasm/codegen/Compiler.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Module.h"
#include "faasm/wasi/Wasi.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace rt = faasm::runtime;
namespace abi = faasm::abi;
namespace host = faasm::host;

namespace {

constexpr uint32_t kMemoryPages = 1;
constexpr uint32_t kMaxMemoryPages = 64; // state mappings grow memory
constexpr size_t kCallsPerInput = 16;
constexpr const char* kFuzzArtefactKey =
    "f022f022f022f022f022f022f022f022f022f022f022f022f022f022f022f022";

bool inTopic(std::string_view topic, std::string_view name) {
  auto starts = [&](std::string_view p) { return name.substr(0, p.size()) == p; };
  if (topic == "wasi-args") return starts("args_") || starts("environ_");
  if (topic == "wasi-clocks") return starts("clock_");
  if (topic == "wasi-random") return name == "random_get";
  if (topic == "wasi-poll") return name == "poll_oneoff" || name == "sched_yield";
  bool files = starts("path_") || starts("fd_prestat") || starts("fd_filestat") ||
               name == "fd_readdir" || name == "fd_advise" || name == "fd_allocate";
  if (topic == "wasi-files") return files;
  if (topic == "wasi-fd") return starts("fd_") && !files;
  if (topic == "api-io")
    return name == "faasmGetInputSize" || name == "faasmGetInput" || name == "faasmSetOutput";
  if (topic == "api-chain")
    return name == "faasmChainNamed" || name == "faasmAwaitCall" || name == "faasmGetOutput";
  if (topic == "api-state") return name.find("State") != std::string_view::npos;
  return false;
}

void uleb(std::vector<uint8_t>& out, uint64_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    out.push_back(byte | (v ? 0x80 : 0));
  } while (v);
}
void name(std::vector<uint8_t>& out, const std::string& s) {
  uleb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}
void section(std::vector<uint8_t>& out, uint8_t id, const std::vector<uint8_t>& payload) {
  out.push_back(id);
  uleb(out, payload.size());
  out.insert(out.end(), payload.begin(), payload.end());
}
uint8_t valType(char c) {
  switch (c) {
  case 'i': return 0x7f;
  case 'I': return 0x7e;
  case 'f': return 0x7d;
  default: return 0x7c;
  }
}

// A module importing `functions` and defining memory 0, exported as "memory".
std::vector<uint8_t> importerModule(const std::vector<host::HostFunction>& functions) {
  std::vector<uint8_t> types, imports, memory, exports;
  uleb(types, functions.size());
  uleb(imports, functions.size());
  for (size_t i = 0; i < functions.size(); ++i) {
    const std::string& sig = functions[i].signature;
    size_t colon = sig.find(':');
    types.push_back(0x60);
    uleb(types, colon);
    for (size_t k = 0; k < colon; ++k)
      types.push_back(valType(sig[k]));
    uleb(types, sig.size() - colon - 1);
    for (size_t k = colon + 1; k < sig.size(); ++k)
      types.push_back(valType(sig[k]));
    name(imports, functions[i].module);
    name(imports, functions[i].name);
    imports.push_back(0x00);
    uleb(imports, i);
  }
  memory = {1, 0x01};
  uleb(memory, kMemoryPages);
  uleb(memory, kMaxMemoryPages);
  uleb(exports, 1);
  name(exports, "memory");
  exports.push_back(0x02);
  uleb(exports, 0);
  std::vector<uint8_t> out = {0, 'a', 's', 'm', 1, 0, 0, 0};
  section(out, 1, types);
  section(out, 2, imports);
  section(out, 5, memory);
  section(out, 7, exports);
  return out;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz-host: %s\n", what.c_str());
  std::abort();
}

struct Fixture {
  std::string topic = FAASM_FUZZ_TOPIC;
  std::vector<host::HostFunction> functions;
  rt::HostModuleRegistry registry;
  std::shared_ptr<rt::Module> module;
  std::string base;    // this process's scratch directory, removed at exit
  std::string scratch; // the preopened directory's host side
  int devNull = -1;
  uint8_t* canary = nullptr; // kCanaryBytes, a host buffer the host functions never own
  static constexpr size_t kCanaryBytes = 3 * 4096;

  Fixture() {
    // Artefacts are sealed and checked with a key of the fuzzer's own, so a
    // run neither needs nor creates the user's key.
    ::setenv("FAASM_ARTEFACT_KEY", kFuzzArtefactKey, 1);
    std::vector<host::HostFunction> all = faasm::wasi::hostFunctions();
    std::vector<host::HostFunction> faasm = faasm::api::hostFunctions();
    all.insert(all.end(), faasm.begin(), faasm.end());
    for (const host::HostFunction& f : all)
      if (inTopic(topic, f.name)) functions.push_back(f);
    if (functions.empty()) die("no host functions in topic " + topic);
    registry.addFunctions(all);

    const char* tmp = std::getenv("TMPDIR");
    base = std::string(tmp && *tmp ? tmp : "/tmp") + "/faasm-fuzz-" + topic + "." +
           std::to_string(::getpid());
    ::mkdir(base.c_str(), 0700);
    scratch = base + "/preopen";
    ::mkdir(scratch.c_str(), 0700);
    ::mkdir((base + "/state").c_str(), 0700);
    faasm::api::setStateDirectory(base + "/state");
    devNull = ::open("/dev/null", O_RDWR | O_CLOEXEC);

    std::string so = base + "/importer.so";
    std::vector<uint8_t> wasm = importerModule(functions);
    faasm::codegen::CompileOptions options;
    options.threads = 1;
    options.sourceName = "fuzz-importer.wasm";
    faasm::codegen::CompileResult compiled =
        faasm::codegen::compileToSharedObject(wasm, options, so);
    if (!compiled.ok) die("cannot compile the importer: " + compiled.message);
    auto loaded = rt::Module::load(so);
    if (!loaded.ok()) die("cannot load the importer: " + loaded.error().message);
    module = loaded.value();

    void* p =
        ::mmap(nullptr, kCanaryBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) die("cannot map the canary");
    canary = static_cast<uint8_t*>(p);
    std::memset(canary, 0xa5, kCanaryBytes);
  }

  ~Fixture() {
    std::error_code ignored;
    std::filesystem::remove_all(base, ignored);
  }

  void checkCanary() const {
    for (size_t i = 0; i < kCanaryBytes; ++i)
      if (canary[i] != 0xa5) die("a host function wrote outside linear memory (canary changed)");
  }
};

// Reads the fuzz input front to back; past the end it reads zeros.
struct Input {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  uint64_t take(size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
      v |= uint64_t(at < size ? data[at++] : 0) << (8 * i);
    return v;
  }
  bool done() const { return at >= size; }
};

// An i32 argument: mostly near the memory's interesting places (small
// values, around the end of memory, fds), sometimes any 32 bits.
uint32_t argument32(Input& in) {
  uint8_t how = uint8_t(in.take(1));
  switch (how & 7) {
  case 0: return uint32_t(in.take(4));
  case 1: return uint32_t(in.take(1));                        // small: fds, flags, counts
  case 2: return kMemoryPages * 65536 - uint32_t(in.take(1)); // at the end of memory
  case 3: return uint32_t(in.take(2));                        // inside the first page
  case 4: return 0xffffffffu - uint32_t(in.take(1));
  default: return uint32_t(in.take(2)) & 0x7fff;
  }
}

// poll_oneoff may sleep as long as a clock subscription asks; the fuzzer
// caps the timeouts it finds in memory to a millisecond so that a long sleep,
// which is the guest's right (its Faaslet's time limit ends it), is not a hang.
void capPollTimeouts(rt::Instance& instance, uint32_t in, uint32_t count) {
  rt::Memory* memory = instance.memory();
  for (uint64_t k = 0; k < count && k < 64; ++k) {
    uint64_t field = uint64_t(in) + k * 48 + 24;
    if (field + 8 > memory->sizeBytes()) return;
    uint64_t timeout;
    std::memcpy(&timeout, memory->base() + field, 8);
    timeout = std::min<uint64_t>(timeout, 1000000);
    std::memcpy(memory->base() + field, &timeout, 8);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  Input in{data, size};

  auto wasi = std::make_shared<faasm::wasi::WasiContext>();
  wasi->args = {"fuzz", "a", "bc"};
  wasi->env = {"K=V", "EMPTY="};
  for (int& fd : wasi->stdioFds)
    fd = fixture.devNull;
  if (std::string error = wasi->addPreopen(fixture.scratch, "/data"); !error.empty())
    die("preopen: " + error);
  auto call = std::make_shared<faasm::api::CallContext>();
  call->input.assign(data, data + std::min<size_t>(size, 64));
  call->chain = [](std::string_view, std::span<const uint8_t>) { return 7u; };
  call->await = [](uint32_t id) { return id == 7 ? 0 : -1; };
  call->getOutput = [](uint32_t id, std::span<uint8_t> buffer) -> int32_t {
    if (id != 7) return -1;
    static constexpr uint8_t kOutput[] = {1, 2, 3};
    std::memcpy(buffer.data(), kOutput, std::min(buffer.size(), sizeof kOutput));
    return int32_t(sizeof kOutput);
  };
  rt::InstantiateOptions options;
  options.hostState.push_back(faasm::wasi::wasiHostState(wasi));
  options.hostState.push_back(faasm::api::callContextHostState(call));
  options.hostState.push_back(faasm::api::faasmHostState("fuzz"));
  auto made = rt::Instance::instantiate(fixture.module, fixture.registry.resolver(), options);
  if (!made.ok()) die("cannot instantiate: " + made.error().message);
  std::shared_ptr<rt::Instance> instance = made.value();
  rt::Memory* memory = instance->memory();
  uint8_t* base = memory->base();

  // The first page from the input (what pointers and iovecs point at); the
  // calls are read from the input's start too, so the two overlap.
  std::memcpy(base, in.data, std::min<size_t>(in.size, 65536));

  for (size_t n = 0; n < kCallsPerInput && !in.done(); ++n) {
    uint32_t which = uint32_t(in.take(1)) % fixture.functions.size();
    const std::string& sig = fixture.functions[which].signature;
    std::vector<abi::Value> args;
    for (char c : sig.substr(0, sig.find(':'))) {
      abi::Value v{};
      v.lo = c == 'I' ? in.take(1) & 1 ? in.take(8) : argument32(in) : argument32(in);
      args.push_back(v);
    }
    if (fixture.functions[which].name == "poll_oneoff" && args.size() >= 3)
      capPollTimeouts(*instance, uint32_t(args[0].lo), uint32_t(args[2].lo));
    rt::InvokeResult result = rt::invoke(instance->function(which), args);
    (void)result; // a trap (bad pointer, proc_exit) is an outcome, not a finding
    fixture.checkCanary();
    if (memory->base() != base) die("linear memory moved");
    if (memory->sizeBytes() > uint64_t(kMaxMemoryPages) * 65536)
      die("linear memory grew beyond its maximum");
  }
  return 0;
}
