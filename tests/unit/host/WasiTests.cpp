#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/test/HandMade.h"
#include "faasm/wasi/Wasi.h"

#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace rt = faasm::runtime;
namespace abi = faasm::abi;
namespace wasi = faasm::wasi;

namespace {

abi::Value i32(int32_t v) {
  return rt::GlobalObject::i32(v);
}
abi::Value i64(int64_t v) {
  return rt::GlobalObject::i64(v);
}

struct WasiFixture {
  rt::HostModuleRegistry registry;
  std::shared_ptr<wasi::WasiContext> ctx = std::make_shared<wasi::WasiContext>();
  std::shared_ptr<rt::Instance> inst;

  WasiFixture() {
    registry.addFunctions(wasi::hostFunctions());
    ctx->args = {"prog", "a", "bc"};
    ctx->env = {"K=V"};
    auto m = faasm::test::loadHandMade(std::string(FAASM_TEST_ARTEFACT_DIR) + "/art-wasi.so");
    REQUIRE_MESSAGE(m.ok(), m.error().message);
    rt::InstantiateOptions opts;
    opts.hostState.push_back(wasi::wasiHostState(ctx));
    auto i = rt::Instance::instantiate(m.value(), registry.resolver(), opts);
    REQUIRE_MESSAGE(i.ok(), i.error().message);
    inst = i.value();
  }
  uint8_t* mem() { return inst->memory()->base(); }
  rt::InvokeResult call(const char* name, std::vector<abi::Value> args) {
    auto r = inst->invokeExport(name, args);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return r.value();
  }
  int32_t errnoOf(const char* name, std::vector<abi::Value> args) {
    rt::InvokeResult r = call(name, std::move(args));
    REQUIRE_MESSAGE(r.ok(), abi::trapMessage(r.trap));
    return int32_t(uint32_t(r.results[0].lo));
  }
  uint32_t u32(uint32_t at) {
    uint32_t v;
    std::memcpy(&v, mem() + at, 4);
    return v;
  }
  uint64_t u64(uint32_t at) {
    uint64_t v;
    std::memcpy(&v, mem() + at, 8);
    return v;
  }
};

} // namespace

TEST_CASE("args and environ") {
  WasiFixture f;
  CHECK(f.errnoOf("args_sizes_get", {i32(100), i32(104)}) == 0);
  CHECK(f.u32(100) == 3);
  CHECK(f.u32(104) == 10); // "prog\0a\0bc\0"
  CHECK(f.errnoOf("args_get", {i32(200), i32(300)}) == 0);
  CHECK(f.u32(200) == 300);
  CHECK(f.u32(204) == 305);
  CHECK(f.u32(208) == 307);
  CHECK(std::memcmp(f.mem() + 300, "prog\0a\0bc\0", 10) == 0);
  CHECK(f.errnoOf("environ_sizes_get", {i32(100), i32(104)}) == 0);
  CHECK(f.u32(100) == 1);
  CHECK(f.u32(104) == 4);
  CHECK(f.errnoOf("environ_get", {i32(400), i32(500)}) == 0);
  CHECK(std::memcmp(f.mem() + 500, "K=V", 4) == 0);
}

