// faasm-run: runs one artefact as a Faaslet (or, with --invoke, one export in
// this process). CLI parsing only; the work is faasm::runner::runCommand.
#include "faasm/runner/Runner.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <set>
#include <string>
#include <string_view>

namespace {

// prefix_command() hands everything after the module to the guest, and with
// it CLI11 would also let an unknown option *before* the module through.
// Options before the module must be ours: find the first that is not.
const std::set<std::string, std::less<>> kValueOptions = {
    "--invoke",     "--user",         "--env",         "--input",
    "--input-file", "--output-file",  "--functions",   "--dir",
    "--warm",       "--snapshot-out", "--snapshot-in", "--memory-limit",
    "--cpu",        "--timeout",      "--faaslet-uid", "--faaslet-gid"};

const char* unknownLeadingOption(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return nullptr;
    if (kValueOptions.count(arg)) {
      ++i;
      continue;
    }
    std::string_view name = arg.substr(0, arg.find('='));
    if ((arg.find('=') != std::string_view::npos && kValueOptions.count(name)) || arg == "-h" ||
        arg == "--net" || arg == "--help")
      continue;
    if (arg.starts_with("-")) return argv[i];
    return nullptr; // the module: what follows belongs to the guest
  }
  return nullptr;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a faasm artefact (a .so made by faasm-codegen) as a Faaslet, with WASI\n"
               "preview1 and the Faasm API: the function is initialised once into a\n"
               "Proto-Faaslet snapshot and the call runs in a process forked from it.\n"
               "Arguments after the module are passed to the guest as argv[1..]; with\n"
               "--invoke they are the arguments of the function instead.",
               "faasm-run"};
  app.footer("Exit status:\n"
             "  0..125  the guest's exit code (proc_exit, or 0 when _start returns)\n"
             "  126     the module could not be loaded or linked, a usage error, or the\n"
             "          guest's exit code was outside 0..125 (one line on stderr:\n"
             "          \"faasm-run: <file>: <problem>\")\n"
             "  134     the guest trapped (stderr: \"trap: <message>\")");
  faasm::runner::RunOptions options;
  app.add_option("module", options.file, "artefact to run")->required();
  app.add_option("--invoke", options.invoke, "call this export instead of _start");
  app.add_option("--user", options.user,
                 "the user the function belongs to: its state keys and chained calls are that "
                 "user's")
      ->capture_default_str();
  app.add_option("--env", options.env, "set a guest environment variable K=V (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--input", options.input, "the call's input (faasmGetInput)");
  app.add_option("--input-file", options.inputFile,
                 "read the call's input from a file (- for stdin)");
  app.add_option("--output-file", options.outputFile,
                 "write the call's output (faasmSetOutput) here instead of stdout");
  app.add_option("--functions", options.functionsDir,
                 "function table for chained calls: a directory of <name>.so artefacts");
  app.add_option("--dir", options.dirs, "preopen a host directory HOST[:GUEST] (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--warm", options.warm, "run the call N times in one warm Faaslet, reset between")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--snapshot-out", options.snapshotOut,
                 "initialise the function, write its snapshot to this file, run nothing");
  app.add_option("--snapshot-in", options.snapshotIn,
                 "restore the function from this snapshot file instead of initialising it");
  uint64_t memoryLimitMb = 0;
  double timeoutSeconds = 0;
  app.add_option("--memory-limit", memoryLimitMb, "memory limit of each Faaslet, in MiB");
  app.add_option("--cpu", options.cpus, "CPU quota of each Faaslet, in cores (0.5 = half)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timeout", timeoutSeconds, "wall-clock limit of each call, in seconds")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--net", options.network,
               "grant the function the network (for now: the host's network namespace); "
               "without it a Faaslet has only loopback");
  app.add_option("--faaslet-uid", options.faasletUid,
                 "when run as root, the uid Faaslets run as (not 0)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4294967294u));
  app.add_option("--faaslet-gid", options.faasletGid,
                 "when run as root, the gid Faaslets run as (not 0)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 4294967294u));
  app.prefix_command(); // everything after the module belongs to the guest

  if (const char* option = unknownLeadingOption(argc, argv)) {
    std::fprintf(stderr, "faasm-run: unknown option %s (see --help)\n", option);
    return faasm::runner::kExitLoadError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faasm-run: %s\n", e.what());
    return faasm::runner::kExitLoadError;
  }
  options.args = app.remaining();
  options.memoryLimitBytes = memoryLimitMb << 20;
  options.timeout = std::chrono::milliseconds(int64_t(timeoutSeconds * 1000));
  return faasm::runner::runCommand(options);
}
