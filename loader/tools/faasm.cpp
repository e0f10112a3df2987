// faasm: the client of faasm-worker (upload, invoke, status, state, list).
// CLI parsing and printing only; requests are faasm::client's.
//
// Exit statuses follow faasm-run's: a call's own return code (0..125); 126
// when nothing ran (the request was refused, no such function, the worker
// unreachable, bad usage); 134 when the call failed (trapped, died, a
// limit, timed out). Other commands exit 0 or 126.
#include "faasm/client/Client.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>
#include <unistd.h>

namespace {

using nlohmann::json;
constexpr int kRefused = 126, kFailed = 134;

bool json_ = false;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int problem(const std::string& line) {
  if (json_)
    std::printf("%s\n", dump(json{{"error", line}}).c_str());
  else
    std::fprintf(stderr, "faasm: %s\n", line.c_str());
  return kRefused;
}

// One line saying why a reply is not a success, or empty.
std::string failure(const faasm::client::Reply& r) {
  if (!r.transportError.empty()) return r.transportError;
  if (r.status / 100 != 2) return r.line().empty() ? "HTTP " + std::to_string(r.status) : r.line();
  return {};
}

bool readFile(const std::string& path, std::string& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / (1 << 20));
  return text;
}

// A call's final outcome as faasm-run would report it.
int callExit(const std::string& state, int returnCode, const std::string& id,
             const std::string& output, const std::string& error) {
  if (json_) {
    json j{{"id", id}, {"status", state}, {"return_code", returnCode}, {"output_data", output}};
    if (!error.empty()) j["error"] = error;
    std::printf("%s\n", dump(j).c_str());
  } else {
    std::fwrite(output.data(), 1, output.size(), stdout);
    std::fflush(stdout);
    if (!error.empty()) std::fprintf(stderr, "faasm: %s\n", error.c_str());
  }
  if (state == "done") return returnCode >= 0 && returnCode <= 125 ? returnCode : kRefused;
  return returnCode == kRefused ? kRefused : kFailed;
}

} // namespace

