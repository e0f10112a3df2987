// faasm-run: runs one module as a Faaslet (or, with --invoke, one export in
// this process); `faasm-run cache ...` and `faasm-run state ...` are
// subcommands, named by the first argument as wasmtime's are. CLI parsing
// only; the work is in faasm::runner.
#include "faasm/log/Log.h"
#include "faasm/runner/ArtefactCache.h"
#include "faasm/runner/Runner.h"
#include "faasm/runner/StateCommand.h"

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

int parseOrExit(CLI::App& app, int argc, char** argv, const char* program, int usageStatus) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return usageStatus;
  }
  return -1;
}

std::string sizeText(uint64_t bytes) {
  char text[64];
  std::snprintf(text, sizeof text, "%llu bytes (%.1f MiB)", (unsigned long long)bytes,
                double(bytes) / (1 << 20));
  return text;
}

// faasm-run cache info|clear
int cacheMain(int argc, char** argv) {
  CLI::App app{"The cache of artefacts faasm-run compiles .wasm and .wat modules into:\n"
               "$XDG_CACHE_HOME/faasm, or ~/.cache/faasm. Exit status 0, or 1 after one\n"
               "line on stderr.",
               "faasm-run cache"};
  app.require_subcommand(1);
  CLI::App* info = app.add_subcommand("info", "where the cache is, how many artefacts it holds "
                                              "and their size");
  CLI::App* clear = app.add_subcommand("clear", "remove every artefact from the cache");
  if (int status = parseOrExit(app, argc, argv, "faasm-run cache", 1); status >= 0) return status;
  auto result = clear->parsed() ? faasm::runner::clearCache() : faasm::runner::summariseCache();
  if (!result) {
    std::fprintf(stderr, "faasm-run cache: %s\n", result.error().message.c_str());
    return 1;
  }
  const faasm::runner::CacheSummary& s = result.value();
  if (info->parsed())
    std::printf("%s: %llu artefact%s, %s\n", s.directory.c_str(), (unsigned long long)s.entries,
                s.entries == 1 ? "" : "s", sizeText(s.bytes).c_str());
  else
    std::printf("removed %llu artefact%s, %s, from %s\n", (unsigned long long)s.entries,
                s.entries == 1 ? "" : "s", sizeText(s.bytes).c_str(), s.directory.c_str());
  return 0;
}

// faasm-run state list|get|set|delete
int stateMain(int argc, char** argv) {
  using faasm::runner::StateCommand;
  CLI::App app{"The local state tier of this host ($FAASM_STATE_DIR, default /dev/shm), as\n"
               "Faaslets see it. The local tier only: with a global tier (--state-redis,\n"
               "$FAASM_REDIS) it shows and changes this host's replicas, never Redis (a set\n"
               "is not pushed). As root it acts as the Faaslet uid and gid. Exit status 0,\n"
               "or 1 after one line on stderr (\"faasm-run state: <problem>\").",
               "faasm-run state"};
  app.require_subcommand(1);
  StateCommand c;
  auto addUser = [&](CLI::App* sub, const char* what) {
    sub->add_option("--user", c.user, what)->capture_default_str();
    sub->add_option("--faaslet-uid", c.faasletUid, "when run as root, the uid Faaslets run as")
        ->capture_default_str()
        ->check(CLI::Range(1u, 4294967294u));
    sub->add_option("--faaslet-gid", c.faasletGid, "when run as root, the gid Faaslets run as")
        ->capture_default_str()
        ->check(CLI::Range(1u, 4294967294u));
  };
  CLI::App* list = app.add_subcommand(
      "list", "one line per key: USER KEY SIZE CHARGED (the value's size in bytes, the bytes "
              "charged to the user's quota); every user's, or --user's");
  addUser(list, "only this user's keys");
  CLI::App* get = app.add_subcommand("get", "write a value's bytes to stdout");
  addUser(get, "whose key");
  get->add_option("key", c.key, "the key")->required();
  get->add_flag("--hex", c.hex, "print hex digits and a newline instead of the raw bytes");
  CLI::App* set = app.add_subcommand("set", "set a value, from the argument or a file");
  addUser(set, "whose key");
  set->add_option("key", c.key, "the key")->required();
  CLI::Option* value = set->add_option("value", c.value, "the value's bytes");
  CLI::Option* file = set->add_option("--file", c.valueFile,
                                      "read the value from a file (- for "
                                      "stdin)");
  value->excludes(file);
  CLI::App* del = app.add_subcommand("delete", "delete a key (its value and its append list)");
  addUser(del, "whose key");
  CLI::Option* key = del->add_option("key", c.key, "the key");
  CLI::Option* all = del->add_flag("--all", c.allKeys, "delete every key of the user");
  key->excludes(all);
  if (int status = parseOrExit(app, argc, argv, "faasm-run state", 1); status >= 0) return status;
  if (set->parsed() && !value->count() && !file->count()) {
    std::fprintf(stderr, "faasm-run state: set: give the value or --file\n");
    return 1;
  }
  if (del->parsed() && !key->count() && !all->count()) {
    std::fprintf(stderr, "faasm-run state: delete: give the key or --all\n");
    return 1;
  }
  for (CLI::App* sub : {list, get, set, del})
    if (sub->parsed()) c.userGiven = sub->count("--user") > 0;
  // Redis is not reached from here (the store has no listing or deletion of
  // the global tier): a user who set FAASM_REDIS must not think it was.
  if (const char* redis = std::getenv("FAASM_REDIS"); redis && *redis)
    std::fprintf(stderr, "faasm-run state: warning: FAASM_REDIS is set, but this command sees only "
                         "this host's local tier (replicas), not Redis\n");
  c.action = list->parsed()  ? StateCommand::Action::List
             : get->parsed() ? StateCommand::Action::Get
             : set->parsed() ? StateCommand::Action::Set
                             : StateCommand::Action::Delete;
  return faasm::runner::runStateCommand(c);
}

} // namespace

