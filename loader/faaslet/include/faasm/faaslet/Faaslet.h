// Proto-Faaslets and Faaslets (docs/Faaslets.md).
//
// A ProtoFaaslet is one function loaded once, instantiated, initialised
// (constructors, then the optional `_faasm_zygote` hook) and snapshotted: its
// linear memory then lives in a memfd, mapped MAP_PRIVATE at the memory's
// fixed base, so a process forked from it copies no page tables for memory
// and writes go to private copies. A call runs in that instance (in a forked
// process: restore = fork; or warm: reset() after every call puts memory,
// size, globals and tables back to the snapshot).
//
// Snapshots can be written to a file and restored, in any process, onto a
// fresh instance of the same artefact without running initialisation again.
#pragma once

#include "faasm/abi/Abi.h"
#include "faasm/api/CallContext.h"
#include "faasm/api/Faasm.h"
#include "faasm/isolation/Isolation.h"
#include "faasm/runtime/DynamicLinker.h"
#include "faasm/runtime/Error.h"
#include "faasm/runtime/HostModule.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/Memory.h"
#include "faasm/runtime/Module.h"
#include "faasm/wasi/Wasi.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace faasm::faaslet {

// What an instance is restored to. Function references (in tables and in
// funcref globals) are stored as function indices, never as host pointers,
// so a snapshot is valid for any instance of the same artefact in any
// process and tells nothing of this process's address space.
struct Snapshot {
  static constexpr uint32_t kNullElement = UINT32_MAX;

  int memoryFd = -1;         // memfd (captured) or the snapshot file (read); owned
  uint64_t memoryOffset = 0; // where the memory bytes start in memoryFd (page aligned)
  uint64_t memoryPages = 0;
  // Every global of the instance, by index. A funcref global holds the
  // function index in `lo` (kNullElement: null); an externref global is null.
  std::vector<abi::Value> globals;
  std::vector<std::vector<uint32_t>> tables; // per table: function index per element
  std::vector<bool> dataDropped;             // per data segment
  std::vector<bool> elemDropped;             // per element segment
  // State the instance had mapped into its memory (faasmReadStatePtr during
  // initialisation): mapped shared again wherever the snapshot is applied.
  // The descriptors are the snapshot's. A snapshot with any cannot be
  // written to a file (the mapping names a file of this host).
  std::vector<runtime::Memory::SharedRegion> shared;

  Snapshot() = default;
  ~Snapshot();
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
};

// Copies the instance's memory into a memfd (zero pages and shared regions
// stay holes) and records globals, tables, dropped segments and shared
// regions. Fails for an externref table or global holding a value, or a
// reference to a function of another instance.
runtime::Expected<std::shared_ptr<Snapshot>> captureSnapshot(runtime::Instance& instance);

// Makes `instance` read as the snapshot: maps the memory (Memory::mapSnapshot,
// shared regions shared), sets globals, tables and dropped segments. Error
// message is one line.
runtime::Error applySnapshot(runtime::Instance& instance, const Snapshot& snapshot);

// Puts a snapshotted instance back after a call: memory (MADV_DONTNEED, grown
// pages dropped, shared regions kept), globals, tables, dropped segments.
runtime::Error resetToSnapshot(runtime::Instance& instance, const Snapshot& snapshot);

// File format (little-endian, docs/Faaslets.md): a header naming the
// artefact's build (its image and source digests, from its seal), the
// globals, the tables, the dropped segments, then the memory bytes at a
// page-aligned offset, so restoring maps the file directly. Refuses a
// snapshot with shared regions, and a module without a seal.
runtime::Error writeSnapshotFile(const Snapshot& snapshot, const runtime::Module& module,
                                 const std::string& path);
// Refuses a file made from another build ("snapshot ... belongs to build ...");
// the same artefact reached through another path is the same build.
runtime::Expected<std::shared_ptr<Snapshot>> readSnapshotFile(const std::string& path,
                                                              const runtime::Module& module);

// How to make a Proto-Faaslet.
struct FunctionSpec {
  std::string user = api::kDefaultUser; // the user the function belongs to
  std::string name;                     // function name (chaining), for messages
  std::string file;                     // the artefact (.so)
  std::vector<std::string> args;        // guest argv[1..]
  std::vector<std::string> env;         // "KEY=VALUE"
  std::vector<std::string> dirs;        // preopens "HOST[:GUEST]" (WASI files, host-interface)
  // Library artefacts the function may dlopen (docs/DynamicLoading.md):
  // loaded, seal and shape checked, before the process is confined.
  std::vector<std::string> libs;
  std::string snapshotIn; // restore from this file instead of initialising
  bool network = false;   // granted the network: faasm_net may connect (docs/Networking.md)
};

