// A client of faasm-worker's HTTP API (loader/worker): what the `faasm`
// command does, as a library. Plain HTTP/1.1 through libcurl.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace faasm::client {

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t invokePort = 8080;
  uint16_t uploadPort = 8002;
  std::chrono::seconds timeout{0}; // whole request; 0: none (the worker's deadlines end every call)
};

struct Reply {
  int status = 0; // HTTP status; 0: no answer (transportError says why)
  std::string transportError;
  std::string body;
  std::map<std::string, std::string> headers; // names in lower case
  std::string header(const std::string& lowerName) const;
  // The body's first line, for one-line errors.
  std::string line() const;
};

// Called while a request runs: bytes sent of the total, and whether the
// body is all sent (then the worker is working: compiling, running).
using Progress = std::function<void(uint64_t sent, uint64_t total, bool waiting)>;

Reply upload(const Endpoint& e, const std::string& user, const std::string& function,
             const std::string& wasm, const Progress& progress = {});
Reply listFunctions(const Endpoint& e, const std::string& user);
Reply invoke(const Endpoint& e, const std::string& user, const std::string& function,
             const std::string& input, bool async);
Reply status(const Endpoint& e, const std::string& user, const std::string& id);
Reply stateGet(const Endpoint& e, const std::string& user, const std::string& key);
Reply stateSet(const Endpoint& e, const std::string& user, const std::string& key,
               const std::string& value);

} // namespace faasm::client
