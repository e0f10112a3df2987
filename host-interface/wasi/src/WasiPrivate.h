// Shared by the WASI topic files. Every function here is a host function
// (faasm/host/HostFunction.h): it reaches guest memory only through
// faasm/host/GuestMemory.h (guest structures copied once, payload through
// checked spans) and ends a call by throwing host::Trap.
#pragma once

#include "faasm/host/GuestMemory.h"
#include "faasm/wasi/Wasi.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace faasm::wasi {

// A guest fd held in WasiContext::files: a preopened directory, a file or
// directory opened under one, a socket the embedder pre-opened, or a stdio
// stream the guest renumbered (fd_renumber) or restricted
// (fd_fdstat_set_rights). Copyable: copies share the host descriptor, which
// closes with the last of them; a File in the table is never modified
// (fd_fdstat_set_rights replaces it), so a warm Faaslet's baseline, which
// shares the objects, stays as it was saved.
struct WasiContext::File {
  struct HostFd {
    int fd;
    explicit HostFd(int f) : fd(f) {}
    HostFd(const HostFd&) = delete;
    HostFd& operator=(const HostFd&) = delete;
    ~HostFd() {
      if (fd >= 0) ::close(fd);
    }
  };
  int fd = -1;
  std::shared_ptr<const HostFd> owner; // null: the host's stdio, never closed here
  bool isDirectory = false;
  bool isPreopen = false;
  bool isStream = false; // the host's stdio: a stream, never a file to the guest
  bool isSocket = false;
  std::string guestPath; // preopens: the name the guest sees
  uint64_t rightsBase = 0;
  uint64_t rightsInheriting = 0;
};

// A File owning host descriptor `fd`.
std::shared_ptr<WasiContext::File> ownedFile(int fd);

// WASI preview1 rights bits (witx `rights`).
inline constexpr uint64_t kRightFdDatasync = 1ull << 0;
inline constexpr uint64_t kRightFdRead = 1ull << 1;
inline constexpr uint64_t kRightFdSeek = 1ull << 2;
inline constexpr uint64_t kRightFdFdstatSetFlags = 1ull << 3;
inline constexpr uint64_t kRightFdSync = 1ull << 4;
inline constexpr uint64_t kRightFdTell = 1ull << 5;
inline constexpr uint64_t kRightFdWrite = 1ull << 6;
inline constexpr uint64_t kRightFdAdvise = 1ull << 7;
inline constexpr uint64_t kRightFdAllocate = 1ull << 8;
inline constexpr uint64_t kRightPathCreateDirectory = 1ull << 9;
inline constexpr uint64_t kRightPathCreateFile = 1ull << 10;
inline constexpr uint64_t kRightPathLinkSource = 1ull << 11;
inline constexpr uint64_t kRightPathLinkTarget = 1ull << 12;
inline constexpr uint64_t kRightPathOpen = 1ull << 13;
inline constexpr uint64_t kRightFdReaddir = 1ull << 14;
inline constexpr uint64_t kRightPathReadlink = 1ull << 15;
inline constexpr uint64_t kRightPathRenameSource = 1ull << 16;
inline constexpr uint64_t kRightPathRenameTarget = 1ull << 17;
inline constexpr uint64_t kRightPathFilestatGet = 1ull << 18;
inline constexpr uint64_t kRightPathFilestatSetSize = 1ull << 19;
inline constexpr uint64_t kRightPathFilestatSetTimes = 1ull << 20;
inline constexpr uint64_t kRightFdFilestatGet = 1ull << 21;
inline constexpr uint64_t kRightFdFilestatSetSize = 1ull << 22;
inline constexpr uint64_t kRightFdFilestatSetTimes = 1ull << 23;
inline constexpr uint64_t kRightPathSymlink = 1ull << 24;
inline constexpr uint64_t kRightPathRemoveDirectory = 1ull << 25;
inline constexpr uint64_t kRightPathUnlinkFile = 1ull << 26;
inline constexpr uint64_t kRightPollFdReadwrite = 1ull << 27;
inline constexpr uint64_t kRightSockShutdown = 1ull << 28;
inline constexpr uint64_t kRightSockAccept = 1ull << 29;
inline constexpr uint64_t kAllRights = (1ull << 30) - 1;