// The outcome of one call.
struct CallResult {
  abi::TrapCode trap = abi::TrapCode::None; // None, Exit, or the trap
  int32_t returnCode = 0;                   // main's result or the exit code
  std::vector<uint8_t> output;              // what the guest passed to faasmSetOutput
  // Where it trapped: runtime/Backtrace.h's lines ("  at f (func[3]) +0x2a\n"
  // ...), at most protocol::kMaxBacktraceBytes; empty if unknown.
  std::string backtrace;
  bool died = false;        // the Faaslet process ended without reporting (trap is HostError)
  bool memoryLimit = false; // ... because its memory limit was reached (died is set too)
  // Set when the scheduler ended the run because of one of its limits (the
  // trap is HostError): one line, "output of 1.1 GiB exceeds the 64 MiB
  // limit per call tree".
  std::string error;
};

// What a process initialising `spec` may reach once confined
// (IsolationPlan::confineZygote): its preopens' host directories and the
// state tier's directory.
isolation::ProcessConfinement confinementOf(const FunctionSpec& spec);

// Makes `spec.user`'s state directory and hands it to the uid the confined
// process will run as (`limits.uid` when this process is root, else its own);
// called while this process still may, before confinementOf's grant is
// applied. An error names the user and the cause.
runtime::Error prepareStateOf(const FunctionSpec& spec, const isolation::IsolationLimits& limits);

class ProtoFaaslet {
public:
  // Loads, instantiates (WASI + Faasm API), initialises and snapshots, or
  // restores spec.snapshotIn. Errors: load/link problems (message), a trap
  // or exit during initialisation (Error::trap set), a failing zygote hook.
  //
  // `confine`, if given, runs after the module is loaded and the preopens
  // are open, before the first instruction of guest code (the wasm start
  // function, constructors, `_faasm_zygote`): the zygote confines itself
  // there, so initialisation runs under the same isolation as a call. An
  // error it returns fails the creation.
  static runtime::Expected<std::unique_ptr<ProtoFaaslet>>
  create(const FunctionSpec& spec, const std::function<runtime::Error()>& confine = {});

  // Runs one call: input in, output out. Chaining goes through the callbacks
  // the caller put into callContext() (empty: no chaining). `entry` 0 enters
  // at main; another value is a function pointer (faasmChain), which the
  // module's `_faasm_dispatch` export calls through its own table. A module
  // without that export (or a plain WASI command, whose constructors run
  // only in _start) cannot be entered so: the call fails with HostError
  // after one line on stderr.
  CallResult call(std::vector<uint8_t> input, uint32_t entry = 0);
  // Back to the snapshot (warm Faaslets): nothing of the call stays.
  runtime::Error reset();

  api::CallContext& callContext() { return *call_; }
  runtime::Instance& instance() { return *instance_; }
  const runtime::Module& module() const { return *module_; }
  const std::shared_ptr<Snapshot>& snapshot() const { return snapshot_; }
  const FunctionSpec& spec() const { return spec_; }
  // The entry a call invokes: "__main_void" (constructors already ran) or
  // "_start" (a plain WASI command, which runs them itself).
  const std::string& entryName() const { return entryName_; }

private:
  ProtoFaaslet() = default;
  FunctionSpec spec_;
  std::shared_ptr<runtime::Module> module_;
  runtime::HostModuleRegistry registry_;
  std::shared_ptr<api::CallContext> call_;
  std::shared_ptr<wasi::WasiContext> wasi_; // its descriptor table is reset with memory
  std::shared_ptr<runtime::Instance> instance_;
  std::shared_ptr<runtime::DynamicLinker> linker_; // dlopen's (docs/DynamicLoading.md)
  std::shared_ptr<Snapshot> snapshot_;
  // The state mappings initialisation made (part of the snapshot, shared).
  decltype(api::FaasmInstance::mappings) initMappings_;
  std::string entryName_;
  const abi::FuncRef* entry_ = nullptr;
  const abi::FuncRef* dtors_ = nullptr;
  const abi::FuncRef* dispatch_ = nullptr; // _faasm_dispatch(i32) -> i32, if usable
  runtime::PreparedCall entryCall_, dtorsCall_, dispatchCall_;
};

} // namespace faasm::faaslet
