// Shared by the WASI topic files. Every function here follows the host
// function rules of faasm/runtime/HostModule.h: validate guest pointers
// (which may trap) before creating anything with a destructor.
#pragma once

#include "faasm/host/Wasi.h"
#include "faasm/runtime/GuestMemory.h"

#include <cstdint>
#include <string>
#include <unistd.h>

namespace faasm::host {

// A guest fd from 3 up: a preopened directory or a file or directory opened
// under one. Owns its host descriptor.
struct WasiContext::File {
  int fd = -1;
  bool isDirectory = false;
  bool isPreopen = false;
  std::string guestPath; // preopens: the name the guest sees
  uint64_t rightsBase = 0;
  uint64_t rightsInheriting = 0;
  File() = default;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

} // namespace faasm::host

namespace faasm::host::wasi {

// WASI preview1 rights bits the host interface checks or reports.
inline constexpr uint64_t kRightFdRead = 1ull << 1;
inline constexpr uint64_t kRightFdSeek = 1ull << 2;
inline constexpr uint64_t kRightFdFdstatSetFlags = 1ull << 3;
inline constexpr uint64_t kRightFdTell = 1ull << 5;
inline constexpr uint64_t kRightFdWrite = 1ull << 6;
inline constexpr uint64_t kRightFdAllocate = 1ull << 8;
inline constexpr uint64_t kRightFdReaddir = 1ull << 14;
inline constexpr uint64_t kRightFdFilestatSetSize = 1ull << 22;
inline constexpr uint64_t kRightPollFdReadwrite = 1ull << 27;

using abi::VMContext;

// WASI errno values (preview1 witx).
enum Errno : int32_t {
  kSuccess = 0,
  kE2big = 1,
  kEacces = 2,
  kEagain = 6,
  kEbadf = 8,
  kEbusy = 10,
  kEdquot = 19,
  kEexist = 20,
  kEfault = 21,
  kEfbig = 22,
  kEintr = 27,
  kEinval = 28,
  kEio = 29,
  kEisdir = 31,
  kEloop = 32,
  kEmfile = 33,
  kEmlink = 34,
  kEnametoolong = 37,
  kEnfile = 41,
  kEnoent = 44,
  kEnomem = 48,
  kEnospc = 51,
  kEnosys = 52,
  kEnotdir = 54,
  kEnotempty = 55,
  kEnotsup = 58,
  kEoverflow = 61,
  kEperm = 63,
  kEpipe = 64,
  kErofs = 69,
  kEspipe = 70,
  kEtxtbsy = 74,
  kExdev = 75,
  kEnotcapable = 76,
};

// WASI filetype values.
enum Filetype : uint8_t {
  kFiletypeUnknown = 0,
  kFiletypeBlockDevice = 1,
  kFiletypeCharacterDevice = 2,
  kFiletypeDirectory = 3,
  kFiletypeRegularFile = 4,
  kFiletypeSocketDgram = 5,
  kFiletypeSocketStream = 6,
  kFiletypeSymbolicLink = 7,
};

// The file behind guest fd `fd` (>= 3), or null.
WasiContext::File* fileOf(VMContext* vm, int32_t fd);
// The host descriptor of guest fd `fd` (stdio or file), or -1.
int hostFdOf(VMContext* vm, int32_t fd);
// The WASI filetype of a host st_mode.
uint8_t filetypeOf(uint32_t mode);

// Errno of a host errno value.
int32_t fromHostErrno(int e);


// Topic registration, called by registerWasi.
void registerArgsEnv(runtime::HostModuleRegistry& r);
void registerClocks(runtime::HostModuleRegistry& r);
void registerFd(runtime::HostModuleRegistry& r);
void registerFiles(runtime::HostModuleRegistry& r);
void registerPoll(runtime::HostModuleRegistry& r);
void registerProc(runtime::HostModuleRegistry& r);
void registerRandom(runtime::HostModuleRegistry& r);

// Nanoseconds of a WASI clock id, false for an unknown id.
bool readClock(uint32_t id, uint64_t& outNanos);

} // namespace faasm::host::wasi
