#include "faasm/faaslet/Faaslet.h"

#include "faasm/api/Faasm.h"
#include "faasm/dl/Dl.h"
#include "faasm/runtime/Backtrace.h"
#include "faasm/runtime/Invoke.h"
#include "faasm/runtime/TypeRegistry.h"
#include "faasm/state/LocalState.h"
#include "faasm/state/StateStore.h"
#include "faasm/wasi/Wasi.h"

#include "Protocol.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace faasm::faaslet {
namespace {

// A trap of the last invoke (where it happened, too, unless it was an exit).
runtime::Error trapError(abi::TrapCode trap, int32_t exitCode) {
  runtime::Error e{abi::trapMessage(trap), trap, exitCode, {}};
  if (trap != abi::TrapCode::Exit) e.backtrace = runtime::formatBacktrace(runtime::lastTrapTrace());
  return e;
}

// --dir HOST[:GUEST] preopens: the first bad one's problem, or "".
std::string addPreopens(wasi::WasiContext& wasi, const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs)
    if (std::string e = wasi.addPreopenSpec(d); !e.empty()) return e;
  return {};
}

bool hasSignature(const abi::FuncRef* f, std::string_view signature) {
  return f && runtime::signatureOf(f->typeId) == signature;
}

} // namespace

isolation::ProcessConfinement confinementOf(const FunctionSpec& spec) {
  isolation::ProcessConfinement what;
  // --dir specs are "HOST[:GUEST]", as WasiContext::addPreopenSpec reads them.
  for (const std::string& d : spec.dirs)
    what.directories.push_back(d.substr(0, d.find(':')));
  // The function's user's state only: other users' directories beside it
  // stay out of reach even for hijacked native code.
  what.fileDirectories.push_back(state::LocalStateStore::instance().userDirectoryPath(spec.user));
  return what;
}

runtime::Error prepareStateOf(const FunctionSpec& spec, const isolation::IsolationLimits& limits) {
  bool root = geteuid() == 0;
  if (!state::LocalStateStore::instance().prepareUser(spec.user, root ? limits.uid : geteuid(),
                                                      root ? limits.gid : getegid()))
    return runtime::makeError("cannot prepare the state directory of user \"" + spec.user +
                              "\": " + std::strerror(errno));
  // An initialisation runs confined, with no channel to a scheduler that
  // could open a connection for it (and a snapshot of it must not depend
  // on the global tier): its global state calls fail, saying why.
  state::store().setConnectionSource([](std::string& error) {
    error = "the global state tier is not reachable from a Faaslet's initialisation";
    return -1;
  });
  return {};
}

