#include "Http.h"

#include <arpa/inet.h>
#include <cstring>
#include <microhttpd.h>
#include <netinet/in.h>

namespace faasm::worker {

HttpResponse HttpResponse::error(int status, const std::string& line) {
  HttpResponse r;
  r.status = status;
  r.body = line + "\n";
  return r;
}

std::string HttpRequest::header(const char* name) const {
  const char* v = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
  return v ? v : "";
}

// Per request: the body as it arrives, and the pending response if any.
struct HttpServer::Context {
  HttpRequest request;
  uint64_t received = 0;
  bool answered = false; // a response was queued before the body was read
  std::shared_ptr<PendingResponse> pending;
};

void PendingResponse::complete(HttpResponse response) {
  std::lock_guard lock(mutex_);
  if (ready_) return;
  response_ = std::move(response);
  ready_ = true;
  if (suspended_ && connection_) MHD_resume_connection(connection_);
}

HttpServer::HttpServer(HttpConfig config, Handler handler)
    : config_(std::move(config)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  stop();
}

int HttpServer::queue(MHD_Connection* c, const HttpResponse& r) {
  MHD_Response* response = MHD_create_response_from_buffer(
      r.body.size(), const_cast<char*>(r.body.data()), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r.contentType.c_str());
  for (const auto& [name, value] : r.headers)
    MHD_add_response_header(response, name.c_str(), value.c_str());
  MHD_Result ok = MHD_queue_response(c, unsigned(r.status), response);
  MHD_destroy_response(response);
  return ok;
}

int HttpServer::onRequest(void* self, MHD_Connection* c, const char* url, const char* method,
                          const char*, const char* data, size_t* size, void** context) {
  HttpServer& server = *static_cast<HttpServer*>(self);
  auto* ctx = static_cast<Context*>(*context);
  if (!ctx) {
    ctx = new Context;
    *context = ctx;
    ctx->request.method = method;
    ctx->request.path = url;
    ctx->request.connection = c;
    // A declared body over the limit is refused before any of it is read.
    const char* length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (length && std::strtoull(length, nullptr, 10) > server.config_.maxBody) {
      ctx->answered = true;
      return queue(c,
                   HttpResponse::error(413, "request body larger than the limit of " +
                                                std::to_string(server.config_.maxBody) + " bytes"));
    }
    return MHD_YES;
  }
  if (ctx->answered) {
    *size = 0;
    return MHD_YES;
  }
  if (*size) {
    ctx->received += *size;
    if (ctx->received > server.config_.maxBody) return MHD_NO; // undeclared and too long: closed
    ctx->request.body.append(data, *size);
    *size = 0;
    return MHD_YES;
  }
  if (ctx->pending) {
    // Resumed: the response is there (or, spuriously, not yet).
    PendingResponse& p = *ctx->pending;
    std::lock_guard lock(p.mutex_);
    if (p.ready_) return queue(c, p.response_);
    MHD_suspend_connection(c);
    return MHD_YES;
  }
  Reply reply = server.handler_(ctx->request);
  if (!reply.later) return queue(c, reply.now);
  ctx->pending = reply.later;
  PendingResponse& p = *ctx->pending;
  std::lock_guard lock(p.mutex_);
  if (p.ready_) return queue(c, p.response_);
  p.connection_ = c;
  p.suspended_ = true;
  MHD_suspend_connection(c);
  return MHD_YES;
}

void HttpServer::onCompleted(void*, MHD_Connection*, void** context, int) {
  auto* ctx = static_cast<Context*>(*context);
  if (!ctx) return;
  if (ctx->pending) {
    std::lock_guard lock(ctx->pending->mutex_);
    ctx->pending->connection_ = nullptr;
  }
  delete ctx;
  *context = nullptr;
}

std::string HttpServer::start() {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(config_.port);
  if (inet_pton(AF_INET, config_.address.c_str(), &address.sin_addr) != 1)
    return "bad listen address " + config_.address + " (an IPv4 address)";
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME;
  flags |= config_.threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION;
  auto request =
      +[](void* cls, MHD_Connection* c, const char* url, const char* method, const char* version,
          const char* data, size_t* size, void** context) -> MHD_Result {
    return MHD_Result(onRequest(cls, c, url, method, version, data, size, context));
  };
  auto completed =
      +[](void* cls, MHD_Connection* c, void** context, MHD_RequestTerminationCode code) {
        onCompleted(cls, c, context, int(code));
      };
  std::vector<MHD_OptionItem> options{
      {MHD_OPTION_SOCK_ADDR, 0, &address},
      {MHD_OPTION_CONNECTION_LIMIT, config_.connections, nullptr},
      {MHD_OPTION_CONNECTION_TIMEOUT, unsigned(config_.idleTimeout.count()), nullptr},
      {MHD_OPTION_CONNECTION_MEMORY_LIMIT, intptr_t(config_.connectionMemory), nullptr},
      {MHD_OPTION_NOTIFY_COMPLETED, intptr_t(completed), this},
      {MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, nullptr},
  };
  if (config_.threads > 1)
    options.push_back({MHD_OPTION_THREAD_POOL_SIZE, config_.threads, nullptr});
  if (config_.connectionsPerAddress)
    options.push_back({MHD_OPTION_PER_IP_CONNECTION_LIMIT, config_.connectionsPerAddress, nullptr});
  options.push_back({MHD_OPTION_END, 0, nullptr});
  daemon_ = MHD_start_daemon(flags, config_.port, nullptr, nullptr, request, this, MHD_OPTION_ARRAY,
                             options.data(), MHD_OPTION_END);
  if (!daemon_)
    return "cannot listen on " + config_.address + ":" + std::to_string(config_.port) +
           " (in use, or not this host's)";
  const MHD_DaemonInfo* info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
  port_ = info ? info->port : config_.port;
  return {};
}

void HttpServer::stop() {
  if (daemon_) MHD_stop_daemon(daemon_);
  daemon_ = nullptr;
}

} // namespace faasm::worker
