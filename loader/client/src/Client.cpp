#include "faasm/client/Client.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace faasm::client {
namespace {

struct Transfer {
  Reply reply;
  const std::string* upload = nullptr;
  size_t sent = 0;
  const Progress* progress = nullptr;
};

size_t onBody(char* data, size_t size, size_t n, void* self) {
  static_cast<Transfer*>(self)->reply.body.append(data, size * n);
  return size * n;
}

size_t onHeader(char* data, size_t size, size_t n, void* self) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of("\r\n \t") + 1);
    static_cast<Transfer*>(self)->reply.headers[name] = value;
  }
  return size * n;
}

int onProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t sent) {
  auto* t = static_cast<Transfer*>(self);
  if (t->progress && *t->progress && t->upload) {
    uint64_t total = t->upload->size();
    (*t->progress)(uint64_t(sent), total, uint64_t(sent) >= total);
  }
  return 0;
}

Reply request(const Endpoint& e, uint16_t port, const std::string& method, const std::string& path,
              const std::string* body, const char* contentType,
              const Progress* progress = nullptr) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Transfer t;
  t.upload = body;
  t.progress = progress;
  CURL* curl = curl_easy_init();
  if (!curl) {
    t.reply.transportError = "cannot start libcurl";
    return t.reply;
  }
  std::string url = "http://" + e.host + ":" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  if (e.timeout.count()) curl_easy_setopt(curl, CURLOPT_TIMEOUT, long(e.timeout.count()));
  curl_slist* headers = nullptr;
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body->size()));
    headers = curl_slist_append(headers, (std::string("Content-Type: ") + contentType).c_str());
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }
  if (progress && *progress) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    t.reply.transportError = "cannot reach the worker at " + e.host + ":" + std::to_string(port) +
                             ": " + curl_easy_strerror(rc);
  } else {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    t.reply.status = int(status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return t.reply;
}

} // namespace

std::string Reply::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  return it == headers.end() ? std::string() : it->second;
}

std::string Reply::line() const {
  std::string l = body.substr(0, body.find('\n'));
  return l.size() > 1000 ? l.substr(0, 1000) + "..." : l;
}

Reply upload(const Endpoint& e, const std::string& user, const std::string& function,
             const std::string& wasm, const Progress& progress) {
  return request(e, e.uploadPort, "PUT", "/f/" + user + "/" + function, &wasm, "application/wasm",
                 &progress);
}

Reply listFunctions(const Endpoint& e, const std::string& user) {
  return request(e, e.uploadPort, "GET", "/f/" + user + "/", nullptr, nullptr);
}

Reply invoke(const Endpoint& e, const std::string& user, const std::string& function,
             const std::string& input, bool async) {
  nlohmann::json body{
      {"user", user}, {"function", function}, {"input_data", input}, {"async", async}};
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return request(e, e.invokePort, "POST", "/", &text, "application/json");
}

Reply status(const Endpoint& e, const std::string& user, const std::string& id) {
  nlohmann::json body{{"user", user}, {"id", id}, {"status", true}};
  std::string text = body.dump();
  return request(e, e.invokePort, "POST", "/", &text, "application/json");
}

Reply stateGet(const Endpoint& e, const std::string& user, const std::string& key) {
  return request(e, e.invokePort, "GET", "/state/" + user + "/" + key, nullptr, nullptr);
}

Reply stateSet(const Endpoint& e, const std::string& user, const std::string& key,
               const std::string& value) {
  return request(e, e.invokePort, "PUT", "/state/" + user + "/" + key, &value,
                 "application/octet-stream");
}

} // namespace faasm::client
