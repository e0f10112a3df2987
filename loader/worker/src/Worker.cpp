#include "faasm/worker/Worker.h"

#include "Cluster.h"
#include "Compiler.h"
#include "Executor.h"
#include "Http.h"
#include "Metrics.h"
#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"
#include "faasm/faaslet/Scheduler.h"
#include "faasm/log/Log.h"
#include "faasm/redis/RedisStore.h"
#include "faasm/state/LocalState.h"
#include "faasm/state/StateStore.h"
#include "faasm/worker/Stores.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

// Subtle: this file keeps the promise that no accepted call is lost and no
// client waits for ever. Every accepted call has a record (ResultStore)
// that ends final exactly once, by the first of: the executor's result, its
// deadline in the queue, the backstop past its deadline if the executor
// never answers, or the executor's death; each path also gives the call's
// slot back to the queue (CallQueue::done) exactly once, by erasing it from
// `inFlight_` first. A waiting client is answered when its call is final.

namespace faasm::worker {
namespace {

using nlohmann::json;

std::string seconds(std::chrono::milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", double(ms.count()) / 1000.0);
  return text;
}

// Deepest nesting of arrays and objects, counted outside strings, with no
// parser involved: a body nested a million deep is refused in one pass.
unsigned jsonDepth(const std::string& text) {
  unsigned depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (char c : text) {
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth) {
      --depth;
    }
  }
  return deepest;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

// One line for a failure of the global state tier.
std::string globalFailure(const state::Outcome& o, const std::string& user,
                          const std::string& key) {
  if (!o.message.empty()) return o.message;
  return "state key " + key + " of user " + user + ": " + std::strerror(o.error);
}

HttpResponse jsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.contentType = "application/json";
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

} // namespace

class Worker {
public:
  Worker(const WorkerOptions& options, std::string self) : o_(options), self_(std::move(self)) {}
  int run();

private:
  // HTTP
  HttpServer::Reply invokeApi(HttpRequest& r);
  HttpServer::Reply uploadApi(HttpRequest& r);
  std::optional<HttpResponse> common(HttpRequest& r);
  HttpServer::Reply invoke(const json& body);
  HttpResponse status(const json& body);
  HttpResponse stateApi(HttpRequest& r, const std::vector<std::string>& parts);
  HttpResponse upload(HttpRequest& r, const std::string& user, const std::string& function);
  HttpResponse listFunctions(const std::string& user);
  HttpResponse callResponse(const CallId& id, const CallStatus& s);
  HttpServer::Reply counted(HttpServer::Reply reply);

  // Calls
  void dispatcher();
  bool startExecutor();
  void executorGone();
  void finish(const CallId& id, CallStatus status);
  void answerWaiters(const CallId& id, const CallStatus& status);
  void failInFlight(const CallRequest& call, CallState state, const std::string& error);
  void onDone(const std::string& payload);
  void onLoad(const std::string& payload);
  void onChain(const std::string& payload);
  void chainDone(const CallId& id, const CallStatus& status);
  void pollChained(Clock::time_point now);
  void wake();
  void sendToExecutor(wire::Type type, const std::string& payload);

  WorkerOptions o_;
  std::string self_;
  Metrics metrics_;
  std::unique_ptr<ArtefactStore> artefacts_;
  std::unique_ptr<FunctionTable> table_;
  std::unique_ptr<CallQueue> queue_;
  std::unique_ptr<ResultStore> results_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<Compiler> compiler_;
  std::unique_ptr<state::LocalStateStore> state_;
  // With --redis: the global state tier, which the state endpoints read and
  // write (through this host's replica), as every host's Faaslets do.
  std::unique_ptr<state::StateStore> globalState_;
  // With --redis: the cluster's streams, and the concrete stores it uses.
  std::unique_ptr<Cluster> cluster_;
  RedisResultStore* redisResults_ = nullptr;
  Clock::time_point nextPoll_{};
  std::mutex stateMutex_; // prepareUser sets the store's expectation for every user
  ExecutorConfig executorConfig_;

  int wakeFd_ = -1;
  std::atomic<bool> stopping_{false};
  std::mutex outMutex_;
  std::string outbox_; // frames for the executor
  // The dispatcher's: calls the executor holds.
  std::map<CallId, CallRequest> inFlight_;
  // The dispatcher's: chained calls the executor sent to other hosts, each
  // answered to it once (ChainDone), by the first of its result and its
  // deadline.
  struct Chained {
    std::string user;
    Clock::time_point deadline;
  };
  std::map<CallId, Chained> chained_;
  int executorFd_ = -1;
  std::atomic<pid_t> executorPid_{-1};
  std::string inbox_;

  struct Waiter {
    std::shared_ptr<PendingResponse> response;
    std::string user;
    Clock::time_point until;
  };
  std::mutex waitMutex_;
  std::multimap<CallId, Waiter> waiters_;
};

void Worker::wake() {
  uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof one) < 0) {
  }
}

