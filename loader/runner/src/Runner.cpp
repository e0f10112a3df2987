#include "faasm/runner/Runner.h"

#include "faasm/faaslet/Faaslet.h"
#include "faasm/faaslet/Scheduler.h"
#include "faasm/isolation/Isolation.h"
#include "faasm/runtime/Instance.h"
#include "faasm/runtime/Module.h"
#include "faasm/runtime/TypeRegistry.h"
#include "faasm/wasi/Wasi.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string_view>

namespace faasm::runner {
namespace {

int fail(const std::string& file, const std::string& problem) {
  std::fprintf(stderr, "faasm-run: %s: %s\n", file.c_str(), problem.c_str());
  return kExitLoadError;
}

int trapped(abi::TrapCode code) {
  std::fprintf(stderr, "trap: %s\n", abi::trapMessage(code));
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

void printValue(char type, const abi::Value& v) {
  switch (type) {
  case 'i': std::printf("%" PRId32 "\n", int32_t(uint32_t(v.lo))); break;
  case 'I': std::printf("%" PRId64 "\n", int64_t(v.lo)); break;
  case 'f': {
    float f;
    std::memcpy(&f, &v.lo, 4);
    std::printf("%g\n", double(f));
    break;
  }
  case 'F': {
    double d;
    std::memcpy(&d, &v.lo, 8);
    std::printf("%g\n", d);
    break;
  }
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

faaslet::FunctionSpec specOf(const RunOptions& options) {
  faaslet::FunctionSpec spec;
  spec.user = options.user;
  std::string base = options.file.substr(options.file.rfind('/') + 1);
  spec.name = base.ends_with(".so") ? base.substr(0, base.size() - 3) : base;
  spec.file = options.file;
  spec.args = options.args;
  spec.env = options.env;
  spec.dirs = options.dirs;
  spec.snapshotIn = options.snapshotIn;
  return spec;
}

int initFailure(const std::string& file, const runtime::Error& e) {
  if (e.trap == abi::TrapCode::Exit) return exited(file, e.exitCode);
  if (e.trap != abi::TrapCode::None) return trapped(e.trap);
  return fail(file, e.message);
}

// --snapshot-out: initialise in this process, write the snapshot, run nothing.
int writeSnapshot(const RunOptions& options) {
  auto proto = faaslet::ProtoFaaslet::create(specOf(options));
  if (!proto) return initFailure(options.file, proto.error());
  runtime::Error e = faaslet::writeSnapshotFile(*proto.value()->snapshot(), proto.value()->module(),
                                                options.snapshotOut);
  if (!e.message.empty()) return fail(options.file, e.message);
  return 0;
}

int runFaaslets(const RunOptions& options) {
  const std::string& file = options.file;
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
  schedulerOptions.env = options.env;
  schedulerOptions.dirs = options.dirs;
  schedulerOptions.timeout = options.timeout;
  {
    // Every Faaslet, its initialisation included, runs with least privilege;
    // limits asked for add a cgroup per Faaslet and the timeout.
    isolation::IsolationLimits limits;
    limits.memoryBytes = options.memoryLimitBytes;
    limits.cpus = options.cpus;
    limits.timeout = options.timeout;
    limits.network = options.network;
    limits.uid = options.faasletUid;
    limits.gid = options.faasletGid;
    // Groups a killed faasm-run left behind (their owner is gone).
    if (limits.needsCgroup()) isolation::removeStaleCgroups();
    schedulerOptions.isolation = std::make_shared<const isolation::IsolationPlan>(limits);
  }
  faaslet::Scheduler scheduler(std::move(schedulerOptions));
  faaslet::FunctionSpec spec = specOf(options);
  std::string name = spec.name;
  scheduler.addFunction(std::move(spec));
  uint32_t id = scheduler.start(name, std::move(input), options.warm ? options.warm : 1);
  // Each run's output as it comes, so warm runs interleave with the guest's
  // own prints; the status is the last run's.
  int status = 0;
  auto report = [&](const faaslet::CallResult& r) {
    if (!r.output.empty()) std::fwrite(r.output.data(), 1, r.output.size(), out);
    std::fflush(out);
    if (r.trap == abi::TrapCode::None || r.trap == abi::TrapCode::Exit)
      status = exited(file, r.returnCode);
    else if (r.memoryLimit)
      status = (std::fprintf(stderr, "faasm-run: %s: memory limit reached (%llu MiB)\n",
                             file.c_str(), (unsigned long long)(options.memoryLimitBytes >> 20)),
                kExitTrap);
    else if (r.died)
      status = (std::fprintf(stderr, "trap: faaslet died\n"), kExitTrap);
    else
      status = trapped(r.trap);
  };
  const faaslet::CallOutcome& outcome = scheduler.wait(id, report);
  if (outcome.failedToStart()) status = initFailure(file, outcome.initError);
  if (out != stdout && std::fclose(out) != 0)
    return fail(file, "cannot write output file " + options.outputFile);
  return status;
}

// --invoke NAME: instantiates the artefact with WASI in this process and calls
// one export with arguments parsed from the command line (no Faaslet).
int invokeExport(const RunOptions& options) {
  const std::string& file = options.file;
  auto module = runtime::Module::load(file);
  if (!module) return fail(file, module.error().message);

  runtime::HostModuleRegistry registry;
  registry.addFunctions(wasi::hostFunctions());
  auto context = std::make_shared<wasi::WasiContext>();
  context->args.push_back(file);
  context->env = options.env;

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
  if (!r.ok()) return trapped(r.trap);
  for (size_t i = 0; i < results.size() && i < r.results.size(); ++i)
    printValue(results[i], r.results[i]);
  std::fflush(stdout);
  return 0;
}

} // namespace

int runCommand(const RunOptions& options) {
  if (!options.snapshotOut.empty()) return writeSnapshot(options);
  if (options.invoke.empty() || options.invoke == "_start") return runFaaslets(options);
  return invokeExport(options);
}

} // namespace faasm::runner
