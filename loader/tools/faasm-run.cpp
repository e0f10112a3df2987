// faasm-run: runs one artefact as a WASI command. CLI parsing only; the work
// is faasm::loader::runCommand.
#include "faasm/loader/Runner.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string_view>

namespace {

// prefix_command() hands everything after the module to the guest, and with
// it CLI11 would also let an unknown option *before* the module through.
// Options before the module must be ours: find the first that is not.
const char* unknownLeadingOption(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--")
      return nullptr;
    if (arg == "--invoke" || arg == "--env") {
      ++i;
      continue;
    }
    if (arg.starts_with("--invoke=") || arg.starts_with("--env=") || arg == "-h" || arg == "--help")
      continue;
    if (arg.starts_with("-"))
      return argv[i];
    return nullptr; // the module: what follows belongs to the guest
  }
  return nullptr;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a faasm artefact (a .so made by faasm-codegen) with WASI preview1.\n"
               "Arguments after the module are passed to the guest as argv[1..]; with\n"
               "--invoke they are the arguments of the function instead.",
               "faasm-run"};
  app.footer("Exit status:\n"
             "  0..125  the guest's exit code (proc_exit, or 0 when _start returns)\n"
             "  126     the module could not be loaded or linked, a usage error, or the\n"
             "          guest's exit code was outside 0..125 (one line on stderr:\n"
             "          \"faasm-run: <file>: <problem>\")\n"
             "  134     the guest trapped (stderr: \"trap: <message>\")");
  faasm::loader::RunOptions options;
  app.add_option("module", options.file, "artefact to run")->required();
  app.add_option("--invoke", options.invoke, "call this export instead of _start");
  app.add_option("--env", options.env, "set a guest environment variable K=V (repeatable)")
      ->allow_extra_args(false);
  app.prefix_command(); // everything after the module belongs to the guest

  if (const char* option = unknownLeadingOption(argc, argv)) {
    std::fprintf(stderr, "faasm-run: unknown option %s (see --help)\n", option);
    return faasm::loader::kExitLoadError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faasm-run: %s\n", e.what());
    return faasm::loader::kExitLoadError;
  }
  options.args = app.remaining();
  return faasm::loader::runCommand(options);
}
