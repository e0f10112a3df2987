// The HTTP layer: libmicrohttpd (Debian's libmicrohttpd-dev) under a small
// interface. Chosen over cpp-httplib and Boost.Beast because it bounds what
// an untrusted client can make it hold without code of ours (memory per
// connection, which caps the request line and headers; connections in
// total and per address; an idle timeout), runs an epoll thread pool, and
// can suspend a connection: a synchronous invoke waits for its result
// without holding a thread, so slow functions never starve the pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

struct MHD_Daemon;
struct MHD_Connection;

namespace faasm::worker {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string header(const char* name) const; // empty if absent
  MHD_Connection* connection = nullptr;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string contentType = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  // A one-line error: the body is the line and a newline.
  static HttpResponse error(int status, const std::string& line);
};

// A response that comes later, from any thread (complete()); meanwhile the
// connection is suspended and holds no thread.
class PendingResponse {
public:
  void complete(HttpResponse response);

private:
  friend class HttpServer;
  std::mutex mutex_;
  MHD_Connection* connection_ = nullptr; // null once the connection is gone
  bool suspended_ = false, ready_ = false;
  HttpResponse response_;
};

struct HttpConfig {
  std::string address = "127.0.0.1";
  uint16_t port = 0;    // 0: any free port (port() says which)
  unsigned threads = 2; // the epoll pool; 0: a thread per connection
  unsigned connections = 1024;
  unsigned connectionsPerAddress = 0; // 0: no limit
  uint64_t maxBody = uint64_t(16) << 20;
  size_t connectionMemory = 64 * 1024; // request line and headers must fit
  std::chrono::seconds idleTimeout{30};
};

class HttpServer {
public:
  // Either a response now, or a PendingResponse the handler keeps and
  // completes later.
  struct Reply {
    HttpResponse now;
    std::shared_ptr<PendingResponse> later;
  };
  using Handler = std::function<Reply(HttpRequest&)>;

  HttpServer(HttpConfig config, Handler handler);
  ~HttpServer();
  // Empty, or one line saying why it cannot listen.
  std::string start();
  uint16_t port() const { return port_; }
  void stop();

private:
  struct Context;
  static int onRequest(void* self, MHD_Connection* c, const char* url, const char* method,
                       const char* version, const char* data, size_t* size, void** context);
  static void onCompleted(void* self, MHD_Connection* c, void** context, int reason);
  static int queue(MHD_Connection* c, const HttpResponse& r);
  HttpConfig config_;
  Handler handler_;
  MHD_Daemon* daemon_ = nullptr;
  uint16_t port_ = 0;
};

} // namespace faasm::worker
