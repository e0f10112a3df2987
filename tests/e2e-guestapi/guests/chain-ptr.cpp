// Chaining by function pointer, as faasm/cpp's API has it (C++): faasmChain
// of functions of this module, each a Faaslet of its own with its own input;
// faasmChainBatch; both spellings of faasmAwaitCallOutput. The mode is the
// first word of the input:
//   fanout N   N squares by pointer, fanned in through their outputs; then a
//              batch of N appenders fanned in through an append list
//   nested     a callee that itself chains by pointer
//   bad        pointers that name no () -> int function trap in the callee
//   random     two callees draw random strings: they differ
//   main       chained with a null pointer: main runs (as "leaf")
#include <faasm/faasm.h>
#include <faasm/input.h>
#include <faasm/random.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

const char* kBatchKey = "guestapi-batch";

std::string input() {
  return faasm::getStringInput("");
}

void output(const std::string& text) {
  faasmSetOutput(text.c_str(), text.size());
}

int square() {
  int v = std::atoi(input().c_str());
  output(std::to_string(v * v));
  return 0;
}

int appender() {
  int v = std::atoi(input().c_str());
  faasmAppendState(kBatchKey, BYTES(&v), sizeof v);
  return 0;
}

int inner() {
  output("inner saw " + input());
  return 3;
}

int outer() {
  std::string in = "from outer " + input();
  uint32_t id = faasmChain(inner, BYTES(in.data()), int32_t(in.size()));
  char* out = nullptr;
  int len = 0;
  int rc = faasmAwaitCallOutput(id, &out, &len);
  output(std::string(out, size_t(len)) + " rc=" + std::to_string(rc));
  free(out);
  return 0;
}

int takesAnInt(int v) {
  return v;
}

int draw() {
  output(faasm::randomString(24));
  return 0;
}

// The chained call's output as a string, and its return code.
std::string await(uint32_t id, int* rc) {
  char buffer[256] = {0};
  *rc = faasmAwaitCallOutput(id, BYTES(buffer), sizeof buffer - 1);
  return buffer;
}

int fanout(int n) {
  std::vector<uint32_t> ids;
  for (int i = 1; i <= n; ++i) {
    std::string arg = std::to_string(i);
    ids.push_back(faasmChain(square, BYTES(arg.data()), int32_t(arg.size())));
    if (!ids.back()) return 10;
  }
  long sum = 0;
  for (uint32_t id : ids) {
    char* out = nullptr;
    int len = 0;
    if (faasmAwaitCallOutput(id, &out, &len) != 0) return 11;
    sum += std::atol(std::string(out, size_t(len)).c_str());
    free(out);
  }
  faasmClearAppendedState(kBatchKey);
  unsigned int failed = faasmChainBatch(appender, "7", n);
  std::vector<int> appended(size_t(n), 0);
  faasmReadAppendedState(kBatchKey, BYTES(appended.data()), int32_t(n * sizeof(int)), n);
  long batch = 0;
  for (int v : appended)
    batch += v;
  std::printf("squares 1..%d by pointer: %ld; batch of %d: failed=%u appended=%ld\n", n, sum, n,
              failed, batch);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  (void)argc, (void)argv;
  std::string in = input();
  if (in.rfind("fanout ", 0) == 0) return fanout(std::atoi(in.c_str() + 7));
  if (in == "nested") {
    int rc = 0;
    std::string out = await(faasmChain(outer, reinterpret_cast<const uint8_t*>("x"), 1), &rc);
    std::printf("nested: %s (rc %d)\n", out.c_str(), rc);
    return 0;
  }
  if (in == "bad") {
    // Through void (*)(): the cast a program makes on purpose.
    using AnyFunction = void (*)();
    FaasmFuncPtr wrongType =
        reinterpret_cast<FaasmFuncPtr>(reinterpret_cast<AnyFunction>(&takesAnInt));
    FaasmFuncPtr outOfTable = reinterpret_cast<FaasmFuncPtr>(uintptr_t(0x7FFFFFF0u));
    int rc1 = faasmAwaitCall(faasmChain(wrongType, nullptr, 0));
    int rc2 = faasmAwaitCall(faasmChain(outOfTable, nullptr, 0));
    int rc3 = faasmAwaitCall(faasmChain(square, reinterpret_cast<const uint8_t*>("4"), 1));
    std::printf("bad: wrong type %d, out of table %d, then a good one %d\n", rc1, rc2, rc3);
    return 0;
  }
  if (in == "random") {
    int rc1 = 0, rc2 = 0;
    uint32_t a = faasmChain(draw, nullptr, 0), b = faasmChain(draw, nullptr, 0);
    std::string x = await(a, &rc1), y = await(b, &rc2);
    std::printf("random: %zu and %zu characters, %s\n", x.size(), y.size(),
                x == y ? "the same" : "different");
    return rc1 || rc2;
  }
  if (in == "main") {
    int rc = 0;
    std::string out = await(faasmChain(nullptr, reinterpret_cast<const uint8_t*>("leaf"), 4), &rc);
    std::printf("main chained by null: %s (rc %d)\n", out.c_str(), rc);
    return 0;
  }
  if (in == "leaf") {
    output("main ran as a callee");
    return 5;
  }
  std::fprintf(stderr, "chain-ptr: unknown mode %s\n", in.c_str());
  return 2;
}
