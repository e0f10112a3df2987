// faasm-run: runs one artefact as a Faaslet (or, with --invoke, one export in
// this process). CLI parsing only; the work is faasm::runner::runCommand.
#include "faasm/log/Log.h"
#include "faasm/runner/Runner.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <vector>

namespace {

// faasm-run's options come before the module; the module and everything
// after it go to the guest untouched (as wasmtime and WAMR do), so a guest's
// own "--timeout" is never taken for ours. The split is made here, before
// CLI11 sees anything: what is ours, and which of ours take a value, is read
// off the app itself.
struct CommandLine {
  const char* unknownOption = nullptr; // an option before the module that is not ours
  int moduleIndex = -1;                // argv index of the module, -1 if none
};

CommandLine splitCommandLine(const CLI::App& app, int argc, char** argv) {
  auto find = [&](std::string_view name) -> const CLI::Option* {
    for (const CLI::Option* option : app.get_options())
      for (const std::string& n : option->get_lnames())
        if (name == "--" + n) return option;
    for (const CLI::Option* option : app.get_options())
      for (const std::string& n : option->get_snames())
        if (name == "-" + n) return option;
    return nullptr;
  };
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      if (i + 1 < argc) line.moduleIndex = i + 1;
      return line;
    }
    if (!arg.starts_with("-") || arg == "-") {
      line.moduleIndex = i;
      return line;
    }
    size_t equals = arg.find('=');
    const CLI::Option* option = find(arg.substr(0, equals));
    if (!option) {
      line.unknownOption = argv[i];
      return line;
    }
    if (equals == std::string_view::npos && option->get_items_expected_min() > 0) ++i;
  }
  return line;
}

// --env NAME=VALUE sets, --env NAME inherits NAME from this environment (as
// wasmtime's --env does); an unset NAME is an error rather than a silent
// omission.
std::string resolveEnv(const std::string& entry, std::vector<std::string>& out) {
  if (entry.empty() || entry.front() == '=') return "--env " + entry + ": no variable name";
  if (entry.find('=') != std::string::npos) {
    out.push_back(entry);
    return {};
  }
  const char* value = std::getenv(entry.c_str());
  if (!value) return "--env " + entry + ": not set in this environment (give NAME=VALUE)";
  out.push_back(entry + "=" + value);
  return {};
}

// --dir HOST[:GUEST] (also wasmtime's HOST::GUEST): HOST must be an existing
// directory and GUEST, if given, a non-empty name. Checked here, so a typo is
// one line now rather than ENOENT inside the guest later. Returns the spec in
// the HOST:GUEST form the runtime takes, or sets `error`.
std::string normaliseDir(const std::string& spec, std::string& error) {
  std::string host = spec, guest;
  if (size_t sep = spec.find("::"); sep != std::string::npos) {
    host = spec.substr(0, sep);
    guest = spec.substr(sep + 2);
  } else if (size_t colon = spec.find(':'); colon != std::string::npos) {
    host = spec.substr(0, colon);
    guest = spec.substr(colon + 1);
  } else {
    guest = spec;
  }
  struct stat st{};
  if (host.empty())
    error = "--dir " + spec + ": no host directory";
  else if (guest.empty())
    error = "--dir " + spec + ": empty guest path after the separator";
  else if (guest.find(':') != std::string::npos)
    error = "--dir " + spec + ": the guest path may not contain ':'";
  else if (::stat(host.c_str(), &st) != 0)
    error = "--dir " + spec + ": " + host + ": " + std::strerror(errno);
  else if (!S_ISDIR(st.st_mode))
    error = "--dir " + spec + ": " + host + " is not a directory";
  return host + ":" + guest;
}

} // namespace