void Worker::sendToExecutor(wire::Type type, const std::string& payload) {
  {
    std::lock_guard lock(outMutex_);
    outbox_ += wire::frame(type, payload);
  }
  wake();
}

HttpServer::Reply Worker::counted(HttpServer::Reply reply) {
  ++metrics_.requests;
  if (!reply.later) metrics_.responsesByClass[size_t(std::clamp(reply.now.status / 100, 1, 5))]++;
  return reply;
}

std::optional<HttpResponse> Worker::common(HttpRequest& r) {
  if (r.method == "GET" && r.path == "/healthz") {
    pid_t pid = executorPid_.load();
    json body{{"status", pid > 0 ? "ok" : "no executor"},
              {"host", membership_->self()},
              {"executor_pid", pid},
              {"queue_depth", queue_->depth()},
              {"calls_running", metrics_.running.load()}};
    return jsonResponse(pid > 0 ? 200 : 503, body);
  }
  if (r.method == "GET" && r.path == "/metrics") {
    HttpResponse m;
    m.contentType = "text/plain; version=0.0.4";
    m.body = metrics_.render(queue_->depth());
    return m;
  }
  return std::nullopt;
}

HttpServer::Reply Worker::invokeApi(HttpRequest& r) {
  if (auto c = common(r)) return counted({*c, nullptr});
  std::vector<std::string> parts = split(r.path);
  if (!parts.empty() && parts[0] == "state") return counted({stateApi(r, parts), nullptr});
  if (r.path != "/" || r.method != "POST")
    return counted(
        {HttpResponse::error(404, "no such endpoint: " + r.method + " " + r.path.substr(0, 200)),
         nullptr});
  if (unsigned d = jsonDepth(r.body); d > o_.maxJsonDepth)
    return counted({HttpResponse::error(400, "request body: JSON nested deeper than " +
                                                 std::to_string(o_.maxJsonDepth) + " levels"),
                    nullptr});
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded())
    return counted({HttpResponse::error(400, "request body: malformed JSON"), nullptr});
  if (!body.is_object())
    return counted({HttpResponse::error(400, "request body: not a JSON object"), nullptr});
  if (body.contains("status") && body["status"] == true) return counted({status(body), nullptr});
  return counted(invoke(body));
}

HttpServer::Reply Worker::invoke(const json& body) {
  auto field = [&](const char* name, std::string& out) -> std::string {
    if (!body.contains(name)) return std::string("request names no ") + name;
    if (!body[name].is_string())
      return std::string("request field \"") + name + "\" is not a string";
    out = body[name].get<std::string>();
    return {};
  };
  std::string user, function, input;
  std::string error = field("user", user);
  if (error.empty()) error = field("function", function);
  if (error.empty() && body.contains("input_data")) error = field("input_data", input);
  if (error.empty()) error = checkName("user", user);
  if (error.empty()) error = checkName("function", function);
  bool async = false;
  if (error.empty() && body.contains("async")) {
    if (!body["async"].is_boolean())
      error = "request field \"async\" is not true or false";
    else
      async = body["async"].get<bool>();
  }
  if (!error.empty()) return {HttpResponse::error(400, error), nullptr};
  if (!table_->get(user, function))
    return {HttpResponse::error(404, "no function " + function + " of user " + user), nullptr};

  CallRequest call;
  call.id = CallId::random();
  call.user = user;
  call.function = function;
  call.input.assign(input.begin(), input.end());
  call.accepted = Clock::now();
  call.deadline = call.accepted + o_.queueTimeout + o_.callTimeout;
  const CallId id = call.id;
  if (cluster_) call.deadline = call.accepted + cluster_->longestCall();
  const Clock::time_point deadline = call.deadline;
  results_->created(id, user);
  CallQueue::Refusal refused = cluster_ ? cluster_->submit(call) : queue_->submit(std::move(call));
  if (refused.httpStatus) {
    ++metrics_.callsRefused;
    CallStatus s;
    s.state = CallState::Failed;
    s.returnCode = 126;
    s.error = refused.message;
    results_->complete(id, s);
    HttpResponse r = HttpResponse::error(refused.httpStatus, refused.message);
    r.headers.emplace_back("Retry-After", "1");
    return {r, nullptr};
  }
  wake();
  if (async) {
    HttpResponse r;
    r.body = id.hex();
    r.headers.emplace_back("X-Faasm-Call-Id", id.hex());
    return {r, nullptr};
  }
  auto pending = std::make_shared<PendingResponse>();
  {
    std::lock_guard lock(waitMutex_);
    // Final already (a fast call, or one refused meanwhile): answer now.
    if (std::optional<CallStatus> s = results_->get(id, user); s && s->final())
      return {callResponse(id, *s), nullptr};
    // The call ends by its deadline (queue + run); the backstop a little
    // later; the client's wait ends after both in any case.
    waiters_.emplace(id, Waiter{pending, user, deadline + std::chrono::seconds(10)});
  }
  return {HttpResponse{}, pending};
}

