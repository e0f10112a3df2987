// The platform as a Faasm function: every call forwards to the Faasm API.
#include "Platform.h"

#include <faasm/faasm.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ml::platform {

namespace {

int32_t checkedLength(size_t len, const char* what) {
  if (len > size_t(INT32_MAX)) {
    std::fprintf(stderr, "%s: %zu bytes is more than a Faasm call can pass\n", what, len);
    std::exit(2);
  }
  return int32_t(len);
}

} // namespace

std::string input() {
  std::string in(size_t(faasmGetInputSize()), '\0');
  if (!in.empty()) faasmGetInput(reinterpret_cast<uint8_t*>(in.data()), int32_t(in.size()));
  return in;
}

void setOutput(std::string_view output) {
  faasmSetOutput(reinterpret_cast<const uint8_t*>(output.data()),
                 checkedLength(output.size(), "output"));
}

size_t stateSize(const char* key) {
  return size_t(faasmReadStateSize(key));
}

void writeState(const char* key, const void* data, size_t len) {
  faasmWriteState(key, static_cast<const uint8_t*>(data), checkedLength(len, key));
  faasmPushState(key);
}

void readState(const char* key, void* out, size_t len) {
  faasmReadState(key, static_cast<uint8_t*>(out), checkedLength(len, key));
}

uint8_t* mapState(const char* key, size_t len) {
  return faasmReadStatePtr(key, checkedLength(len, key));
}

const uint8_t* mapStateRange(const char* key, size_t total, size_t offset, size_t len) {
  return faasmReadStateOffsetPtr(key, checkedLength(total, key), checkedLength(offset, key),
                                 checkedLength(len, key));
}

// The API flags a whole value only; a partial push then sends every chunk.
void flagDirty(const char* key, size_t total, size_t, size_t) {
  faasmFlagStateDirty(key, checkedLength(total, key));
}

void pushPartial(const char* key) {
  faasmPushStatePartial(key);
}

void pull(const char* key, size_t len) {
  faasmPullState(key, checkedLength(len, key));
}

float* mapHogwild(const char* key, size_t count) {
  return reinterpret_cast<float*>(mapState(key, count * sizeof(float)));
}

void syncHogwild(const char* key) {
  pushPartial(key);
}

uint32_t chain(const char* name, std::string_view in) {
  return faasmChainNamed(name, reinterpret_cast<const uint8_t*>(in.data()),
                         checkedLength(in.size(), "chained input"));
}

int await(uint32_t id) {
  return faasmAwaitCall(id);
}

std::string output(uint32_t id) {
  int32_t size = faasmGetOutput(id, nullptr, 0);
  if (size <= 0) return {};
  std::string out(size_t(size), '\0');
  faasmGetOutput(id, reinterpret_cast<uint8_t*>(out.data()), size);
  return out;
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double cpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

} // namespace ml::platform

int main() {
  return functionMain();
}