runtime::Expected<std::unique_ptr<ProtoFaaslet>>
ProtoFaaslet::create(const FunctionSpec& spec, const std::function<runtime::Error()>& confine) {
  std::unique_ptr<ProtoFaaslet> p(new ProtoFaaslet);
  p->spec_ = spec;
  auto module = runtime::Module::load(spec.file);
  if (!module) return module.error();
  p->module_ = module.value();

  p->registry_.addFunctions(wasi::hostFunctions());
  p->registry_.addFunctions(api::hostFunctions());
  p->registry_.addFunctions(dl::hostFunctions());
  // Libraries are mapped now, before confinement: afterwards seccomp
  // refuses every executable mapping, so dlopen can only link these.
  std::vector<std::shared_ptr<runtime::Module>> libraries;
  for (const std::string& lib : spec.libs) {
    auto library = runtime::Module::load(lib);
    if (!library) return runtime::makeError("library " + lib + ": " + library.error().message);
    libraries.push_back(library.value());
  }
  p->linker_ = std::make_shared<runtime::DynamicLinker>(p->registry_.resolver(), libraries);
  auto wasi = std::make_shared<wasi::WasiContext>();
  p->wasi_ = wasi;
  wasi->args.push_back(spec.file);
  wasi->args.insert(wasi->args.end(), spec.args.begin(), spec.args.end());
  wasi->env = spec.env;
  wasi->network = spec.network;
  // Read before confinement, which forbids it; no table just means
  // getaddrinfo answers numeric names and localhost only.
  if (spec.network) (void)wasi->loadHosts();
  // Without the grant the confined Faaslet may make no socket at all.
  if (!spec.network)
    if (std::string e = wasi->prepareUnreachableSocket(); !e.empty()) return runtime::makeError(e);
  // Opened here, in the zygote, so every Faaslet inherits the descriptors and
  // wasi-libc's constructors find the preopens before the snapshot.
  if (std::string e = addPreopens(*wasi, spec.dirs); !e.empty()) return runtime::makeError(e);
  p->call_ = std::make_shared<api::CallContext>();
  // A snapshot file is read before: the confined process may not open it.
  std::shared_ptr<Snapshot> snapshotFile;
  if (!spec.snapshotIn.empty()) {
    auto snap = readSnapshotFile(spec.snapshotIn, *p->module_);
    if (!snap) return snap.error();
    snapshotFile = snap.value();
  }
  // Instantiation runs the module's start function: guest code.
  if (confine)
    if (runtime::Error e = confine(); !e.message.empty()) return e;

  runtime::InstantiateOptions options;
  options.hostState.push_back(wasi::wasiHostState(wasi));
  options.hostState.push_back(api::callContextHostState(p->call_));
  options.hostState.push_back(api::faasmHostState(spec.user));
  options.hostState.push_back(dl::dlHostState(p->linker_));
  auto instance = runtime::Instance::instantiate(p->module_, p->registry_.resolver(), options);
  if (!instance) return instance.error();
  p->instance_ = instance.value();
  runtime::Instance& inst = *p->instance_;

  // The call entry. wasi-libc's _start runs the constructors, __main_void,
  // then the destructors (stdio flush); our toolchain exports the three parts
  // so the constructors run once, here, before the snapshot.
  const abi::FuncRef* ctors = inst.exportedFunction("__wasm_call_ctors");
  const abi::FuncRef* mainVoid = inst.exportedFunction("__main_void");
  if (hasSignature(ctors, ":") && hasSignature(mainVoid, ":i")) {
    p->entry_ = mainVoid;
    p->entryName_ = "__main_void";
    const abi::FuncRef* dtors = inst.exportedFunction("__wasm_call_dtors");
    if (hasSignature(dtors, ":")) p->dtors_ = dtors;
    // faasm/faasm.h's entry for calls chained by function pointer; it
    // needs the constructors to have run, as they have here.
    const abi::FuncRef* dispatch = inst.exportedFunction("_faasm_dispatch");
    if (hasSignature(dispatch, "i:i")) p->dispatch_ = dispatch;
  } else {
    ctors = nullptr;
    p->entry_ = inst.exportedFunction("_start");
    p->entryName_ = "_start";
    if (!p->entry_) return runtime::makeError("no exported function \"_start\"");
    if (!hasSignature(p->entry_, ":") && !hasSignature(p->entry_, ":i"))
      return runtime::makeError("\"_start\" must take no parameters");
  }

  // Checked once here, so that a call (in a Faaslet, after fork) takes no
  // lock and allocates nothing to enter the guest. One that cannot be
  // prepared stays empty and traps with HostError when called, as invoke().
  runtime::prepareCall(p->entry_, p->entryCall_);
  if (p->dtors_) runtime::prepareCall(p->dtors_, p->dtorsCall_);
  if (p->dispatch_) runtime::prepareCall(p->dispatch_, p->dispatchCall_);

  if (snapshotFile) {
    p->snapshot_ = snapshotFile;
    if (runtime::Error e = applySnapshot(inst, *p->snapshot_); !e.message.empty()) return e;
    p->wasi_->saveBaseline();
    return p;
  }

  if (ctors) {
    runtime::InvokeResult r = runtime::invoke(ctors, {});
    if (!r.ok()) return trapError(r.trap, r.exitCode);
  }
  if (const abi::FuncRef* zygote = inst.exportedFunction("_faasm_zygote")) {
    if (!hasSignature(zygote, ":i"))
      return runtime::makeError("\"_faasm_zygote\" must take no parameters and return i32");
    runtime::InvokeResult r = runtime::invoke(zygote, {});
    if (!r.ok()) return trapError(r.trap, r.exitCode);
    int32_t rc = int32_t(uint32_t(r.results[0].lo));
    if (rc != 0) return runtime::makeError("_faasm_zygote failed with " + std::to_string(rc));
  }
  // A state lock is an open file description, which fork shares: Faaslets
  // forked from a Proto-Faaslet holding one would all hold it, for ever.
  const api::FaasmInstance& faasm = api::faasmInstanceOf(inst.vmctx());
  if (!faasm.writeLocks.empty() || !faasm.readLocks.empty()) {
    const std::string& key = !faasm.writeLocks.empty() ? faasm.writeLocks.begin()->first
                                                       : faasm.readLocks.begin()->first;
    return runtime::makeError("initialisation returned holding the state lock \"" + key +
                              "\"; release it before _faasm_zygote returns");
  }
  // A library's instance lives in this process, outside what a snapshot
  // records (memory, table, globals of the main instance): restored from a
  // file, or reset, its functions and GOT would be gone.
  if (std::vector<std::string> linked = p->linker_->linkedNames(); !linked.empty())
    return runtime::makeError("initialisation dlopened " + linked.front() +
                              "; libraries cannot be part of a snapshot: dlopen them in the call");
  // Anything the initialisation asked for as output is not a call's.
  p->call_->output.clear();

  auto snap = captureSnapshot(inst);
  if (!snap) return snap.error();
  p->snapshot_ = snap.value();
  // From now on memory is a clean private mapping of the snapshot (with the
  // state initialisation mapped still shared).
  if (runtime::Error e = applySnapshot(inst, *p->snapshot_); !e.message.empty()) return e;
  // Those mappings are part of the snapshot: a warm reset keeps them, so
  // faasmReadStatePtr of the same key returns the same shared pages.
  p->initMappings_ = faasm.mappings;
  // Descriptors are part of what a warm reset restores.
  p->wasi_->saveBaseline();
  return p;
}