HttpResponse Worker::callResponse(const CallId& id, const CallStatus& s) {
  HttpResponse r;
  if (s.state == CallState::Done) {
    r.body.assign(s.output.begin(), s.output.end());
    r.contentType = "application/octet-stream";
  } else {
    r = HttpResponse::error(s.state == CallState::TimedOut ? 504 : 500,
                            "call " + id.hex() + ": " + s.error);
  }
  r.headers.emplace_back("X-Faasm-Call-Id", id.hex());
  r.headers.emplace_back("X-Faasm-Return-Code", std::to_string(s.returnCode));
  r.headers.emplace_back("X-Faasm-Status", callStateName(s.state));
  return r;
}

HttpResponse Worker::status(const json& body) {
  if (!body.contains("user") || !body["user"].is_string())
    return HttpResponse::error(400, "status request names no user");
  if (!body.contains("id") || !body["id"].is_string())
    return HttpResponse::error(400, "status request names no call id (a string)");
  std::string user = body["user"].get<std::string>(), idText = body["id"].get<std::string>();
  if (std::string e = checkName("user", user); !e.empty()) return HttpResponse::error(400, e);
  std::optional<CallId> id = CallId::parse(idText);
  if (!id) return HttpResponse::error(400, "call id is not 32 lowercase hex digits");
  std::optional<CallStatus> s = results_->get(*id, user);
  if (!s)
    return HttpResponse::error(404, "no call " + id->hex() + " of user " + user +
                                        " (unknown, expired, or not this user's)");
  json out{{"id", id->hex()}, {"status", callStateName(s->state)}};
  if (s->final()) {
    out["return_code"] = s->returnCode;
    out["output_data"] = std::string(s->output.begin(), s->output.end());
    if (!s->error.empty()) out["error"] = s->error;
  }
  return jsonResponse(200, out);
}

HttpResponse Worker::stateApi(HttpRequest& r, const std::vector<std::string>& parts) {
  if (parts.size() != 3) return HttpResponse::error(404, "state endpoint is /state/<user>/<key>");
  const std::string &user = parts[1], &key = parts[2];
  if (std::string e = checkName("user", user); !e.empty()) return HttpResponse::error(400, e);
  if (std::string e = checkName("state key", key); !e.empty()) return HttpResponse::error(400, e);
  bool root = geteuid() == 0;
  std::lock_guard lock(stateMutex_);
  // The user's directory is the Faaslets' uid's, as their zygotes make it.
  if (!state_->prepareUser(user, root ? o_.faasletUid : geteuid(),
                           root ? o_.faasletGid : getegid()))
    return HttpResponse::error(500, "cannot prepare the state of user " + user + ": " +
                                        std::strerror(errno));
  // Made by root here, a replica must be the Faaslets' as if one of them made it.
  auto own = [&](state::StateObject& object) {
    return !root || fchown(object.fd(), o_.faasletUid, o_.faasletGid) == 0;
  };
  if (r.method == "GET") {
    state::StateObject* object = nullptr;
    if (globalState_) {
      // The global value, through this host's replica (a pull as a guest's);
      // a replica no host pushed is not the value.
      std::optional<uint64_t> size;
      if (state::Outcome o = globalState_->globalSize(user, key, size); !o.ok())
        return HttpResponse::error(503, globalFailure(o, user, key));
      if (!size) return HttpResponse::error(404, "no state key " + key + " of user " + user);
      object = state_->open(user, key, true);
      if (!object || !own(*object))
        return HttpResponse::error(errno == EDQUOT ? 413 : 500,
                                   "cannot make a replica of state key " + key + " of user " +
                                       user + ": " + std::strerror(errno));
      if (state::Outcome o = globalState_->pull(user, key, *object); !o.ok())
        return HttpResponse::error(o.error == EDQUOT ? 413 : 503, globalFailure(o, user, key));
    } else {
      object = state_->open(user, key, false);
    }
    if (!object) return HttpResponse::error(404, "no state key " + key + " of user " + user);
    int lockFd = object->lock(false);
    uint64_t size = object->size();
    HttpResponse out;
    out.contentType = "application/octet-stream";
    out.body.resize(size);
    bool ok = object->read(0, reinterpret_cast<uint8_t*>(out.body.data()), size);
    state::StateObject::unlock(lockFd);
    if (!ok) return HttpResponse::error(500, "cannot read state key " + key + " of user " + user);
    return out;
  }
  if (r.method == "PUT") {
    state::StateObject* object = state_->open(user, key, true);
    if (!object)
      return HttpResponse::error(errno == EDQUOT ? 413 : 500, "cannot create state key " + key +
                                                                  " of user " + user + ": " +
                                                                  std::strerror(errno));
    if (!own(*object))
      return HttpResponse::error(500, "cannot hand state key " + key +
                                          " to the Faaslets' uid: " + std::strerror(errno));
    int lockFd = object->lock(true);
    bool ok = object->setSize(r.body.size()) &&
              object->write(0, reinterpret_cast<const uint8_t*>(r.body.data()), r.body.size());
    int e = errno;
    state::StateObject::unlock(lockFd);
    if (!ok)
      return HttpResponse::error(e == EDQUOT ? 413 : 500,
                                 e == EDQUOT
                                     ? "state of user " + user + " would pass its quota of " +
                                           std::to_string(state_->quota()) + " bytes"
                                     : "cannot write state key " + key + ": " + std::strerror(e));
    if (globalState_)
      if (state::Outcome o = globalState_->push(user, key, *object, {}); !o.ok())
        return HttpResponse::error(o.error == EDQUOT ? 413 : 503, globalFailure(o, user, key));
    return jsonResponse(200, json{{"user", user}, {"key", key}, {"bytes", r.body.size()}});
  }
  return HttpResponse::error(405, "state takes GET or PUT");
}