int main(int argc, char** argv) {
  faasm::log::setProgramName("faasm-run");
  CLI::App app{"Run a faasm artefact (a .so made by faasm-codegen) as a Faaslet, with WASI\n"
               "preview1 and the Faasm API: the function is initialised once into a\n"
               "Proto-Faaslet snapshot and the call runs in a process forked from it.\n"
               "Options come before the module; every argument after it is the guest's\n"
               "(argv[1..]), options included; with --invoke they are the arguments of\n"
               "the function instead.",
               "faasm-run"};
  app.footer("Exit status:\n"
             "  0..125  the guest's exit code (proc_exit, or 0 when _start returns)\n"
             "  126     the module could not be loaded or linked, a usage error, or the\n"
             "          guest's exit code was outside 0..125 (one line on stderr:\n"
             "          \"faasm-run: <file>: <problem>\")\n"
             "  134     the guest trapped (stderr: \"trap: <message>\"), or the scheduler\n"
             "          ended the call at one of its limits (\"faasm-run: <file>: <problem>\")");
  faasm::runner::RunOptions options;
  app.set_version_flag("--version", faasm::runner::runtimeVersion());
  std::vector<std::string> envSpecs, dirSpecs;
  app.add_option("module", options.file, "artefact to run")->required();
  app.add_option("--invoke", options.invoke, "call this export instead of _start");
  app.add_option("--user", options.user,
                 "the user the function belongs to: its state keys and chained calls are that "
                 "user's")
      ->capture_default_str();
  app.add_option("--env", envSpecs,
                 "set a guest environment variable NAME=VALUE, or pass NAME on from this "
                 "environment (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--input", options.input, "the call's input (faasmGetInput)");
  app.add_option("--input-file", options.inputFile,
                 "read the call's input from a file (- for stdin)");
  app.add_option("--output-file", options.outputFile,
                 "write the call's output (faasmSetOutput) here instead of stdout");
  app.add_option("--functions", options.functionsDir,
                 "function table for chained calls: a directory of <name>.so artefacts");
  app.add_option("--dir", dirSpecs,
                 "preopen a host directory as HOST[:GUEST] or HOST::GUEST; GUEST defaults to "
                 "HOST (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--lib", options.libs,
                 "a library artefact (faasm-codegen of a -fPIC -shared module) the function may "
                 "dlopen, loaded before confinement; dlopen finds it by a path under a --dir "
                 "(repeatable)")
      ->allow_extra_args(false);
  app.add_option("--warm", options.warm, "run the call N times in one warm Faaslet, reset between")
      ->check(CLI::Range(1u, 1000000u))
      ->capture_default_str();
  app.add_option("--snapshot-out", options.snapshotOut,
                 "initialise the function, write its snapshot to this file, run nothing");
  app.add_option("--snapshot-in", options.snapshotIn,
                 "restore the function from this snapshot file instead of initialising it");
  uint64_t memoryLimitMb = 0;
  double timeoutSeconds = 0;
  app.add_option("--memory-limit", memoryLimitMb, "memory limit of each Faaslet, in MiB; 0: none")
      ->capture_default_str();
  app.add_option("--cpu", options.cpus, "CPU quota of each Faaslet, in cores (0.5 = half); 0: none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--timeout", timeoutSeconds, "wall-clock limit of each call, in seconds; 0: none")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  // The scheduler's caps and budgets (docs/Faaslets.md, "Limits"). The call
  // tree is this call and every call chained from it.
  faasm::faaslet::SchedulerLimits& limits = options.limits;
  uint64_t treeMb = limits.bytesPerTree >> 20, hostMb = limits.bytesPerHost >> 20;
  double chainTimeoutSeconds = double(limits.chainTimeout.count()) / 1000;
  app.add_option("--tree-running", limits.runningPerTree,
                 "Faaslets of the call tree computing at once; more wait in a queue "
                 "(default: as --host-running)");
  app.add_option("--tree-alive", limits.alivePerTree,
                 "Faaslets of the call tree alive at once, those waiting for chained calls "
                 "included (default: 8 x CPUs, at least 16)");
  app.add_option("--tree-bytes", treeMb,
                 "MiB of the call tree's inputs and outputs the scheduler may hold")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t(1), uint64_t(1024)));
  app.add_option("--host-running", limits.runningPerHost,
                 "Faaslets computing at once on this host (default: 2 x CPUs)");
  app.add_option("--host-alive", limits.alivePerHost,
                 "Faaslets alive at once on this host (default: 16 x CPUs, at least 32)");
  app.add_option("--host-bytes", hostMb,
                 "MiB of inputs and outputs the scheduler may hold for all calls")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--chain-timeout", chainTimeoutSeconds,
                 "seconds a chained call may take, queued or running")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag(
      "--net", options.network,
      "grant the function the network: as root, its own namespace joined to the host's "
      "by a shaped veth pair (docs/Networking.md); without it a Faaslet has only loopback");
  app.add_option("--net-rate", options.netRate,
                 "with --net: bandwidth in each direction, in tc's syntax (100mbit, 500kbit)")
      ->capture_default_str();
  app.add_option("--net-allow", options.netAllow,
                 "with --net: an IPv4 network the function may reach (CIDR; repeatable); "
                 "none: nothing beyond its own loopback");
  app.add_option("--faaslet-uid", options.faasletUid,
                 "when run as root, the uid Faaslets run as (not 0)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4294967294u));
  app.add_option("--faaslet-gid", options.faasletGid,
                 "when run as root, the gid Faaslets run as (not 0)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4294967294u));
  app.add_option("--state-redis", options.stateRedis,
                 "global state tier: Redis at HOST:PORT (default: $FAASM_REDIS; unset: the "
                 "local tier alone)");
  const CommandLine line = splitCommandLine(app, argc, argv);
  if (line.unknownOption) {
    std::fprintf(stderr, "faasm-run: unknown option %s (see --help)\n", line.unknownOption);
    return faasm::runner::kExitLoadError;
  }
  // CLI11 parses our options and the module; the rest is the guest's.
  std::vector<char*> ours(argv, argv + (line.moduleIndex < 0 ? argc : line.moduleIndex + 1));
  try {
    app.parse(int(ours.size()), ours.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faasm-run: %s\n", e.what());
    return faasm::runner::kExitLoadError;
  }
  for (const std::string& entry : envSpecs)
    if (std::string error = resolveEnv(entry, options.env); !error.empty()) {
      std::fprintf(stderr, "faasm-run: %s\n", error.c_str());
      return faasm::runner::kExitLoadError;
    }
  for (const std::string& spec : dirSpecs) {
    std::string error;
    options.dirs.push_back(normaliseDir(spec, error));
    if (!error.empty()) {
      std::fprintf(stderr, "faasm-run: %s\n", error.c_str());
      return faasm::runner::kExitLoadError;
    }
  }
  if (line.moduleIndex > 0) options.args.assign(argv + line.moduleIndex + 1, argv + argc);
  if (options.stateRedis.empty())
    if (const char* redis = std::getenv("FAASM_REDIS")) options.stateRedis = redis;
  options.memoryLimitBytes = memoryLimitMb << 20;
  options.timeout = std::chrono::milliseconds(int64_t(timeoutSeconds * 1000));
  limits.bytesPerTree = treeMb << 20;
  limits.bytesPerHost = hostMb << 20;
  limits.chainTimeout =
      std::chrono::milliseconds(std::max<int64_t>(1, int64_t(chainTimeoutSeconds * 1000)));
  // faasm-run makes one call tree: a tree limit above the host's default
  // raises the host's, unless that was given too (then it is a mistake).
  faasm::faaslet::SchedulerLimits defaults = limits.resolved();
  if (!app.count("--host-running"))
    limits.runningPerHost = std::max(defaults.runningPerHost, defaults.runningPerTree);
  if (!app.count("--host-alive"))
    limits.alivePerHost = std::max(defaults.alivePerHost, defaults.alivePerTree);
  if (!app.count("--host-bytes"))
    limits.bytesPerHost = std::max(defaults.bytesPerHost, defaults.bytesPerTree);
  return faasm::runner::runCommand(options);
}
