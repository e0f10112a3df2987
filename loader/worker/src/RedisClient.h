// One hiredis connection guarded by a mutex, reconnected after any failure.
// Every command has the socket timeout the client was made with, so no
// caller waits on Redis for longer than that.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct redisContext;
struct redisReply;

namespace faasm::worker {

// A reply, owned: type and contents copied out of hiredis's.
struct RedisReply {
  enum Kind { Nil, Status, Error, Integer, String, Array };
  Kind kind = Nil;
  long long integer = 0;
  std::string str; // Status, Error, String
  std::vector<RedisReply> elements;
  bool error() const { return kind == Error; }
  bool nil() const { return kind == Nil; }
};

class RedisClient {
public:
  RedisClient(std::string host, uint16_t port, std::chrono::milliseconds timeout);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command; a failed connection comes back as an Error reply whose text
  // starts with "connection:".
  RedisReply command(const std::vector<std::string>& args);
  // Several commands in one round trip (not atomic; wrap in MULTI/EXEC for that).
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands);
  std::string endpoint() const { return host_ + ":" + std::to_string(port_); }

private:
  bool connect(std::string& error);
  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  redisContext* c_ = nullptr;
};

} // namespace faasm::worker
