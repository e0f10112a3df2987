// The platform as a native process, for the container baseline: the global
// state tier is Redis (hiredis; FAASM_REDIS=host:port or unix:/path, default
// 127.0.0.1:6379), every process holds private replicas of what it maps, and
// a chained call is a child process running the sibling binary of that name
// (input on its stdin, output read from its stdout).
//
// Input of a call: argv[1] if given, else all of stdin. Its output goes to
// stdout when functionMain returns; diagnostics go to stderr.
//
// Two switches make the children what a container platform runs
// (scripts/bench-paper):
//   FAASM_NATIVE_LAUNCHER=CMD  a chained call runs "CMD <name>" instead of the
//       sibling binary (CMD starts the function, e.g. in a runc container),
//       with the same stdin and stdout.
//   FAASM_NATIVE_WARM=1  processes are kept warm: a chained process serves
//       calls one after another until its stdin closes, and a caller hands a
//       new call to an idle child of that function before starting another.
//       A call is then framed on the pipes: the input as a little-endian u64
//       length and its bytes; the reply as a u32 return code, a u64 length
//       and the output. A warm process keeps the replicas it fetched across
//       calls (the data of a training does not change while it runs); HOGWILD
//       weights are fetched afresh by every mapHogwild.
#include "Platform.h"

#include <hiredis/hiredis.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <vector>

extern char** environ;

namespace ml::platform {

namespace {

// The unit of a partial push, as the global tier would send it: 4 KiB, or
// FAASM_STATE_CHUNK_BYTES (so the baseline can follow the global tier's).
size_t chunkBytes() {
  static const size_t bytes = [] {
    const char* text = std::getenv("FAASM_STATE_CHUNK_BYTES");
    long v = text ? std::atol(text) : 0;
    return v > 0 ? size_t(v) : size_t(4096);
  }();
  return bytes;
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "native platform: %s\n", message.c_str());
  std::exit(70);
}

struct Replica {
  size_t offset = 0; // of the first byte held, in the global value
  std::vector<uint8_t> bytes;
  std::vector<bool> dirtyChunks;
  std::vector<uint8_t> base; // HOGWILD values: the value at the last sync
};

struct Child {
  pid_t pid = -1;
  int stdoutFd = -1;
  bool finished = false;
  int status = -1;
  std::string output;
  int worker = -1; // warm: the index of the process in Process::warm serving it
};

// A warm child process (FAASM_NATIVE_WARM): serves framed calls until its
// stdin closes.
struct WarmProcess {
  std::string function;
  pid_t pid = -1;
  int stdinFd = -1, stdoutFd = -1;
  bool busy = false;
  bool dead = false;
};

struct Process {
  std::string input;
  std::string output;
  std::string binDir;
  redisContext* redis = nullptr;
  std::map<std::string, Replica> replicas;      // whole values
  std::map<std::string, Replica> rangeReplicas; // key + '@' + offset
  std::map<uint32_t, Child> children;
  uint32_t nextChild = 1;
  std::vector<WarmProcess> warm;
  int (*init)() = nullptr;
};

Process& process() {
  static Process p;
  return p;
}

redisContext* redis() {
  Process& p = process();
  if (p.redis) return p.redis;
  const char* where = std::getenv("FAASM_REDIS");
  std::string spec = where && *where ? where : "127.0.0.1:6379";
  if (spec.rfind("unix:", 0) == 0) {
    p.redis = redisConnectUnix(spec.c_str() + 5);
  } else {
    size_t colon = spec.rfind(':');
    std::string host = colon == std::string::npos ? spec : spec.substr(0, colon);
    int port = colon == std::string::npos ? 6379 : std::atoi(spec.c_str() + colon + 1);
    p.redis = redisConnect(host.c_str(), port);
  }
  if (!p.redis || p.redis->err)
    die("cannot reach Redis at " + spec + ": " + (p.redis ? p.redis->errstr : "no memory"));
  return p.redis;
}

using Reply = std::unique_ptr<redisReply, void (*)(void*)>;

// A command as its arguments (binary-safe; hiredis 0.14's format strings
// know no integer conversions).
struct Args {
  std::vector<const char*> data;
  std::vector<size_t> lengths;
  Args(std::initializer_list<std::string_view> args) {
    for (std::string_view a : args) {
      data.push_back(a.data());
      lengths.push_back(a.size());
    }
  }
};

Reply command(std::initializer_list<std::string_view> argv) {
  Args args(argv);
  void* reply =
      redisCommandArgv(redis(), int(args.data.size()), args.data.data(), args.lengths.data());
  if (!reply) die(std::string("Redis: ") + redis()->errstr);
  Reply r(static_cast<redisReply*>(reply), freeReplyObject);
  if (r->type == REDIS_REPLY_ERROR) die(std::string("Redis: ") + r->str);
  return r;
}

void append(std::initializer_list<std::string_view> argv) {
  Args args(argv);
  if (redisAppendCommandArgv(redis(), int(args.data.size()), args.data.data(),
                             args.lengths.data()) != REDIS_OK)
    die(std::string("Redis: ") + redis()->errstr);
}

std::string_view bytes(const void* data, size_t len) {
  return {static_cast<const char*>(data), len};
}

// Bytes [offset, offset + len) of the global value into `out` (zeros past its end).
void fetch(const char* key, size_t offset, size_t len, uint8_t* out) {
  if (len == 0) return;
  Reply r = command({"GETRANGE", key, std::to_string(offset), std::to_string(offset + len - 1)});
  size_t got = r->type == REDIS_REPLY_STRING ? std::min(size_t(r->len), len) : 0;
  std::memcpy(out, r->str, got);
  std::memset(out + got, 0, len - got);
}

Replica& wholeReplica(const char* key, size_t len) {
  Replica& replica = process().replicas[key];
  if (replica.bytes.size() < len) {
    size_t had = replica.bytes.size();
    replica.bytes.resize(len);
    replica.dirtyChunks.resize((len + chunkBytes() - 1) / chunkBytes());
    fetch(key, had, len - had, replica.bytes.data() + had);
  }
  return replica;
}

void readAll(int fd, std::string& out) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      out.append(buffer, size_t(n));
    } else if (n == 0 || errno != EINTR) {
      return;
    }
  }
}

void writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(size_t(n));
  }
}

bool readExactly(int fd, void* buffer, size_t len) {
  auto* out = static_cast<uint8_t*>(buffer);
  while (len > 0) {
    ssize_t n = ::read(fd, out, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    len -= size_t(n);
  }
  return true;
}

bool warmMode() {
  static const bool warm = [] {
    const char* text = std::getenv("FAASM_NATIVE_WARM");
    return text && std::strcmp(text, "1") == 0;
  }();
  return warm;
}

// Starts `name` (the sibling binary, or through FAASM_NATIVE_LAUNCHER) with
// pipes on its stdin and stdout; false if it could not be started.
bool spawnFunction(const char* name, pid_t& pid, int& stdinFd, int& stdoutFd) {
  Process& p = process();
  const char* launcher = std::getenv("FAASM_NATIVE_LAUNCHER");
  std::string path = launcher && *launcher ? std::string(launcher) : p.binDir + "/" + name;
  std::string function = name;
  int inPipe[2], outPipe[2];
  if (pipe2(inPipe, O_CLOEXEC) != 0) die("pipe: " + std::string(std::strerror(errno)));
  if (pipe2(outPipe, O_CLOEXEC) != 0) die("pipe: " + std::string(std::strerror(errno)));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1);
  char* launched[] = {path.data(), function.data(), nullptr};
  char* direct[] = {path.data(), nullptr};
  int error = posix_spawn(&pid, path.c_str(), &actions, nullptr,
                          launcher && *launcher ? launched : direct, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(inPipe[0]);
  close(outPipe[1]);
  if (error != 0) {
    close(inPipe[1]);
    close(outPipe[0]);
    return false;
  }
  stdinFd = inPipe[1];
  stdoutFd = outPipe[0];
  return true;
}

// Ends every warm child: closes its stdin (it returns from its serve loop)
// and waits for it.
void endWarmChildren() {
  for (WarmProcess& w : process().warm) {
    if (w.stdinFd >= 0) close(w.stdinFd);
    if (w.stdoutFd >= 0) close(w.stdoutFd);
    w.stdinFd = w.stdoutFd = -1;
    int status = 0;
    while (w.pid > 0 && waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    w.pid = -1;
  }
}

} // namespace

std::string input() {
  return process().input;
}

void setOutput(std::string_view output) {
  process().output.assign(output);
}

size_t stateSize(const char* key) {
  Reply r = command({"STRLEN", key});
  return r->type == REDIS_REPLY_INTEGER ? size_t(r->integer) : 0;
}

void writeState(const char* key, const void* data, size_t len) {
  command({"SET", key, bytes(data, len)});
  Replica& replica = process().replicas[key];
  replica.bytes.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
  replica.dirtyChunks.assign((len + chunkBytes() - 1) / chunkBytes(), false);
}

void readState(const char* key, void* out, size_t len) {
  fetch(key, 0, len, static_cast<uint8_t*>(out));
}

uint8_t* mapState(const char* key, size_t len) {
  return wholeReplica(key, len).bytes.data();
}

const uint8_t* mapStateRange(const char* key, size_t total, size_t offset, size_t len) {
  if (offset > total || len > total - offset)
    die(std::string("state range past the value: ") + key);
  Process& p = process();
  auto whole = p.replicas.find(key);
  if (whole != p.replicas.end() && whole->second.bytes.size() >= offset + len)
    return whole->second.bytes.data() + offset;
  Replica& replica = p.rangeReplicas[std::string(key) + "@" + std::to_string(offset)];
  if (replica.bytes.size() < len) {
    replica.offset = offset;
    replica.bytes.resize(len);
    fetch(key, offset, len, replica.bytes.data());
  }
  return replica.bytes.data();
}

void flagDirty(const char* key, size_t, size_t offset, size_t len) {
  auto it = process().replicas.find(key);
  if (it == process().replicas.end() || len == 0) return;
  std::vector<bool>& dirty = it->second.dirtyChunks;
  size_t last = std::min((offset + len - 1) / chunkBytes(), dirty.size() - 1);
  for (size_t c = offset / chunkBytes(); c <= last; ++c)
    dirty[c] = true;
}

namespace {

// Appends one SETRANGE per run of dirty chunks of `data` (the replica's bytes
// or what is to replace them) to the pipeline and clears the flags; the
// number of commands appended.
size_t appendDirtyRuns(const char* key, Replica& replica, const uint8_t* data) {
  size_t commands = 0;
  const size_t chunks = replica.dirtyChunks.size();
  for (size_t c = 0; c < chunks;) {
    if (!replica.dirtyChunks[c]) {
      ++c;
      continue;
    }
    size_t end = c;
    while (end < chunks && replica.dirtyChunks[end]) {
      replica.dirtyChunks[end] = false;
      ++end;
    }
    size_t from = c * chunkBytes(), to = std::min(end * chunkBytes(), replica.bytes.size());
    append({"SETRANGE", key, std::to_string(from), bytes(data + from, to - from)});
    ++commands;
    c = end;
  }
  return commands;
}

// The replies of `commands` pipelined commands; the last one's.
Reply replies(size_t commands) {
  Reply last(nullptr, freeReplyObject);
  for (size_t i = 0; i < commands; ++i) {
    void* reply = nullptr;
    if (redisGetReply(redis(), &reply) != REDIS_OK) die(std::string("Redis: ") + redis()->errstr);
    last.reset(static_cast<redisReply*>(reply));
    if (last->type == REDIS_REPLY_ERROR) die(std::string("Redis: ") + last->str);
  }
  return last;
}

} // namespace

void pushPartial(const char* key) {
  auto it = process().replicas.find(key);
  if (it == process().replicas.end()) return;
  replies(appendDirtyRuns(key, it->second, it->second.bytes.data()));
}

void pull(const char* key, size_t len) {
  Replica& replica = wholeReplica(key, len);
  fetch(key, 0, len, replica.bytes.data());
}

float* mapHogwild(const char* key, size_t count) {
  // A warm process may hold last call's replica: a pass starts from the
  // global value as it is now.
  const bool held = process().replicas.count(key) != 0;
  Replica& replica = wholeReplica(key, count * sizeof(float));
  if (held) fetch(key, 0, count * sizeof(float), replica.bytes.data());
  replica.base = replica.bytes;
  return reinterpret_cast<float*>(replica.bytes.data());
}

void syncHogwild(const char* key) {
  auto it = process().replicas.find(key);
  if (it == process().replicas.end() || it->second.base.size() != it->second.bytes.size())
    die(std::string("syncHogwild before mapHogwild: ") + key);
  Replica& replica = it->second;
  const size_t count = replica.bytes.size() / sizeof(float);
  auto* local = reinterpret_cast<float*>(replica.bytes.data());
  const auto* base = reinterpret_cast<const float*>(replica.base.data());
  std::vector<float> merged(count);
  const std::vector<bool> dirty = replica.dirtyChunks;
  // Optimistic transaction: if another worker pushes between the read and
  // the write, EXEC fails and the merge is made again on its result.
  for (;;) {
    command({"WATCH", key});
    fetch(key, 0, count * sizeof(float), reinterpret_cast<uint8_t*>(merged.data()));
    for (size_t i = 0; i < count; ++i)
      merged[i] += local[i] - base[i];
    append({"MULTI"});
    replica.dirtyChunks = dirty;
    size_t commands =
        appendDirtyRuns(key, replica, reinterpret_cast<const uint8_t*>(merged.data()));
    append({"EXEC"});
    Reply exec = replies(commands + 2);
    if (exec->type == REDIS_REPLY_ARRAY) break;
  }
  std::memcpy(local, merged.data(), count * sizeof(float));
  replica.base = replica.bytes;
}

uint32_t chain(const char* name, std::string_view in) {
  Process& p = process();
  Child child;
  if (warmMode()) {
    size_t index = 0;
    while (index < p.warm.size() &&
           (p.warm[index].busy || p.warm[index].dead || p.warm[index].function != name))
      ++index;
    if (index == p.warm.size()) {
      WarmProcess w;
      w.function = name;
      if (!spawnFunction(name, w.pid, w.stdinFd, w.stdoutFd)) return 0;
      p.warm.push_back(w);
    }
    WarmProcess& w = p.warm[index];
    uint64_t length = in.size();
    writeAll(w.stdinFd, bytes(&length, sizeof length));
    writeAll(w.stdinFd, in);
    w.busy = true;
    child.worker = int(index);
    child.pid = w.pid;
  } else {
    int stdinFd = -1;
    if (!spawnFunction(name, child.pid, stdinFd, child.stdoutFd)) return 0;
    writeAll(stdinFd, in);
    close(stdinFd);
  }
  uint32_t id = p.nextChild++;
  p.children[id] = std::move(child);
  return id;
}

int await(uint32_t id) {
  auto it = process().children.find(id);
  if (it == process().children.end()) return -1;
  Child& child = it->second;
  if (!child.finished && child.worker >= 0) {
    WarmProcess& w = process().warm[size_t(child.worker)];
    uint32_t rc = 0;
    uint64_t length = 0;
    bool ok =
        readExactly(w.stdoutFd, &rc, sizeof rc) && readExactly(w.stdoutFd, &length, sizeof length);
    if (ok) {
      child.output.resize(length);
      ok = readExactly(w.stdoutFd, child.output.data(), length);
    }
    // A process that broke the framing or died serves no further call.
    child.status = ok ? int(rc) : 134;
    w.dead = !ok;
    w.busy = false;
    child.finished = true;
  } else if (!child.finished) {
    readAll(child.stdoutFd, child.output);
    close(child.stdoutFd);
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    child.status = WIFEXITED(status) ? WEXITSTATUS(status) : 134;
    child.finished = true;
  }
  return child.status;
}

std::string output(uint32_t id) {
  auto it = process().children.find(id);
  return it == process().children.end() ? std::string() : it->second.output;
}

double now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double cpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

bool registerInit(int (*init)()) {
  process().init = init;
  return true;
}

} // namespace ml::platform

