// args_get, args_sizes_get, environ_get, environ_sizes_get.
#include "WasiPrivate.h"

#include <cstring>

namespace faasm::wasi {
namespace {

using host::guestCheck;
using host::guestStore;

uint64_t bufferSize(const std::vector<std::string>& strings) {
  uint64_t n = 0;
  for (const std::string& s : strings)
    n += s.size() + 1;
  return n;
}

// Writes pointers to argvPtr and the NUL-terminated strings to bufPtr, after
// checking both ranges whole; both are built in host memory first.
int32_t writeStrings(VMContext* vm, const std::vector<std::string>& strings, uint32_t argvPtr,
                     uint32_t bufPtr) {
  guestCheck(vm, argvPtr, uint64_t(strings.size()) * 4);
  guestCheck(vm, bufPtr, bufferSize(strings));
  std::vector<uint32_t> pointers;
  std::string buffer;
  for (const std::string& s : strings) {
    pointers.push_back(uint32_t(bufPtr + buffer.size()));
    buffer.append(s.c_str(), s.size() + 1);
  }
  host::guestStoreBytes(vm, argvPtr, pointers.data(), pointers.size() * 4);
  host::guestStoreBytes(vm, bufPtr, buffer.data(), buffer.size());
  return kSuccess;
}

int32_t writeSizes(VMContext* vm, const std::vector<std::string>& strings, uint32_t countPtr,
                   uint32_t sizePtr) {
  guestCheck(vm, countPtr, 4);
  guestCheck(vm, sizePtr, 4);
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
