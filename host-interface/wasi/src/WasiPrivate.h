// Shared by the WASI topic files. Every function here is a host function
// (faasm/host/HostFunction.h): it reaches guest memory only through
// faasm/host/GuestMemory.h (guest structures copied once, payload through
// checked spans) and ends a call by throwing host::Trap.
#pragma once

#include "faasm/host/GuestMemory.h"
#include "faasm/wasi/Wasi.h"

#include <cstdint>
#include <string>
#include <unistd.h>
#include <vector>

namespace faasm::wasi {

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

// Guest fds 0, 1, 2: streams to the guest, never files it may truncate,
// allocate, seek, sync or stat (see WasiFd.cpp).
inline bool isStdio(int32_t fd) {
  return fd >= 0 && fd <= 2;
}
// What fd_fdstat_get and fd_filestat_get report for a stdio host
// descriptor: a character device if it is one (so isatty works), else an
// unknown stream; never a regular file, which a guest might try to seek.
uint8_t stdioFiletype(int hostFd);

// The file behind guest fd `fd` (>= 3), or null.
WasiContext::File* fileOf(VMContext* vm, int32_t fd);
// The host descriptor of guest fd `fd` (stdio or file), or -1.
int hostFdOf(VMContext* vm, int32_t fd);
// The WASI filetype of a host st_mode.
uint8_t filetypeOf(uint32_t mode);

// Errno of a host errno value.
int32_t fromHostErrno(int e);

// The host functions of each topic, collected by hostFunctions().
void addArgsEnv(std::vector<host::HostFunction>& out);
void addClocks(std::vector<host::HostFunction>& out);
void addFd(std::vector<host::HostFunction>& out);
void addFiles(std::vector<host::HostFunction>& out);
void addPoll(std::vector<host::HostFunction>& out);
void addProc(std::vector<host::HostFunction>& out);
void addRandom(std::vector<host::HostFunction>& out);

// Nanoseconds of a WASI clock id, false for an unknown id.
bool readClock(uint32_t id, uint64_t& outNanos);

} // namespace faasm::wasi