// What a stdio stream may do: read, write, poll, set its (stream) flags and
// stat itself as a stream. No seek, tell, sync, advise, allocate, size or
// times: it is not a file to the guest, whatever the host holds behind it.
inline constexpr uint64_t kStreamRights = kRightFdRead | kRightFdWrite | kRightPollFdReadwrite |
                                          kRightFdFdstatSetFlags | kRightFdFilestatGet;
// A socket the embedder pre-opened.
inline constexpr uint64_t kSocketRights = kRightFdRead | kRightFdWrite | kRightPollFdReadwrite |
                                          kRightFdFdstatSetFlags | kRightFdFilestatGet |
                                          kRightSockShutdown | kRightSockAccept;

using abi::VMContext;

// WASI errno values (preview1 witx `errno`, all of them).
enum Errno : int32_t {
  kSuccess = 0,
  kE2big = 1,
  kEacces = 2,
  kEaddrinuse = 3,
  kEaddrnotavail = 4,
  kEafnosupport = 5,
  kEagain = 6,
  kEalready = 7,
  kEbadf = 8,
  kEbadmsg = 9,
  kEbusy = 10,
  kEcanceled = 11,
  kEchild = 12,
  kEconnaborted = 13,
  kEconnrefused = 14,
  kEconnreset = 15,
  kEdeadlk = 16,
  kEdestaddrreq = 17,
  kEdom = 18,
  kEdquot = 19,
  kEexist = 20,
  kEfault = 21,
  kEfbig = 22,
  kEhostunreach = 23,
  kEidrm = 24,
  kEilseq = 25,
  kEinprogress = 26,
  kEintr = 27,
  kEinval = 28,
  kEio = 29,
  kEisconn = 30,
  kEisdir = 31,
  kEloop = 32,
  kEmfile = 33,
  kEmlink = 34,
  kEmsgsize = 35,
  kEmultihop = 36,
  kEnametoolong = 37,
  kEnetdown = 38,
  kEnetreset = 39,
  kEnetunreach = 40,
  kEnfile = 41,
  kEnobufs = 42,
  kEnodev = 43,
  kEnoent = 44,
  kEnoexec = 45,
  kEnolck = 46,
  kEnolink = 47,
  kEnomem = 48,
  kEnomsg = 49,
  kEnoprotoopt = 50,
  kEnospc = 51,
  kEnosys = 52,
  kEnotconn = 53,
  kEnotdir = 54,
  kEnotempty = 55,
  kEnotrecoverable = 56,
  kEnotsock = 57,
  kEnotsup = 58,
  kEnotty = 59,
  kEnxio = 60,
  kEoverflow = 61,
  kEownerdead = 62,
  kEperm = 63,
  kEpipe = 64,
  kEproto = 65,
  kEprotonosupport = 66,
  kEprototype = 67,
  kErange = 68,
  kErofs = 69,
  kEspipe = 70,
  kEsrch = 71,
  kEstale = 72,
  kEtimedout = 73,
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

// What a guest fd is, as one host call sees it (valid while the call does
// not change the table). A stdio stream the guest has not renumbered or
// restricted has no File; it is the host descriptor in stdioFds.
struct FdView {
  WasiContext::File* file = nullptr; // null: a stdio stream, or no such fd
  int host = -1;                     // -1: no such fd
  bool stream = false;               // the host's stdio (see WasiFd.cpp)
  bool directory = false;
  bool socket = false;
  uint64_t rightsBase = 0;
  uint64_t rightsInheriting = 0;
  bool valid() const { return host >= 0; }
  bool has(uint64_t rights) const { return (rightsBase & rights) == rights; }
};
FdView fdView(VMContext* vm, int32_t fd);

// What fd_fdstat_get and fd_filestat_get report for a stdio host
// descriptor: a character device if it is one (so isatty works), else an
// unknown stream; never a regular file, which a guest might try to seek.
uint8_t stdioFiletype(int hostFd);

// The File behind guest fd `fd` in the table, or null (no such fd, or a
// stdio stream without one).
WasiContext::File* fileOf(VMContext* vm, int32_t fd);
// The host descriptor of guest fd `fd`, or -1.
int hostFdOf(VMContext* vm, int32_t fd);
// The lowest free guest fd from 3 (as POSIX picks), for a new File.
int32_t insertFile(VMContext* vm, std::shared_ptr<WasiContext::File> file);
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
void addSock(std::vector<host::HostFunction>& out);

// Nanoseconds of a WASI clock id, false for an unknown id.
bool readClock(uint32_t id, uint64_t& outNanos);

} // namespace faasm::wasi