HttpServer::Reply Worker::uploadApi(HttpRequest& r) {
  if (auto c = common(r)) return counted({*c, nullptr});
  std::vector<std::string> parts = split(r.path);
  if (parts.size() == 3 && parts[0] == "f" && r.method == "PUT")
    return counted({upload(r, parts[1], parts[2]), nullptr});
  if (parts.size() == 2 && parts[0] == "f" && r.method == "GET")
    return counted({listFunctions(parts[1]), nullptr});
  return counted(
      {HttpResponse::error(404, "no such endpoint: " + r.method + " " + r.path.substr(0, 200) +
                                    " (upload: PUT /f/<user>/<function>)"),
       nullptr});
}

HttpResponse Worker::listFunctions(const std::string& user) {
  if (std::string e = checkName("user", user); !e.empty()) return HttpResponse::error(400, e);
  json list = json::array();
  for (const auto& [name, entry] : table_->list(user))
    list.push_back({{"function", name}, {"sha256", entry.wasmSha256}, {"bytes", entry.wasmBytes}});
  return jsonResponse(200, json{{"user", user}, {"functions", list}});
}

HttpResponse Worker::upload(HttpRequest& r, const std::string& user, const std::string& function) {
  if (std::string e = checkName("user", user); !e.empty()) return HttpResponse::error(400, e);
  if (std::string e = checkName("function", function); !e.empty())
    return HttpResponse::error(400, e);
  const std::string& body = r.body;
  if (body.size() < 8 || body.compare(0, 4, std::string("\0asm", 4)) != 0)
    return HttpResponse::error(400, "upload of " + user + "/" + function +
                                        ": not a WebAssembly binary module (no \\0asm header)");
  std::vector<uint8_t> wasm(body.begin(), body.end());
  Compiler::Outcome c = compiler_->artefactFor(wasm);
  if (!c.error.empty()) {
    ++metrics_.compileFailures;
    return HttpResponse::error(c.httpStatus, "upload of " + user + "/" + function + ": " + c.error);
  }
  if (c.compiled) {
    ++metrics_.compiles;
    metrics_.compileSeconds.observe(c.seconds);
  } else {
    ++metrics_.compileCacheHits;
    FAASM_LOG(Info, "upload of %s/%s: artefact %s exists, no compile", user.c_str(),
              function.c_str(), c.key.c_str());
  }
  FunctionTable::Entry entry{c.key, abi::hexOf(abi::Sha256::of(wasm)), wasm.size()};
  std::optional<FunctionTable::Entry> before = table_->get(user, function);
  if (std::string e = table_->set(user, function, entry); !e.empty())
    return HttpResponse::error(500, e);
  if (!before || before->artefact != c.key)
    sendToExecutor(wire::Type::Retire, wire::Writer().str(user).str(function).bytes);
  ++metrics_.uploads;
  return jsonResponse(200, json{{"user", user},
                                {"function", function},
                                {"sha256", entry.wasmSha256},
                                {"bytes", entry.wasmBytes},
                                {"compiled", c.compiled},
                                {"compile_seconds", c.seconds}});
}

// ----- the dispatcher: the queue to the executor and results back ----------------

void Worker::finish(const CallId& id, CallStatus s) {
  if (cluster_ && !cluster_->settle(id, s)) return; // released for another attempt
  const CallState state = s.state;
  bool stored = results_->complete(id, s);
  if (cluster_) cluster_->acked(id);
  if (!stored) return;
  if (state == CallState::Done)
    ++metrics_.callsDone;
  else if (state == CallState::TimedOut)
    ++metrics_.callsTimedOut;
  else
    ++metrics_.callsFailed;
  answerWaiters(id, s);
}

// Each waiter is taken out under the lock and answered outside it, once:
// completing a response may wake an HTTP thread that takes the lock.
void Worker::answerWaiters(const CallId& id, const CallStatus& s) {
  std::vector<Waiter> ready;
  {
    std::lock_guard lock(waitMutex_);
    auto [from, to] = waiters_.equal_range(id);
    for (auto it = from; it != to; ++it)
      ready.push_back(std::move(it->second));
    waiters_.erase(from, to);
  }
  for (Waiter& w : ready) {
    HttpResponse r = callResponse(id, s);
    metrics_.responsesByClass[size_t(std::clamp(r.status / 100, 1, 5))]++;
    w.response->complete(std::move(r));
  }
}

