#include "faasm/runner/Runner.h"

#include "faasm/runner/ArtefactCache.h"

#include "faasm/faaslet/Faaslet.h"
#include "faasm/faaslet/Scheduler.h"
#include "faasm/isolation/Isolation.h"
#include "faasm/log/Log.h"
#include "faasm/redis/RedisStore.h"
#include "faasm/runtime/Backtrace.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Module.h"
#include "faasm/runtime/TypeRegistry.h"
#include "faasm/state/StateStore.h"
#include "faasm/wasi/Wasi.h"

#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string_view>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace faasm::runner {
namespace {

int fail(const std::string& file, const std::string& problem) {
  std::fprintf(stderr, "faasm-run: %s: %s\n", file.c_str(), problem.c_str());
  return kExitLoadError;
}

// "trap: <message>", then where (Backtrace.h's lines), if known.
int trapped(abi::TrapCode code, const std::string& backtrace = {}) {
  std::string text = std::string("trap: ") + abi::trapMessage(code) + "\n" + backtrace;
  std::fwrite(text.data(), 1, text.size(), stderr);
  return kExitTrap;
}

int exited(const std::string& file, int32_t code) {
  uint32_t u = uint32_t(code);
  if (u <= 125) return int(u);
  return fail(file, "exit code " + std::to_string(u) + " outside 0..125");
}

bool parseValue(char type, const std::string& text, abi::Value& out) {
  char* end = nullptr;
  errno = 0;
  switch (type) {
  case 'i': {
    long long v = std::strtoll(text.c_str(), &end, 0);
    if (v < INT32_MIN || v > UINT32_MAX) return false;
    out = runtime::GlobalObject::i32(int32_t(uint32_t(v)));
    break;
  }
  case 'I': out = runtime::GlobalObject::i64(std::strtoll(text.c_str(), &end, 0)); break;
  case 'f': out = runtime::GlobalObject::f32(std::strtof(text.c_str(), &end)); break;
  case 'F': out = runtime::GlobalObject::f64(std::strtod(text.c_str(), &end)); break;
  default: return false;
  }
  return errno == 0 && end && *end == '\0' && !text.empty();
}

// Floats in their shortest form that reads back as the same value.
template <typename T> void printFloat(const abi::Value& v) {
  T x;
  std::memcpy(&x, &v.lo, sizeof x);
  char text[64];
  auto [end, error] = std::to_chars(text, text + sizeof text, x);
  std::printf("%.*s\n", error == std::errc() ? int(end - text) : 0, text);
}

void printValue(char type, const abi::Value& v) {
  switch (type) {
  case 'i': std::printf("%" PRId32 "\n", int32_t(uint32_t(v.lo))); break;
  case 'I': std::printf("%" PRId64 "\n", int64_t(v.lo)); break;
  case 'f': printFloat<float>(v); break;
  case 'F': printFloat<double>(v); break;
  default: std::printf("0x%016" PRIx64 "%016" PRIx64 "\n", v.hi, v.lo); break;
  }
}

bool readInput(const RunOptions& options, std::vector<uint8_t>& out, std::string& error) {
  if (options.inputFile.empty()) {
    out.assign(options.input.begin(), options.input.end());
    return true;
  }
  if (options.inputFile == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(options.inputFile, std::ios::binary);
  if (!in) {
    error = "cannot read input file " + options.inputFile + ": " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

// The function's name: the module's file name without its extension.
std::string functionNameOf(const std::string& file) {
  std::string base = file.substr(file.rfind('/') + 1);
  for (const char* extension : {".so", ".wasm", ".wat"})
    if (base.ends_with(extension) && base.size() > std::strlen(extension))
      return base.substr(0, base.size() - std::strlen(extension));
  return base;
}

// `artefact` is what to load: options.file, or its compile.
faaslet::FunctionSpec specOf(const RunOptions& options, const std::string& artefact) {
  faaslet::FunctionSpec spec;
  spec.user = options.user;
  spec.name = functionNameOf(options.file);
  spec.file = artefact;
  spec.args = options.args;
  spec.env = options.env;
  spec.dirs = options.dirs;
  spec.libs = options.libs;
  spec.snapshotIn = options.snapshotIn;
  spec.network = options.network;
  return spec;
}

int initFailure(const std::string& file, const runtime::Error& e) {
  if (e.trap == abi::TrapCode::Exit) return exited(file, e.exitCode);
  if (e.trap != abi::TrapCode::None) return trapped(e.trap, e.backtrace);
  return fail(file, e.message);
}

isolation::IsolationLimits limitsOf(const RunOptions& options) {
  isolation::IsolationLimits limits;
  limits.memoryBytes = options.memoryLimitBytes;
  limits.cpus = options.cpus;
  limits.timeout = options.timeout;
  limits.network = options.network;
  limits.netRate = options.netRate;
  limits.netAllow = options.netAllow;
  limits.uid = options.faasletUid;
  limits.gid = options.faasletGid;
  return limits;
}

// --snapshot-out: initialise, write the snapshot, run nothing. Initialisation
// is guest code: it runs in a child confined as a zygote is (and in a cgroup
// with the limits, under the timeout), which may write only the snapshot file.
int writeSnapshot(const RunOptions& options, const std::string& artefact) {
  const isolation::IsolationLimits limits = limitsOf(options);
  if (limits.needsCgroup()) isolation::removeStaleCgroups();
  isolation::IsolationPlan plan(limits);
  int out = ::open(options.snapshotOut.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0)
    return fail(options.file,
                "cannot write snapshot " + options.snapshotOut + ": " + std::strerror(errno));
  // The confined child runs as the Faaslet uid: the file is its while it writes.
  struct stat owner{};
  bool chowned =
      ::fstat(out, &owner) == 0 && ::geteuid() == 0 && ::fchown(out, limits.uid, limits.gid) == 0;
  std::unique_ptr<isolation::Cgroup> cgroup =
      plan.createCgroup("zygote-" + std::to_string(::getpid()) + "-snapshot");
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    isolation::closeInheritedDescriptors({out});
    if (runtime::Error e = faaslet::prepareStateOf(specOf(options, artefact), limits);
        !e.message.empty())
      ::_exit(fail(options.file, e.message));
    const std::vector<int> none;
    const std::vector<int>& procs = cgroup ? cgroup->procsDescriptors() : none;
    plan.applyInFaaslet(procs.data(), procs.size());
    // Reopened through the descriptor: no path to it need be searchable.
    const std::string path = "/proc/self/fd/" + std::to_string(out);
    auto proto = faaslet::ProtoFaaslet::create(specOf(options, artefact), [&]() -> runtime::Error {
      isolation::ProcessConfinement what = faaslet::confinementOf(specOf(options, artefact));
      what.writableFiles.push_back(path);
      if (!plan.confineZygote(what))
        return runtime::makeError("cannot confine the initialisation (see the warning above)");
      return {};
    });
    if (!proto) ::_exit(initFailure(options.file, proto.error()));
    runtime::Error e =
        faaslet::writeSnapshotFile(*proto.value()->snapshot(), proto.value()->module(), path);
    if (!e.message.empty()) ::_exit(fail(options.file, e.message));
    std::fflush(nullptr);
    ::_exit(0);
  }
  int status = kExitLoadError;
  if (pid < 0) {
    fail(options.file, std::string("cannot fork: ") + std::strerror(errno));
  } else {
    isolation::ChildOutcome o = isolation::waitForChild(pid, limits.timeout, cgroup.get());
    if (o.timedOut) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", double(limits.timeout.count()) / 1000.0);
      fail(options.file, std::string("initialisation timed out after ") + seconds + " s");
    } else if (o.memoryLimitHit && !WIFEXITED(o.status)) {
      fail(options.file, "initialisation reached the memory limit (" +
                             std::to_string(limits.memoryBytes >> 20) + " MiB)");
    } else if (o.signal() != 0) {
      fail(options.file, "initialisation " + o.describe());
    } else {
      status = o.exitCode();
    }
  }
  if (chowned) ::fchown(out, owner.st_uid, owner.st_gid);
  ::close(out);
  return status;
}

int runFaaslets(const RunOptions& options, const std::string& artefact) {
  const std::string& file = options.file;
  if (std::string problem = options.limits.problem(); !problem.empty()) return fail(file, problem);
  std::vector<uint8_t> input;
  std::string error;
  if (!readInput(options, input, error)) return fail(file, error);
  FILE* out = stdout;
  if (!options.outputFile.empty()) {
    out = std::fopen(options.outputFile.c_str(), "wb");
    if (!out)
      return fail(file,
                  "cannot write output file " + options.outputFile + ": " + std::strerror(errno));
  }

  faaslet::SchedulerOptions schedulerOptions;
  schedulerOptions.user = options.user;
  schedulerOptions.functionsDir = options.functionsDir;
  // A chained function is <dir>/<name>.so, or a <name>.wasm or .wat there,
  // compiled as the module is. Compiles outlive every zygote that loads them.
  std::vector<std::unique_ptr<PreparedModule>> chainedCompiles;
  if (!options.functionsDir.empty())
    schedulerOptions.findFunction = [&](const std::string& name, std::string& error) {
      for (const char* extension : {".so", ".wasm", ".wat"}) {
        std::string path = options.functionsDir + "/" + name + extension;
        struct stat st{};
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (moduleKindOf(path) == ModuleKind::Artefact) return path;
        auto prepared = prepareModule(path, {options.bounds, !options.noCache});
        if (!prepared) {
          error = path + ": " + prepared.error().message;
          return std::string();
        }
        chainedCompiles.push_back(std::move(prepared.value()));
        return chainedCompiles.back()->artefact();
      }
      return std::string();
    };
  schedulerOptions.env = options.env;
  schedulerOptions.dirs = options.dirs;
  schedulerOptions.libs = options.libs;
  schedulerOptions.timeout = options.timeout;
  schedulerOptions.limits = options.limits;
  schedulerOptions.log = [](const std::string& line) {
    std::fprintf(stderr, "faasm-run: %s\n", line.c_str());
  };
  {
    // Every Faaslet, its initialisation included, runs with least privilege;
    // limits asked for add a cgroup per Faaslet and the timeout.
    const isolation::IsolationLimits limits = limitsOf(options);
    // Groups a killed faasm-run left behind (their owner is gone).
    if (limits.needsCgroup()) isolation::removeStaleCgroups();
    schedulerOptions.isolation = std::make_shared<const isolation::IsolationPlan>(limits);
  }
  FAASM_LOG(Debug, "%s: running as a Faaslet of user %s (%u run%s)", file.c_str(),
            options.user.c_str(), options.warm, options.warm == 1 ? "" : "s");
  faaslet::Scheduler scheduler(std::move(schedulerOptions));
  faaslet::FunctionSpec spec = specOf(options, artefact);
  std::string name = spec.name;
  scheduler.addFunction(std::move(spec));
  uint32_t id = scheduler.start(name, std::move(input), options.warm ? options.warm : 1);
  // Each run's output as it comes, so warm runs interleave with the guest's
  // own prints; the status is the last run's.
  int status = 0;
  auto report = [&](const faaslet::CallResult& r) {
    if (!r.output.empty()) std::fwrite(r.output.data(), 1, r.output.size(), out);
    std::fflush(out);
    if (!r.error.empty())
      status =
          (std::fprintf(stderr, "faasm-run: %s: %s\n", file.c_str(), r.error.c_str()), kExitTrap);
    else if (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit)
      status = exited(file, r.returnCode);
    else if (r.memoryLimit)
      status = (std::fprintf(stderr, "faasm-run: %s: memory limit reached (%llu MiB)\n",
                             file.c_str(), (unsigned long long)(options.memoryLimitBytes >> 20)),
                kExitTrap);
    else if (r.died)
      status = (std::fprintf(stderr, "trap: faaslet died\n"), kExitTrap);
    else
      status = trapped(r.trap, r.backtrace);
  };
  const faaslet::CallOutcome& outcome = scheduler.wait(id, report);
  if (outcome.failedToStart()) status = initFailure(file, outcome.initError);
  if (out != stdout && std::fclose(out) != 0)
    return fail(file, "cannot write output file " + options.outputFile);
  return status;
}

// --invoke NAME: instantiates the artefact with WASI in this process and calls
// one export with arguments parsed from the command line (no Faaslet).
int invokeExport(const RunOptions& options, const std::string& artefact) {
  const std::string& file = options.file;
  auto module = runtime::Module::load(artefact);
  if (!module) return fail(file, module.error().message);

  runtime::HostModuleRegistry registry;
  registry.addFunctions(wasi::hostFunctions());
  auto context = std::make_shared<wasi::WasiContext>();
  context->args.push_back(file);
  context->env = options.env;
  context->network = options.network;

  runtime::InstantiateOptions instOptions;
  instOptions.hostState.push_back(wasi::wasiHostState(context));
  auto instance = runtime::Instance::instantiate(module.value(), registry.resolver(), instOptions);
  if (!instance) return initFailure(file, instance.error());

  const std::string& name = options.invoke;
  const abi::FuncRef* func = instance.value()->exportedFunction(name);
  if (!func) return fail(file, "no exported function \"" + name + "\"");
  std::string_view params, results;
  std::string sig = runtime::signatureOf(func->typeId);
  runtime::parseSignature(sig, params, results);

  if (options.args.size() != params.size())
    return fail(file, "\"" + name + "\" takes " + std::to_string(params.size()) +
                          " arguments, got " + std::to_string(options.args.size()));
  std::vector<abi::Value> args;
  for (size_t i = 0; i < params.size(); ++i) {
    abi::Value v{};
    if (!parseValue(params[i], options.args[i], v))
      return fail(file, "bad argument \"" + options.args[i] + "\" for a parameter of type " +
                            std::string(1, params[i]));
    args.push_back(v);
  }

  runtime::InvokeResult r = runtime::invoke(func, args);
  std::fflush(stdout);
  if (r.trap == abi::TrapCode::Exit) return exited(file, r.exitCode);
  if (!r.ok()) return trapped(r.trap, runtime::formatBacktrace(runtime::lastTrapTrace()));
  for (size_t i = 0; i < results.size() && i < r.results.size(); ++i)
    printValue(results[i], r.results[i]);
  std::fflush(stdout);
  return 0;
}

} // namespace

const char* runtimeVersion() {
  static const std::string version =
      std::string(FAASM_VERSION) + " (artefact ABI " + std::to_string(abi::kAbiVersion) + ")";
  return version.c_str();
}

int runCommand(const RunOptions& options) {
  if (std::string e = isolation::checkNetworkLimits(limitsOf(options)); !e.empty())
    return fail(options.file, e);
  if (!options.stateRedis.empty()) {
    std::string error;
    std::optional<redis::Endpoint> endpoint = redis::parseEndpoint(options.stateRedis, error);
    if (!endpoint) return fail(options.file, error);
    state::setStore(redis::makeRedisStore(redis::optionsFromEnvironment(*endpoint)));
  }
  std::unique_ptr<PreparedModule> compiled;
  if (moduleKindOf(options.file) != ModuleKind::Artefact) {
    auto prepared = prepareModule(options.file, {options.bounds, !options.noCache});
    if (!prepared) return fail(options.file, prepared.error().message);
    compiled = std::move(prepared.value());
  }
  const std::string& artefact = compiled ? compiled->artefact() : options.file;
  if (!options.snapshotOut.empty()) return writeSnapshot(options, artefact);
  if (options.invoke.empty() || options.invoke == "_start") return runFaaslets(options, artefact);
  return invokeExport(options, artefact);
}

} // namespace faasm::runner
