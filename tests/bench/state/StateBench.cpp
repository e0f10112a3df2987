// The global state tier's costs, for scripts/bench-state: for each value
// size, through the RedisStore a Faaslet uses (replica in the local tier):
// full push, partial push with 1% of the 64 KiB chunks dirty, full pull,
// pull of an unchanged value, global lock + unlock; and beside them, in the
// same run against the same server, the floor: the same bytes moved by a
// raw pipelined hiredis loop of SETRANGE / GETRANGE (same chunk size and
// window as the store) into a plain buffer, the same SETRANGEs streamed from
// the buffer, the same GETRANGEs with the pull's two windows in flight, and
// a memcpy. Medians of --reps runs.
//
//   state-bench --redis HOST:PORT --dir STATE_DIR [--reps N] SIZE_BYTES...
// Prints one row per size and metric, then the summary line of the largest
// size: push_mb_s pull_mb_s raw_mb_s partial_1pct_ratio unchanged_pull_us lock_rtt_us
#include "faasm/redis/RedisStore.h"
#include "faasm/state/StateStore.h"

#include <hiredis/hiredis.h>

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace st = faasm::state;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F> double timeIt(F&& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds: this process's, and the Redis server's main thread's (from
// INFO, on a connection of its own). On a machine shared with other work the
// wall-clock times move with everyone's load; these say what a path costs.
redisContext* gInfo = nullptr;
double clientCpu() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}
double serverCpu() {
  auto* r = static_cast<redisReply*>(redisCommand(gInfo, "INFO cpu"));
  if (!r || r->type != REDIS_REPLY_STRING) std::exit(1);
  double total = 0;
  for (const char* field : {"used_cpu_sys_main_thread:", "used_cpu_user_main_thread:"})
    if (const char* at = std::strstr(r->str, field)) total += std::atof(at + std::strlen(field));
  freeReplyObject(r);
  return total;
}
struct Cpu {
  std::vector<double> client, server;
  template <typename F> double operator()(F&& f) {
    double c0 = clientCpu(), s0 = serverCpu();
    double wall = timeIt(f);
    client.push_back(clientCpu() - c0);
    server.push_back(serverCpu() - s0);
    return wall;
  }
};

void must(const st::Outcome& o, const char* what) {
  if (!o.ok()) {
    std::fprintf(stderr, "state-bench: %s: %s (errno %d)\n", what, o.message.c_str(), o.error);
    std::exit(1);
  }
}

// The floor: pipelined SETRANGE / GETRANGE of `chunk` bytes, `window` bytes queued at a time.
struct Raw {
  redisContext* c;
  uint64_t chunk, window;
  void drain(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) {
      void* r = nullptr;
      if (redisGetReply(c, &r) != REDIS_OK) {
        std::fprintf(stderr, "state-bench: raw: %s\n", c->errstr);
        std::exit(1);
      }
      freeReplyObject(r);
    }
  }
  void set(const std::string& key, const uint8_t* data, uint64_t size) {
    uint64_t queued = 0, bytes = 0;
    for (uint64_t at = 0; at < size; at += chunk) {
      std::string off = std::to_string(at);
      uint64_t n = std::min(chunk, size - at);
      const char* argv[4] = {"SETRANGE", key.data(), off.data(),
                             reinterpret_cast<const char*>(data + at)};
      size_t lens[4] = {8, key.size(), off.size(), n};
      redisAppendCommandArgv(c, 4, argv, lens);
      ++queued;
      if ((bytes += n) >= window) {
        drain(queued);
        queued = bytes = 0;
      }
    }
    drain(queued);
  }
  // The same SETRANGEs written straight from `data` to the socket, every
  // chunk before any reply is read (what the store's staged push does): a
  // stronger floor than the hiredis loop, shown beside it.
  void stream(const std::string& key, const uint8_t* data, uint64_t size) {
    std::vector<std::string> heads;
    std::vector<iovec> iov;
    for (uint64_t at = 0; at < size; at += chunk) {
      std::string off = std::to_string(at);
      heads.push_back(std::string(at ? "\r\n" : "") + "*4\r\n$8\r\nSETRANGE\r\n$" +
                      std::to_string(key.size()) + "\r\n" + key + "\r\n$" +
                      std::to_string(off.size()) + "\r\n" + off + "\r\n$" +
                      std::to_string(std::min(chunk, size - at)) + "\r\n");
    }
    for (uint64_t i = 0, at = 0; at < size; ++i, at += chunk) {
      iov.push_back({heads[i].data(), heads[i].size()});
      iov.push_back({const_cast<uint8_t*>(data + at), std::min(chunk, size - at)});
    }
    static char crlf[] = "\r\n";
    iov.push_back({crlf, 2});
    for (size_t i = 0; i < iov.size();) {
      msghdr msg{};
      msg.msg_iov = &iov[i];
      msg.msg_iovlen = std::min<size_t>(iov.size() - i, 1024);
      ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
      if (n <= 0) {
        std::fprintf(stderr, "state-bench: raw stream: %s\n", std::strerror(errno));
        std::exit(1);
      }
      for (size_t sent = size_t(n); sent;) {
        size_t step = std::min(sent, iov[i].iov_len);
        iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + step;
        iov[i].iov_len -= step;
        sent -= step;
        if (!iov[i].iov_len) ++i;
      }
    }
    drain(heads.size());
  }
  // overlap: the next window is queued before this one's replies are read
  // (two windows in flight, as the store's pull does): the same loop with
  // the pull's pipelining, so that what the pull gains by its reader and
  // what by its pipelining can be told apart.
  void get(const std::string& key, uint8_t* out, uint64_t size, bool overlap = false) {
    auto queue = [&](uint64_t from) {
      uint64_t to = std::min(size, from + window), queued = 0;
      for (uint64_t at = from; at < to; at += chunk, ++queued) {
        std::string a = std::to_string(at), b = std::to_string(std::min(to, at + chunk) - 1);
        const char* argv[4] = {"GETRANGE", key.data(), a.data(), b.data()};
        size_t lens[4] = {8, key.size(), a.size(), b.size()};
        redisAppendCommandArgv(c, 4, argv, lens);
      }
      return queued;
    };
    uint64_t next = overlap ? queue(0) : 0;
    for (uint64_t from = 0; from < size; from += window) {
      uint64_t queued = overlap ? next : queue(from);
      if (overlap && from + window < size) {
        next = queue(from + window);
        int done = 0;
        while (!done)
          if (redisBufferWrite(c, &done) != REDIS_OK) std::exit(1);
      }
      uint64_t at = from;
      for (uint64_t i = 0; i < queued; ++i) {
        void* r = nullptr;
        if (redisGetReply(c, &r) != REDIS_OK) std::exit(1);
        auto* reply = static_cast<redisReply*>(r);
        std::memcpy(out + at, reply->str, reply->len);
        at += reply->len;
        freeReplyObject(r);
      }
    }
  }
};

} // namespace