void Worker::onLoad(const std::string& payload) {
  wire::Reader r{payload};
  uint32_t running = r.u32(), alive = r.u32(), queued = r.u32();
  if (r.bad) return;
  metrics_.faasletsRunning = running;
  metrics_.faasletsAlive = alive;
  metrics_.schedulerQueued = queued;
}

void Worker::onDone(const std::string& payload) {
  wire::Reader r{payload};
  CallId id;
  r.fill(id.bytes);
  CallStatus s;
  s.state = CallState(r.u32());
  s.returnCode = r.i32();
  bool cold = r.u32() != 0;
  uint64_t queueNs = r.u64(), runNs = r.u64(), zygotes = r.u64();
  std::string output = r.str();
  s.output.assign(output.begin(), output.end());
  s.error = r.str();
  if (r.bad || !s.final()) return;
  auto it = inFlight_.find(id);
  if (it == inFlight_.end()) return; // the backstop ended it already
  CallRequest call = std::move(it->second);
  inFlight_.erase(it);
  --metrics_.running;
  queue_->done(call);
  metrics_.zygotes = zygotes;
  if (cluster_) cluster_->ran(call.user, call.function);
  (cold ? metrics_.coldStarts : metrics_.warmStarts)++;
  if (runNs) {
    metrics_.queueSeconds.observe(double(queueNs) / 1e9);
    metrics_.runSeconds.observe(double(runNs) / 1e9);
  }
  metrics_.callSeconds.observe(std::chrono::duration<double>(Clock::now() - call.accepted).count());
  finish(id, std::move(s));
}

// A chained call the executor has no slot for: it goes to another host
// like an invocation (a record, an entry on a stream), and its result comes
// back through the result store; only the executor that made it hears of it,
// under the id it chose, so a Faaslet can await only its own calls.
void Worker::onChain(const std::string& payload) {
  wire::Reader r{payload};
  CallRequest call;
  r.fill(call.id.bytes);
  call.user = r.str();
  call.function = r.str();
  std::string input = r.str();
  uint64_t leftMs = r.u64();
  if (r.bad) return;
  call.input.assign(input.begin(), input.end());
  call.accepted = Clock::now();
  std::chrono::milliseconds left{int64_t(std::min<uint64_t>(leftMs, INT64_MAX / 2))};
  if (cluster_) left = std::min(left, cluster_->longestCall());
  call.deadline = call.accepted + left;
  const CallId id = call.id;
  CallStatus refused;
  refused.state = CallState::Failed;
  refused.returnCode = 134;
  if (!cluster_ || checkName("user", call.user).size() ||
      checkName("function", call.function).size()) {
    refused.error = "a chained call cannot go to another host";
    chainDone(id, refused);
    return;
  }
  results_->created(id, call.user);
  if (CallQueue::Refusal no = cluster_->submit(call, true); no.httpStatus) {
    refused.error = "refused by the cluster: " + no.message;
    results_->complete(id, refused);
    chainDone(id, refused);
    return;
  }
  ++metrics_.chainedElsewhere;
  chained_[id] = Chained{call.user, call.deadline};
  wake();
}

void Worker::chainDone(const CallId& id, const CallStatus& s) {
  wire::Writer w;
  w.raw(id.bytes);
  w.u32(uint32_t(s.state)).i32(s.returnCode);
  w.str(s.output);
  w.str(s.error);
  std::lock_guard lock(outMutex_);
  outbox_ += wire::frame(wire::Type::ChainDone, w.bytes);
}

void Worker::pollChained(Clock::time_point now) {
  for (auto it = chained_.begin(); it != chained_.end();) {
    std::optional<CallStatus> s = results_->get(it->first, it->second.user);
    if (s && s->final()) {
      chainDone(it->first, *s);
    } else if (now > it->second.deadline + std::chrono::seconds(5)) {
      // The executor's own deadline for it has passed already; this only
      // frees the record the executor keeps for it.
      CallStatus t;
      t.state = CallState::TimedOut;
      t.returnCode = 134;
      t.error = "no result from another host by the chained call's deadline";
      chainDone(it->first, t);
    } else {
      ++it;
      continue;
    }
    it = chained_.erase(it);
  }
}

