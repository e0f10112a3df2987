// args_get, args_sizes_get, environ_get, environ_sizes_get.
#include "WasiPrivate.h"

#include <cstring>

namespace faasm::wasi {
namespace {

using host::guestBytes;
using host::guestStore;

uint64_t bufferSize(const std::vector<std::string>& strings) {
  uint64_t n = 0;
  for (const std::string& s : strings)
    n += s.size() + 1;
  return n;
}

// Writes pointers to argvPtr and the NUL-terminated strings to bufPtr, after
// checking both ranges whole.
int32_t writeStrings(VMContext* vm, const std::vector<std::string>& strings, uint32_t argvPtr,
                     uint32_t bufPtr) {
  guestBytes(vm, argvPtr, uint64_t(strings.size()) * 4);
  guestBytes(vm, bufPtr, bufferSize(strings));
  uint32_t at = bufPtr;
  for (size_t i = 0; i < strings.size(); ++i) {
    guestStore<uint32_t>(vm, argvPtr + uint64_t(i) * 4, at);
    std::memcpy(vm->memoryBase + at, strings[i].c_str(), strings[i].size() + 1);
    at += uint32_t(strings[i].size() + 1);
  }
  return kSuccess;
}

int32_t writeSizes(VMContext* vm, const std::vector<std::string>& strings, uint32_t countPtr,
                   uint32_t sizePtr) {
  guestBytes(vm, countPtr, 4);
  guestBytes(vm, sizePtr, 4);
  guestStore<uint32_t>(vm, countPtr, uint32_t(strings.size()));
  guestStore<uint32_t>(vm, sizePtr, uint32_t(bufferSize(strings)));
  return kSuccess;
}

int32_t argsGet(VMContext* vm, int32_t argv, int32_t buf) {
  return writeStrings(vm, wasiContextOf(vm).args, uint32_t(argv), uint32_t(buf));
}
int32_t argsSizesGet(VMContext* vm, int32_t count, int32_t size) {
  return writeSizes(vm, wasiContextOf(vm).args, uint32_t(count), uint32_t(size));
}
int32_t environGet(VMContext* vm, int32_t env, int32_t buf) {
  return writeStrings(vm, wasiContextOf(vm).env, uint32_t(env), uint32_t(buf));
}
int32_t environSizesGet(VMContext* vm, int32_t count, int32_t size) {
  return writeSizes(vm, wasiContextOf(vm).env, uint32_t(count), uint32_t(size));
}

} // namespace

void addArgsEnv(std::vector<host::HostFunction>& out) {
  out.push_back(host::hostFunction<&argsGet>(kWasiModule, "args_get"));
  out.push_back(host::hostFunction<&argsSizesGet>(kWasiModule, "args_sizes_get"));
  out.push_back(host::hostFunction<&environGet>(kWasiModule, "environ_get"));
  out.push_back(host::hostFunction<&environSizesGet>(kWasiModule, "environ_sizes_get"));
}

} // namespace faasm::wasi
