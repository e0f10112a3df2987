#include "RedisClient.h"

#include <hiredis/hiredis.h>

namespace faasm::worker {
namespace {

RedisReply copy(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
  case REDIS_REPLY_STATUS:
    out.kind = RedisReply::Status;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_ERROR:
    out.kind = RedisReply::Error;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_INTEGER:
    out.kind = RedisReply::Integer;
    out.integer = r->integer;
    break;
  case REDIS_REPLY_STRING:
    out.kind = RedisReply::String;
    out.str.assign(r->str, r->len);
    break;
  case REDIS_REPLY_ARRAY:
    out.kind = RedisReply::Array;
    for (size_t i = 0; i < r->elements; ++i)
      out.elements.push_back(copy(r->element[i]));
    break;
  default: break;
  }
  return out;
}

RedisReply connectionError(const std::string& what) {
  RedisReply r;
  r.kind = RedisReply::Error;
  r.str = "connection: " + what;
  return r;
}

} // namespace

RedisClient::RedisClient(std::string host, uint16_t port, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

RedisClient::~RedisClient() {
  if (c_) redisFree(c_);
}

bool RedisClient::connect(std::string& error) {
  if (c_ && !c_->err) return true;
  if (c_) redisFree(c_);
  timeval tv{long(timeout_.count() / 1000), long(timeout_.count() % 1000) * 1000};
  c_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (!c_ || c_->err) {
    error = "Redis at " + endpoint() + ": " + (c_ ? c_->errstr : "cannot allocate a context");
    if (c_) redisFree(c_);
    c_ = nullptr;
    return false;
  }
  redisSetTimeout(c_, tv);
  return true;
}

RedisReply RedisClient::command(const std::vector<std::string>& args) {
  std::vector<std::vector<std::string>> one{args};
  return pipeline(one).front();
}

std::vector<RedisReply>
RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::lock_guard lock(mutex_);
  std::string error;
  if (!connect(error)) return std::vector<RedisReply>(commands.size(), connectionError(error));
  for (const auto& args : commands) {
    std::vector<const char*> argv;
    std::vector<size_t> lengths;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    redisAppendCommandArgv(c_, int(argv.size()), argv.data(), lengths.data());
  }
  std::vector<RedisReply> out;
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK || !raw) {
      std::string what =
          "Redis at " + endpoint() + ": " + (c_->errstr[0] ? c_->errstr : "no reply");
      redisFree(c_);
      c_ = nullptr;
      while (out.size() < commands.size())
        out.push_back(connectionError(what));
      return out;
    }
    out.push_back(copy(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return out;
}

} // namespace faasm::worker