int main(int argc, char** argv) {
  ml::platform::Process& p = ml::platform::process();
  std::string self = argv[0];
  char resolved[4096];
  ssize_t n = readlink("/proc/self/exe", resolved, sizeof resolved - 1);
  if (n > 0) self.assign(resolved, size_t(n));
  size_t slash = self.rfind('/');
  p.binDir = slash == std::string::npos ? "." : self.substr(0, slash);
  if (p.init) {
    if (int rc = p.init(); rc != 0) {
      std::fprintf(stderr, "%s: initialisation failed with %d\n", argv[0], rc);
      return rc;
    }
  }
  if (argc <= 1 && ml::platform::warmMode()) {
    // Serve framed calls until stdin closes (see the top of this file).
    int rc = 0;
    for (;;) {
      uint64_t length = 0;
      if (!ml::platform::readExactly(0, &length, sizeof length)) break;
      p.input.resize(length);
      if (!ml::platform::readExactly(0, p.input.data(), length)) break;
      p.output.clear();
      p.children.clear();
      rc = functionMain();
      uint32_t code = uint32_t(rc);
      uint64_t outLength = p.output.size();
      ml::platform::writeAll(1, ml::platform::bytes(&code, sizeof code));
      ml::platform::writeAll(1, ml::platform::bytes(&outLength, sizeof outLength));
      ml::platform::writeAll(1, p.output);
    }
    ml::platform::endWarmChildren();
    if (p.redis) redisFree(p.redis);
    return 0;
  }
  if (argc > 1) {
    p.input = argv[1];
  } else {
    ml::platform::readAll(0, p.input);
  }
  int rc = functionMain();
  ml::platform::endWarmChildren();
  ml::platform::writeAll(1, p.output);
  if (p.redis) redisFree(p.redis);
  return rc;
}