int main(int argc, char** argv) {
  std::string redisAddress, dir;
  int reps = 5;
  std::vector<uint64_t> sizes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--redis" && i + 1 < argc)
      redisAddress = argv[++i];
    else if (a == "--dir" && i + 1 < argc)
      dir = argv[++i];
    else if (a == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else
      sizes.push_back(std::strtoull(argv[i], nullptr, 10));
  }
  std::string error;
  auto endpoint = faasm::redis::parseEndpoint(redisAddress, error);
  if (!endpoint || dir.empty() || sizes.empty()) {
    std::fprintf(stderr, "usage: state-bench --redis HOST:PORT --dir DIR [--reps N] SIZE...\n%s\n",
                 error.c_str());
    return 2;
  }
  st::LocalStateStore::instance().setDirectory(dir);
  st::LocalStateStore::instance().setQuota(uint64_t(8) << 30);
  faasm::redis::RedisOptions options = faasm::redis::optionsFromEnvironment(*endpoint);
  options.timeout = std::chrono::milliseconds(60000);
  auto store = faasm::redis::makeRedisStore(options);
  redisContext* rc = redisConnect(endpoint->host.c_str(), endpoint->port);
  if (!rc || rc->err) return 1;
  rc->reader->maxbuf = 0;
  Raw raw{rc, options.chunkBytes, 8u << 20};
  gInfo = redisConnect(endpoint->host.c_str(), endpoint->port);
  if (!gInfo || gInfo->err) return 1;

  std::printf("%-10s %-28s %12s %10s\n", "size", "metric", "value", "unit");
  double pushMbs = 0, pullMbs = 0, rawMbs = 0, partialRatio = 0, unchangedUs = 0, lockUs = 0;
  for (uint64_t size : sizes) {
    const double mb = double(size) / 1e6;
    const std::string user = "bench", key = "v" + std::to_string(size);
    st::StateObject* object = store->local().open(user, key, true);
    if (!object || !object->setSize(size)) return 1;
    std::vector<uint8_t> data(size), sink(size);
    for (uint64_t i = 0; i < size; ++i)
      data[i] = uint8_t(i * 131 + (i >> 12));
    object->write(0, data.data(), size);

    std::vector<double> push, partial, pull, unchanged, lock, rawSet, rawGet, copy, rawPing,
        rawStream, rawGetOverlap;
    Cpu pushCpu, pullCpu, rawSetCpu, rawGetCpu;
    const uint64_t chunk = 64 << 10, chunks = (size + chunk - 1) / chunk;
    const uint64_t dirtyChunks = std::max<uint64_t>(1, chunks / 100);
    for (int r = 0; r < reps; ++r) {
      push.push_back(pushCpu([&] { must(store->push(user, key, *object, ""), "push"); }));
      for (uint64_t i = 0; i < dirtyChunks; ++i) // spread over the value
        object->markDirty((i * (chunks / dirtyChunks)) * chunk, chunk);
      partial.push_back(
          timeIt([&] { must(store->pushPartial(user, key, *object, nullptr, ""), "partial"); }));
      object->setSyncedVersion(0); // the replica's bytes unknown: the whole value moves
      pull.push_back(timeIt([&] { must(store->pull(user, key, *object), "pull"); }));
      unchanged.push_back(timeIt([&] { must(store->pull(user, key, *object), "pull"); }));
      lock.push_back(timeIt([&] {
        st::GlobalLease lease;
        must(store->lockGlobal(user, key, true, lease), "lock");
        store->unlockGlobal(user, key, lease);
      }));
      rawSet.push_back(rawSetCpu([&] { raw.set("raw:" + key, data.data(), size); }));
      rawStream.push_back(timeIt([&] { raw.stream("raw:" + key, data.data(), size); }));
      rawGet.push_back(timeIt([&] { raw.get("raw:" + key, sink.data(), size); }));
      // A bare round trip right after the raw transfer (beside the store's
      // unchanged pull, which comes right after its full pull).
      rawPing.push_back(timeIt([&] { freeReplyObject(redisCommand(rc, "PING")); }));
      rawGetOverlap.push_back(timeIt([&] { raw.get("raw:" + key, sink.data(), size, true); }));
      copy.push_back(timeIt([&] { std::memcpy(sink.data(), data.data(), size); }));
      // CPU of the pulls apart from the timed ones: its INFO round trips
      // would otherwise come between a transfer and the round trip after it.
      object->setSyncedVersion(0);
      pullCpu([&] { must(store->pull(user, key, *object), "pull"); });
      rawGetCpu([&] { raw.get("raw:" + key, sink.data(), size); });
    }
    double pushT = median(push), partialT = median(partial), pullT = median(pull);
    double rawSetT = median(rawSet), rawGetT = median(rawGet);
    auto row = [&](const char* metric, double v, const char* unit) {
      std::printf("%-10llu %-28s %12.1f %10s\n", (unsigned long long)size, metric, v, unit);
    };
    row("full push", mb / pushT, "MB/s");
    row("raw SETRANGE floor", mb / rawSetT, "MB/s");
    row("push / floor", 100 * rawSetT / pushT, "%");
    row("raw streamed SETRANGE", mb / median(rawStream), "MB/s");
    row("push / streamed", 100 * median(rawStream) / pushT, "%");
    row("partial push (1% chunks)", partialT * 1e6, "us");
    row("partial / full push", 100 * partialT / pushT, "%");
    row("full pull", mb / pullT, "MB/s");
    row("raw GETRANGE floor", mb / rawGetT, "MB/s");
    row("pull / floor", 100 * rawGetT / pullT, "%");
    row("raw GETRANGE, 2 windows", mb / median(rawGetOverlap), "MB/s");
    row("pull / 2-window floor", 100 * median(rawGetOverlap) / pullT, "%");
    row("unchanged pull", median(unchanged) * 1e6, "us");
    row("raw PING after raw GETRANGE", median(rawPing) * 1e6, "us");
    row("lock + unlock", median(lock) * 1e6, "us");
    row("memcpy", mb / median(copy), "MB/s");
    row("cpu: push, client", median(pushCpu.client) * 1e6, "us");
    row("cpu: push, server", median(pushCpu.server) * 1e6, "us");
    row("cpu: raw SETRANGE, client", median(rawSetCpu.client) * 1e6, "us");
    row("cpu: raw SETRANGE, server", median(rawSetCpu.server) * 1e6, "us");
    row("cpu: pull, client", median(pullCpu.client) * 1e6, "us");
    row("cpu: pull, server", median(pullCpu.server) * 1e6, "us");
    row("cpu: raw GETRANGE, client", median(rawGetCpu.client) * 1e6, "us");
    row("cpu: raw GETRANGE, server", median(rawGetCpu.server) * 1e6, "us");
    std::fflush(stdout);
    pushMbs = mb / pushT;
    pullMbs = mb / pullT;
    rawMbs = 2 * mb / (rawSetT + rawGetT);
    partialRatio = partialT / pushT;
    unchangedUs = median(unchanged) * 1e6;
    lockUs = median(lock) * 1e6;
    store->local().remove(user, key);
  }
  std::printf("push_mb_s pull_mb_s raw_mb_s partial_1pct_ratio unchanged_pull_us lock_rtt_us\n");
  std::printf("%.1f %.1f %.1f %.4f %.1f %.1f\n", pushMbs, pullMbs, rawMbs, partialRatio,
              unchangedUs, lockUs);
  redisFree(rc);
  redisFree(gInfo);
  return 0;
}