int main(int argc, char** argv) {
  faasm::client::Endpoint e;
  CLI::App app{
      "The client of faasm-worker.\n"
      "Exit status: the call's return code (0..125); 126 nothing ran (refused, no such\n"
      "function, worker unreachable, bad usage); 134 the call failed (trap, limit, timeout)."};
  app.set_version_flag("--version", "faasm 0.1.0");
  app.add_option("--host", e.host, "the worker's address")->capture_default_str();
  app.add_option("--invoke-port", e.invokePort, "its invoke port")->capture_default_str();
  app.add_option("--upload-port", e.uploadPort, "its upload port")->capture_default_str();
  app.add_flag("--json", json_, "print one JSON object instead of plain output");
  app.require_subcommand(1);

  std::string user, function, file, input, inputFile, id, key, value, valueFile;
  bool async = false, wait = false;
  CLI::App* up =
      app.add_subcommand("upload", "upload a wasm module as USER's FUNCTION (compiled once)");
  up->add_option("user", user)->required();
  up->add_option("function", function)->required();
  up->add_option("file", file, "the .wasm (- for stdin)")->required();
  CLI::App* inv = app.add_subcommand("invoke", "call USER's FUNCTION; output to stdout");
  inv->add_option("user", user)->required();
  inv->add_option("function", function)->required();
  inv->add_option("--input", input, "the call's input");
  inv->add_option("--input-file", inputFile, "read the input from this file (- for stdin)");
  inv->add_flag("--async", async, "print the call's id and return at once");
  CLI::App* st = app.add_subcommand("status", "the status of USER's call ID");
  st->add_option("user", user)->required();
  st->add_option("id", id)->required();
  st->add_flag("--wait", wait, "poll until the call has ended; then exit as invoke would");
  CLI::App* state = app.add_subcommand("state", "get or set USER's state KEY");
  state->require_subcommand(1);
  CLI::App* get = state->add_subcommand("get", "print the value");
  get->add_option("user", user)->required();
  get->add_option("key", key)->required();
  CLI::App* set = state->add_subcommand("set", "set the value");
  set->add_option("user", user)->required();
  set->add_option("key", key)->required();
  set->add_option("--value", value, "the value");
  set->add_option("--value-file", valueFile, "read the value from this file (- for stdin)");
  CLI::App* list = app.add_subcommand("list", "USER's functions");
  list->add_option("user", user)->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : kRefused;
  }

  if (up->parsed()) {
    std::string wasm;
    if (!readFile(file, wasm)) return problem("cannot read " + file);
    // A progress line on a terminal: bytes sent, then the compile's time.
    const bool tty = isatty(STDERR_FILENO) && !json_;
    auto started = std::chrono::steady_clock::now();
    auto last = started - std::chrono::seconds(1);
    faasm::client::Progress progress = [&](uint64_t sent, uint64_t total, bool waiting) {
      auto now = std::chrono::steady_clock::now();
      if (!tty || now - last < std::chrono::milliseconds(200)) return;
      last = now;
      if (waiting) {
        double s = std::chrono::duration<double>(now - started).count();
        std::fprintf(stderr, "\r\033[Kupload %s: sent %s, compiling... %.0f s", function.c_str(),
                     mib(total).c_str(), s);
      } else {
        std::fprintf(stderr, "\r\033[Kupload %s: %3.0f%% of %s", function.c_str(),
                     total ? 100.0 * double(sent) / double(total) : 100.0, mib(total).c_str());
      }
    };
    faasm::client::Reply r = faasm::client::upload(e, user, function, wasm, progress);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (std::string f = failure(r); !f.empty()) return problem(f);
    if (json_) {
      std::printf("%s", r.body.c_str());
    } else {
      json j = json::parse(r.body, nullptr, false);
      bool compiled = !j.is_discarded() && j.value("compiled", false);
      std::printf("%s/%s: %s\n", user.c_str(), function.c_str(),
                  compiled ? "compiled" : "unchanged (artefact cached, no compile)");
    }
    return 0;
  }
  if (inv->parsed()) {
    if (!inputFile.empty() && !readFile(inputFile, input))
      return problem("cannot read " + inputFile);
    faasm::client::Reply r = faasm::client::invoke(e, user, function, input, async);
    if (!r.transportError.empty()) return problem(r.transportError);
    std::string callId = r.header("x-faasm-call-id");
    if (async) {
      if (r.status != 200) return problem(failure(r));
      if (json_)
        std::printf("%s\n", dump(json{{"id", callId}, {"status", "queued"}}).c_str());
      else
        std::printf("%s\n", callId.c_str());
      return 0;
    }
    std::string state = r.header("x-faasm-status");
    if (state.empty()) return problem(failure(r)); // refused before it was a call
    int rc = std::atoi(r.header("x-faasm-return-code").c_str());
    bool ok = r.status == 200;
    return callExit(state, rc, callId, ok ? r.body : "", ok ? "" : r.line());
  }
  if (st->parsed()) {
    for (;;) {
      faasm::client::Reply r = faasm::client::status(e, user, id);
      if (std::string f = failure(r); !f.empty()) return problem(f);
      json j = json::parse(r.body, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return problem("the worker's answer is not JSON");
      std::string state = j.value("status", "");
      if (state == "queued" || state == "running") {
        if (wait) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        if (json_)
          std::printf("%s\n", dump(j).c_str());
        else
          std::printf("%s\n", state.c_str());
        return 0;
      }
      return callExit(state, j.value("return_code", 0), id, j.value("output_data", ""),
                      j.value("error", ""));
    }
  }
  if (get->parsed()) {
    faasm::client::Reply r = faasm::client::stateGet(e, user, key);
    if (std::string f = failure(r); !f.empty()) return problem(f);
    if (json_)
      std::printf("%s\n", dump(json{{"user", user}, {"key", key}, {"value", r.body}}).c_str());
    else
      std::fwrite(r.body.data(), 1, r.body.size(), stdout);
    return 0;
  }
  if (set->parsed()) {
    if (!valueFile.empty() && !readFile(valueFile, value))
      return problem("cannot read " + valueFile);
    faasm::client::Reply r = faasm::client::stateSet(e, user, key, value);
    if (std::string f = failure(r); !f.empty()) return problem(f);
    if (json_) std::printf("%s", r.body.c_str());
    return 0;
  }
  if (list->parsed()) {
    faasm::client::Reply r = faasm::client::listFunctions(e, user);
    if (std::string f = failure(r); !f.empty()) return problem(f);
    if (json_) {
      std::printf("%s", r.body.c_str());
      return 0;
    }
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return problem("the worker's answer is not JSON");
    for (const json& f : j.value("functions", json::array()))
      std::printf("%s\t%s\t%llu bytes\n", f.value("function", "").c_str(),
                  f.value("sha256", "").substr(0, 12).c_str(),
                  (unsigned long long)f.value("bytes", uint64_t(0)));
    return 0;
  }
  return kRefused;
}