bool Worker::startExecutor() {
  std::string error;
  pid_t pid = -1;
  int fd = spawnExecutor(self_, pid, error);
  if (fd < 0) {
    FAASM_LOG(Error, "%s", error.c_str());
    return false;
  }
  if (!wire::send(fd, wire::Type::Config, executorConfig_.encode())) {
    close(fd);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return false;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  executorFd_ = fd;
  executorPid_ = pid;
  inbox_.clear();
  return true;
}

void Worker::executorGone() {
  FAASM_LOG(Error, "the executor (pid %d) died; %zu calls it held fail", int(executorPid_.load()),
            inFlight_.size());
  close(executorFd_);
  executorFd_ = -1;
  int status = 0;
  waitpid(executorPid_, &status, 0);
  executorPid_ = -1;
  // Its Faaslets are gone with it (they die with their zygotes, which die with it).
  metrics_.faasletsRunning = 0;
  metrics_.faasletsAlive = 0;
  metrics_.schedulerQueued = 0;
  {
    // What it was sent is gone with it; what was not sent yet stays.
    std::lock_guard lock(outMutex_);
    outbox_.clear();
  }
  for (auto& [id, call] : std::exchange(inFlight_, {}))
    failInFlight(call, CallState::Failed,
                 "the worker's executor died while the call ran; it was not retried");
  // Their callers died with it; the calls run on elsewhere, unawaited.
  chained_.clear();
  ++metrics_.executorRestarts;
}

// For a call just taken out of inFlight_ without the executor's result: its
// slot goes back (once: only the path that erased it gets here) and it ends.
void Worker::failInFlight(const CallRequest& call, CallState state, const std::string& error) {
  --metrics_.running;
  queue_->done(call);
  CallStatus s;
  s.state = state;
  s.returnCode = 134;
  s.error = error;
  finish(call.id, s);
}

void Worker::dispatcher() {
  size_t written = 0;
  while (!stopping_) {
    if (executorFd_ < 0 && !startExecutor()) {
      // Without an executor, calls wait in the queue (their deadlines run).
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    const Clock::time_point now = Clock::now();
    if (executorFd_ >= 0) {
      while (std::optional<CallRequest> call = queue_->take()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(call->deadline - now);
        wire::Writer w;
        w.raw(call->id.bytes);
        w.str(call->user).str(call->function);
        w.str(std::string_view(reinterpret_cast<const char*>(call->input.data()),
                               call->input.size()));
        w.u64(uint64_t(std::max<int64_t>(left.count(), 1)));
        call->input.clear();
        results_->running(call->id);
        ++metrics_.running;
        CallId id = call->id;
        inFlight_.emplace(id, std::move(*call));
        std::lock_guard lock(outMutex_);
        outbox_ += wire::frame(wire::Type::Run, w.bytes);
      }
    }
    for (CallRequest& call : queue_->expire(now)) {
      CallStatus s;
      s.state = CallState::TimedOut;
      s.returnCode = 134;
      s.error = "timed out waiting for a slot (the queue timeout of " + seconds(o_.queueTimeout) +
                "; the worker is at capacity)";
      finish(call.id, s);
    }
    // The backstop: the executor enforces every call's deadline; should it
    // not answer, the call still ends.
    for (auto it = inFlight_.begin(); it != inFlight_.end();) {
      if (it->second.deadline + std::chrono::seconds(5) > now) {
        ++it;
        continue;
      }
      CallRequest call = std::move(it->second);
      it = inFlight_.erase(it);
      failInFlight(call, CallState::TimedOut, "no result from the executor by the call's deadline");
    }
    if (cluster_ && now >= nextPoll_) {
      // Calls placed on other hosts end there: their waiters here learn it
      // from the result store.
      nextPoll_ = now + std::chrono::milliseconds(50);
      pollChained(now);
      std::map<CallId, std::string> waiting;
      {
        std::lock_guard lock(waitMutex_);
        for (auto& [id, w] : waiters_)
          waiting.emplace(id, w.user);
      }
      for (auto& [id, user] : waiting) {
        std::optional<CallStatus> s = results_->get(id, user);
        if (s && s->final()) answerWaiters(id, *s);
      }
    }
    {
      // Clients whose wait outlived every deadline (none should).
      std::vector<Waiter> late;
      std::lock_guard lock(waitMutex_);
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->second.until > now) {
          ++it;
          continue;
        }
        late.push_back(std::move(it->second));
        it = waiters_.erase(it);
      }
      for (Waiter& w : late)
        w.response->complete(HttpResponse::error(504, "the call did not end by its deadline"));
    }
    results_->expire(now);

    bool haveOutput;
    {
      std::lock_guard lock(outMutex_);
      haveOutput = written < outbox_.size();
    }
    pollfd fds[2] = {{wakeFd_, POLLIN, 0},
                     {executorFd_, short(POLLIN | (haveOutput ? POLLOUT : 0)), 0}};
    int n = ::poll(fds, executorFd_ >= 0 ? 2 : 1, 100);
    if (n <= 0) continue;
    if (fds[0].revents) {
      uint64_t v;
      if (read(wakeFd_, &v, sizeof v) < 0) {
      }
    }
    if (executorFd_ < 0) continue;
    bool gone = false;
    if (fds[1].revents & POLLOUT) {
      std::lock_guard lock(outMutex_);
      ssize_t k = ::send(executorFd_, outbox_.data() + written, outbox_.size() - written,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (k > 0)
        written += size_t(k);
      else if (k < 0 && errno != EAGAIN && errno != EINTR)
        gone = true;
      if (written == outbox_.size()) {
        outbox_.clear();
        written = 0;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buffer[65536];
      for (;;) {
        ssize_t k = read(executorFd_, buffer, sizeof buffer);
        if (k > 0) {
          inbox_.append(buffer, size_t(k));
          continue;
        }
        if (k == 0 || (errno != EAGAIN && errno != EINTR)) gone = true;
        break;
      }
      // Whole frames.
      size_t at = 0;
      while (inbox_.size() - at >= 16) {
        wire::Reader h{std::string_view(inbox_).substr(at, 16)};
        auto type = wire::Type(h.u32());
        h.u32();
        uint64_t length = h.u64();
        if (length > wire::kMaxFrame) {
          gone = true;
          break;
        }
        if (inbox_.size() - at - 16 < length) break;
        if (type == wire::Type::Done)
          onDone(inbox_.substr(at + 16, length));
        else if (type == wire::Type::Load)
          onLoad(inbox_.substr(at + 16, length));
        else if (type == wire::Type::Chain)
          onChain(inbox_.substr(at + 16, length));
        at += 16 + length;
      }
      inbox_.erase(0, at);
    }
    if (gone) {
      if (executorPid_ > 0) kill(executorPid_, SIGKILL);
      {
        std::lock_guard lock(outMutex_);
        written = 0;
      }
      executorGone();
    }
  }
  if (executorFd_ >= 0) {
    close(executorFd_); // the executor exits on EOF, ending its Faaslets
    waitpid(executorPid_, nullptr, 0);
  }
}

int Worker::run() {
  // Signals are taken by sigwait below; every thread started from here on
  // inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auto fail = [](const std::string& line) {
    std::fprintf(stderr, "faasm-worker: %s\n", line.c_str());
    return 1;
  };
  if (o_.dataDir.empty()) return fail("no data directory (--data-dir)");
  if (o_.bounds != "guard" && o_.bounds != "explicit")
    return fail("--bounds must be guard or explicit");
  std::optional<RedisConfig> redis;
  if (!o_.redis.empty()) {
    std::string error;
    std::optional<redis::Endpoint> at = redis::parseEndpoint(o_.redis, error);
    if (!at) return fail("--redis: " + error);
    redis = RedisConfig{at->host, at->port};
    redis->lease = o_.lease;
    redis->maxAttempts = std::max(1U, o_.maxAttempts);
    RedisReply pong = redis->connect()->command({"PING"});
    if (pong.kind != RedisReply::Status) return fail("--redis " + o_.redis + ": " + pong.str);
  }
  if (redis) {
    artefacts_ = redisArtefactStore(*redis, localArtefactStore(o_.dataDir));
    table_ = redisFunctionTable(*redis, localFunctionTable(o_.dataDir),
                                [this](const std::string& user, const std::string& function) {
                                  sendToExecutor(wire::Type::Retire,
                                                 wire::Writer().str(user).str(function).bytes);
                                });
    std::string name = o_.hostName;
    if (name.empty()) {
      char host[256] = {0};
      gethostname(host, sizeof host - 1);
      name = std::string(host) + "-" + std::to_string(getpid()) + "-" +
             CallId::random().hex().substr(0, 8);
    }
    if (std::string e = checkName("host name", name); !e.empty()) return fail(e);
    membership_ = std::make_unique<RedisMembership>(*redis, name);
  } else {
    artefacts_ = localArtefactStore(o_.dataDir);
    table_ = localFunctionTable(o_.dataDir);
    membership_ = localMembership();
    results_ = localResultStore(ResultLimits{o_.resultTtl});
  }
  unsigned cpus = std::max(1U, std::thread::hardware_concurrency());
  faaslet::SchedulerLimits caps;
  caps.runningPerHost = o_.hostRunning;
  caps.alivePerHost = o_.hostAlive;
  caps = caps.resolved();
  // The queue hands the executor as many roots as it may run at once; the
  // rest wait here, under the queue's bound and deadline.
  queue_ = localCallQueue(QueueLimits{o_.maxQueued, o_.userShare, caps.runningPerHost});
  if (redis) {
    ClusterLimits limits;
    limits.capacity = caps.runningPerHost;
    limits.maxQueued = o_.maxQueued;
    limits.queueTimeout = o_.queueTimeout;
    limits.callTimeout = o_.callTimeout;
    auto results = std::make_unique<RedisResultStore>(
        *redis, o_.resultTtl,
        limits.queueTimeout + (limits.callTimeout + redis->lease) * redis->maxAttempts);
    redisResults_ = results.get();
    results_ = std::move(results);
    Cluster::Hooks hooks;
    hooks.enqueue = [this](CallRequest call) {
      CallQueue::Refusal r = queue_->submit(std::move(call));
      if (!r.httpStatus) wake();
      return r;
    };
    hooks.finish = [this](const CallId& id, CallStatus s) { finish(id, std::move(s)); };
    cluster_ =
        std::make_unique<Cluster>(*redis, limits, static_cast<RedisMembership&>(*membership_),
                                  *redisResults_, *table_, *artefacts_, std::move(hooks));
  }
  // Faaslets (another uid) reach their user's directory below it.
  if (!o_.stateDir.empty() && mkdir(o_.stateDir.c_str(), 0711) != 0 && errno != EEXIST)
    return fail("cannot make the state directory " + o_.stateDir + ": " + std::strerror(errno));
  state_ = std::make_unique<state::LocalStateStore>(
      o_.stateDir.empty() ? state::LocalStateStore::instance().directory() : o_.stateDir);
  if (redis) {
    // The store's replicas are the process's LocalStateStore: the same
    // directory as state_ and the executor's.
    state::LocalStateStore::instance().setDirectory(state_->directory());
    globalState_ = redis::makeRedisStore(
        redis::optionsFromEnvironment(redis::Endpoint{redis->host, redis->port}));
  }

  CompilerConfig cc;
  cc.codegen =
      o_.codegen.empty() ? self_.substr(0, self_.rfind('/') + 1) + "faasm-codegen" : o_.codegen;
  cc.flags = {"--bounds=" + o_.bounds};
  cc.memoryBytes = o_.compileMemoryBytes;
  cc.cpuTime = o_.compileTimeout;
  cc.wallTimeout = o_.compileWallTimeout;
  cc.jobs = o_.compileJobs;
  std::string error;
  compiler_ = std::make_unique<Compiler>(cc, *artefacts_, error);
  if (!error.empty()) return fail(error);

  ExecutorConfig& e = executorConfig_;
  e.storeDir = o_.dataDir;
  e.stateDir = state_->directory();
  e.memoryBytes = o_.memoryLimitBytes;
  e.cpus = o_.cpus;
  e.timeoutMs = uint64_t(o_.callTimeout.count());
  e.uid = o_.faasletUid;
  e.gid = o_.faasletGid;
  e.runningPerHost = o_.hostRunning;
  e.alivePerHost = o_.hostAlive;
  e.offload = cluster_ != nullptr;
  if (redis) e.stateRedis = redis->host + ":" + std::to_string(redis->port);

  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  std::thread dispatch([this] { dispatcher(); });
  if (cluster_) cluster_->start();

  HttpConfig invokeHttp;
  invokeHttp.address = o_.listen;
  invokeHttp.port = o_.invokePort;
  invokeHttp.threads = o_.httpThreads ? o_.httpThreads : cpus;
  invokeHttp.connections = o_.maxConnections;
  invokeHttp.maxBody = o_.maxRequestBytes;
  invokeHttp.idleTimeout = o_.idleTimeout;
  HttpServer invokeServer(invokeHttp, [this](HttpRequest& r) { return invokeApi(r); });
  // Uploads block their thread while they compile: a thread each, and few.
  HttpConfig uploadHttp = invokeHttp;
  uploadHttp.port = o_.uploadPort;
  uploadHttp.threads = 0;
  uploadHttp.connections = 16;
  uploadHttp.maxBody = o_.maxWasmBytes;
  HttpServer uploadServer(uploadHttp, [this](HttpRequest& r) { return uploadApi(r); });
  int status = 0;
  if (std::string e1 = invokeServer.start(); !e1.empty())
    status = fail("invoke port: " + e1);
  else if (std::string e2 = uploadServer.start(); !e2.empty())
    status = fail("upload port: " + e2);
  if (status == 0) {
    if (!o_.portsFile.empty()) {
      std::string tmp = o_.portsFile + ".tmp";
      std::ofstream(tmp) << "invoke=" << invokeServer.port() << "\nupload=" << uploadServer.port()
                         << "\n";
      rename(tmp.c_str(), o_.portsFile.c_str());
    }
    std::fprintf(stderr, "faasm-worker: invoke on %s:%u, upload on %s:%u\n", o_.listen.c_str(),
                 invokeServer.port(), o_.listen.c_str(), uploadServer.port());
    int sig = 0;
    sigwait(&signals, &sig);
    FAASM_LOG(Info, "signal %d: stopping", sig);
  }
  // Clients still waiting are told; then no thread of the servers is left.
  {
    std::lock_guard lock(waitMutex_);
    for (auto& [id, w] : waiters_)
      w.response->complete(HttpResponse::error(503, "the worker is stopping"));
    waiters_.clear();
  }
  invokeServer.stop();
  uploadServer.stop();
  if (cluster_) cluster_->stop();
  stopping_ = true;
  wake();
  dispatch.join();
  close(wakeFd_);
  return status;
}

int runWorker(const WorkerOptions& options, const std::string& self) {
  Worker worker(options, self);
  return worker.run();
}

int runExecutor(int fd) {
  return executorMain(fd);
}

} // namespace faasm::worker