CallResult ProtoFaaslet::call(std::vector<uint8_t> input, uint32_t entry) {
  CallResult result;
  call_->input = std::move(input);
  call_->output.clear();
  if (entry != 0 && !dispatch_) {
    std::fprintf(stderr,
                 "faasm: %s: chained by function pointer %u, but the module exports no "
                 "_faasm_dispatch (i32) -> i32 (build it with faasm/faasm.h)\n",
                 spec_.name.empty() ? spec_.file.c_str() : spec_.name.c_str(), entry);
    result.trap = abi::TrapCode::HostError;
    return result;
  }
  const runtime::PreparedCall& called = entry ? dispatchCall_ : entryCall_;
  abi::Value argument[1] = {abi::Value{entry, 0}};
  abi::Value returned[1]{}; // the entry returns nothing or an i32
  int32_t exitCode = 0;
  abi::TrapCode trap = runtime::invokePrepared(
      called, std::span<const abi::Value>(argument, called.params),
      std::span<abi::Value>(returned, std::min<uint32_t>(called.results, 1)), &exitCode);
  if (trap == abi::TrapCode::None) {
    if (called.results) result.returnCode = int32_t(uint32_t(returned[0].lo));
    if (dtors_) {
      int32_t dtorsExit = 0;
      abi::TrapCode d = runtime::invokePrepared(dtorsCall_, {}, {}, &dtorsExit);
      if (d == abi::TrapCode::Exit) {
        result.trap = abi::TrapCode::Exit;
        result.returnCode = dtorsExit;
      } else if (d != abi::TrapCode::None) {
        result.trap = d;
      }
    }
  } else {
    result.trap = trap;
    result.returnCode = exitCode;
  }
  if (result.trap != abi::TrapCode::None && result.trap != abi::TrapCode::Exit)
    result.backtrace =
        protocol::boundedBacktrace(runtime::formatBacktrace(runtime::lastTrapTrace()));
  std::fflush(stdout);
  result.output = std::move(call_->output);
  call_->output.clear();
  return result;
}

runtime::Error ProtoFaaslet::reset() {
  api::resetFaasmInstance(instance_->vmctx());
  if (!initMappings_.empty()) api::faasmInstanceOf(instance_->vmctx()).mappings = initMappings_;
  call_->input.clear();
  call_->output.clear();
  wasi_->restoreBaseline();
  // The reset puts memory and table back as they were before any library
  // was linked, so the call's libraries are forgotten with them.
  linker_->forgetLinked();
  return resetToSnapshot(*instance_, *snapshot_);
}

} // namespace faasm::faaslet