TEST_CASE("bad guest pointers trap before anything is written") {
  WasiFixture f;
  CHECK(f.call("args_get", {i32(65535 - 4), i32(300)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.call("args_get", {i32(200), i32(65530)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.u32(200) == 0); // argv not written: the buffer check came first
  CHECK(f.call("random_get", {i32(10), i32(-1)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.call("random_get", {i32(-1), i32(2)}).trap == abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.call("clock_time_get", {i32(1), i64(0), i32(65532)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
  // An iovec naming bytes outside memory: nothing is written to the fd.
  uint32_t iov[2] = {65530, 100};
  std::memcpy(f.mem(), iov, 8);
  CHECK(f.call("fd_write", {i32(1), i32(0), i32(1), i32(8)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.call("fd_write", {i32(1), i32(0), i32(0x20000000), i32(8)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
  CHECK(f.call("poll_oneoff", {i32(0), i32(0), i32(100000), i32(8)}).trap ==
        abi::TrapCode::HostPointerOutOfBounds);
}

TEST_CASE("clocks and random") {
  WasiFixture f;
  CHECK(f.errnoOf("clock_time_get", {i32(1), i64(0), i32(64)}) == 0);
  uint64_t t1 = f.u64(64);
  CHECK(f.errnoOf("clock_time_get", {i32(1), i64(0), i32(64)}) == 0);
  CHECK(f.u64(64) >= t1);
  CHECK(t1 > 0);
  CHECK(f.errnoOf("clock_time_get", {i32(0), i64(0), i32(64)}) == 0);
  CHECK(f.u64(64) > 1'600'000'000ull * 1'000'000'000ull);
  CHECK(f.errnoOf("clock_time_get", {i32(9), i64(0), i32(64)}) == 28); // EINVAL
  CHECK(f.errnoOf("random_get", {i32(1000), i32(64)}) == 0);
  int nonzero = 0;
  for (int i = 0; i < 64; ++i)
    nonzero += f.mem()[1000 + i] != 0;
  CHECK(nonzero > 32);
  CHECK(f.errnoOf("random_get", {i32(65536), i32(0)}) == 0);
}

TEST_CASE("stdio descriptors") {
  WasiFixture f;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  f.ctx->stdioFds[1] = fds[1];
  CHECK(f.call("_start", {}).ok());
  char buf[8] = {};
  CHECK(read(fds[0], buf, sizeof(buf)) == 3);
  CHECK(std::string(buf) == "hi\n");
  CHECK(f.u32(8) == 3); // nwritten
  close(fds[0]);
  close(fds[1]);

  CHECK(f.errnoOf("fd_seek", {i32(1), i64(0), i32(0), i32(64)}) == 70); // ESPIPE
  CHECK(f.errnoOf("fd_seek", {i32(5), i64(0), i32(0), i32(64)}) == 8);  // EBADF
  CHECK(f.errnoOf("fd_prestat_get", {i32(3), i32(64)}) == 8);           // no preopens
  CHECK(f.errnoOf("fd_fdstat_get", {i32(1), i32(64)}) == 0);
  CHECK((f.u64(72) & (1ull << 6)) != 0); // FD_WRITE
  CHECK(f.errnoOf("fd_fdstat_get", {i32(7), i32(64)}) == 8);
  CHECK(f.errnoOf("fd_close", {i32(2)}) == 0);
  CHECK(f.errnoOf("fd_close", {i32(2)}) == 8);
  CHECK(f.errnoOf("fd_write", {i32(2), i32(0), i32(0), i32(8)}) == 8);
}

TEST_CASE("poll_oneoff sleeps on a clock subscription") {
  WasiFixture f;
  uint8_t sub[48] = {};
  uint64_t userdata = 0x1234, timeout = 2'000'000; // 2 ms, relative
  uint32_t clock = 1;
  std::memcpy(sub, &userdata, 8);
  std::memcpy(sub + 16, &clock, 4);
  std::memcpy(sub + 24, &timeout, 8);
  std::memcpy(f.mem() + 1024, sub, 48);
  CHECK(f.errnoOf("clock_time_get", {i32(1), i64(0), i32(64)}) == 0);
  uint64_t before = f.u64(64);
  CHECK(f.errnoOf("poll_oneoff", {i32(1024), i32(2048), i32(1), i32(8)}) == 0);
  CHECK(f.errnoOf("clock_time_get", {i32(1), i64(0), i32(64)}) == 0);
  CHECK(f.u64(64) - before >= 2'000'000);
  CHECK(f.u32(8) == 1);
  CHECK(f.u64(2048) == 0x1234);
  CHECK(f.errnoOf("poll_oneoff", {i32(1024), i32(2048), i32(0), i32(8)}) == 28);
}

TEST_CASE("proc_exit ends the call with the code") {
  WasiFixture f;
  rt::InvokeResult r = f.call("proc_exit", {i32(9)});
  CHECK(r.trap == abi::TrapCode::Exit);
  CHECK(r.exitCode == 9);
}

TEST_CASE("fd_write takes at most IOV_MAX buffers, in one copy of the array") {
  WasiFixture f;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  f.ctx->stdioFds[1] = fds[1];
  std::memset(f.mem(), 0, 1025 * 8); // 1025 empty iovecs at 0
  uint32_t first[2] = {16, 3};       // "hi\n"
  std::memcpy(f.mem(), first, 8);
  CHECK(f.errnoOf("fd_write", {i32(1), i32(0), i32(1025), i32(0x3000)}) == 28); // EINVAL
  CHECK(f.errnoOf("fd_write", {i32(1), i32(0), i32(1024), i32(0x3000)}) == 0);
  CHECK(f.u32(0x3000) == 3);
  char buf[8] = {};
  CHECK(read(fds[0], buf, sizeof buf) == 3);
  close(fds[0]);
  close(fds[1]);
}