int main(int argc, char** argv) {
  faasm::log::setProgramName("faasm-run");
  if (argc > 1 && std::string_view(argv[1]) == "cache") return cacheMain(argc - 1, argv + 1);
  if (argc > 1 && std::string_view(argv[1]) == "state") return stateMain(argc - 1, argv + 1);
  CLI::App app{"Run a module as a Faaslet, with WASI preview1 and the Faasm API: the\n"
               "function is initialised once into a Proto-Faaslet snapshot and the call\n"
               "runs in a process forked from it. The module is an artefact (a .so made\n"
               "by faasm-codegen) or a WebAssembly module (.wasm, or .wat text), compiled\n"
               "first by the faasm-codegen next to faasm-run ($FAASM_CODEGEN overrides)\n"
               "into a cache ($XDG_CACHE_HOME/faasm, or ~/.cache/faasm) that later runs\n"
               "reuse. Options come before the module; every argument after it is the\n"
               "guest's (argv[1..]), options included; with --invoke they are the\n"
               "arguments of the function instead.\n"
               "Subcommands, as the first argument: `faasm-run cache info|clear`, and\n"
               "`faasm-run state list|get|set|delete` (see `faasm-run state --help`).",
               "faasm-run"};
  app.footer("Exit status:\n"
             "  0..125  the guest's exit code (proc_exit, or 0 when _start returns)\n"
             "  126     the module could not be compiled, loaded or linked, a usage error, or the\n"
             "          guest's exit code was outside 0..125 (one line on stderr:\n"
             "          \"faasm-run: <file>: <problem>\")\n"
             "  134     the guest trapped (stderr: \"trap: <message>\", then where: one line\n"
             "          \"  at <name> (func[N]) +0x<offset in the module file>\" per wasm\n"
             "          frame, innermost first), or the scheduler ended the call at one of\n"
             "          its limits (\"faasm-run: <file>: <problem>\")\n"
             "A cache entry that fails its seal check (or, for a .wasm, was compiled\n"
             "from other bytes) is never run: one warning names it, it is compiled\n"
             "again. `faasm-run cache clear` empties the cache.");
  faasm::runner::RunOptions options;
  app.set_version_flag("--version", faasm::runner::runtimeVersion());
  std::vector<std::string> envSpecs, dirSpecs;
  app.add_option("module", options.file, "the module: an artefact (.so), or .wasm or .wat")
      ->required();
  std::string bounds = "guard";
  app.add_option("--bounds", bounds,
                 "compiling a .wasm or .wat module: guard (reserved address space and guard "
                 "pages) or explicit (a compare per access)")
      ->check(CLI::IsMember({"guard", "explicit"}))
      ->capture_default_str();
  app.add_flag("--no-cache", options.noCache,
               "compile a .wasm or .wat module to a temporary file, removed after the run, "
               "instead of through the cache");
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
                 "function table for chained calls: a directory of <name>.so artefacts, or "
                 "<name>.wasm or .wat modules (compiled as the module is)");
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
  if (int status = parseOrExit(app, int(ours.size()), ours.data(), "faasm-run",
                               faasm::runner::kExitLoadError);
      status >= 0)
    return status;
  options.bounds =
      bounds == "explicit" ? faasm::abi::BoundsMode::Explicit : faasm::abi::BoundsMode::Guard;
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
