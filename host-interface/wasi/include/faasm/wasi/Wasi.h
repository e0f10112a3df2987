// WASI preview1 ("wasi_snapshot_preview1") host functions: every function
// of the witx (args, environ, clocks, fd_*, path_*, poll_oneoff, proc_*,
// sched_yield, random_get, sock_*), with the rights it lists (ENOTCAPABLE
// without them). Files and directories live inside preopened host
// directories (WasiFiles.cpp); sockets are those the embedder pre-opens
// (addSocket, WasiSock.cpp); stdio is a stream (WasiFd.cpp). What answers
// an error by design: path_symlink (EPERM), the times of a symlink itself
// (ENOTSUP), proc_raise of a stop signal (ENOTSUP); docs/Wasi.md lists
// every function and its status.
//
// Files: a guest reaches the host file system only through preopens (guest
// fds 3, 4, ... in the order added). Every path is resolved with openat2 and
// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS against the preopen's directory:
// `..` above it, absolute paths and symlinks leading out of it are refused
// with ENOTCAPABLE (76). A kernel without openat2 (before 5.6) refuses every
// path (ENOSYS) rather than resolve it unsafely.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/host/HostFunction.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faasm::wasi {

inline constexpr const char* kWasiModule = "wasi_snapshot_preview1";

// Per-instance WASI state the embedder supplies.
struct WasiContext {
  std::vector<std::string> args; // argv, args[0] is the program name
  std::vector<std::string> env;  // "KEY=VALUE"
  // Host descriptors behind guest fds 0, 1, 2 (-1: closed).
  int stdioFds[3] = {0, 1, 2};

  // Guest fds other than untouched stdio: preopened directories, the files
  // opened under them, pre-opened sockets, and stdio the guest renumbered or
  // restricted (an entry for 0, 1 or 2 stands in place of stdioFds). Copies
  // of a context share the host descriptors.
  struct File;
  std::map<int32_t, std::shared_ptr<File>> files;

  // Makes host directory `hostDir` visible to the guest as `guestPath`
  // (e.g. "/data" or "."), as the next free guest fd. Returns an empty
  // string, or what is wrong ("cannot open preopen dir: <reason>").
  std::string addPreopen(const std::string& hostDir, const std::string& guestPath);
  // The same from faasm-run's --dir syntax "HOST[:GUEST]" (GUEST defaults to HOST).
  std::string addPreopenSpec(const std::string& spec);
  // Hands the guest connected or listening socket `hostFd` (which the
  // context then owns) as the next free guest fd: preview1's sockets are
  // pre-opened by the embedder, and sock_accept/recv/send/shutdown act only
  // on those. Returns an empty string, or what is wrong.
  std::string addSocket(int hostFd);

  // Warm Faaslets (docs/Faaslets.md): saveBaseline() records the descriptor
  // table as it is after initialisation (preopens, stdio, anything the
  // constructors left open); restoreBaseline() goes back to it after a call:
  // files the call opened are closed (unless the baseline holds them too),
  // and preopens or stdio the call closed are there again.
  void saveBaseline();
  void restoreBaseline();
  std::map<int32_t, std::shared_ptr<File>> baselineFiles;
  int baselineStdioFds[3] = {0, 1, 2};
};

// Every WASI function this library implements, for the runtime's registry.
std::vector<host::HostFunction> hostFunctions();

// The InstantiateOptions::hostState entry that gives an instance `context`.
// An instance without one sees an empty context (no args, no env, stdio).
std::pair<const void*, std::shared_ptr<void>> wasiHostState(std::shared_ptr<WasiContext> context);

// The context of the instance that owns `vmctx`.
WasiContext& wasiContextOf(abi::VMContext* vmctx);

} // namespace faasm::wasi
