// The global tier of Faasm state on Redis, behind state::StateStore: every
// host keeps its replica in the local tier (LocalStateStore) and moves
// values to and from Redis on push and pull. See docs/State.md.
//
// ---------------------------------------------------------------------------
// CONSISTENCY-CRITICAL: what another host can see of a value, and whether an
// update can be lost, rests on the key layout and the scripts of
// RedisStore.cpp, which this banner summarises.
//
// Keys of user u's key k, all sharing the hash tag {U/K} (one Redis Cluster
// slot, so a script may touch them together):
//   faasm:{U/K}:v      the value (a string)
//   faasm:{U/K}:m      hash: e (epoch, random per life of the key), n (the
//                      version counter, bumped by every write), f (fencing
//                      counter), ab (bytes in the append list)
//   faasm:{U/K}:w      the write lease: its token, expiring with the lease
//   faasm:{U/K}:r      the read leases: sorted set token -> expiry (ms)
//   faasm:{U/K}:a      the append list
//   faasm:{U/K}:s:<id> a push being staged (expires if never committed)
//   faasm:{U/K}:x      the value the last staged push replaced, kept 60 s
//                      to become the next push's stage (its memory reused)
// U and K are encodeName(u), encodeName(k): bytes other than [A-Za-z0-9_-]
// as %XX, the empty string as "%". They hold no '{', '}', '/' or ':', and
// the encoding is one to one, so no (user, key) can name another's keys.
//
// Every write of the value is one script that also bumps n: a full push
// stages its chunks in a key of its own and a script renames it over the
// value (O(1)); a partial push is one script of SETRANGEs. No stage missing
// a chunk is ever renamed in: up to RedisOptions::appendPushBytes its chunks
// are APPENDed in order, so a refused one leaves it short of the length the
// commit checks; larger, it is sized at once and the commit is sent only
// after every chunk's reply. A pull reads
// (e, n), then the chunks, then (e, n) again in one pipeline: equal means
// no write came between, else it retries, then falls back to one script.
// The chunks are received (by the store's own reader, not hiredis's) into a
// private buffer and reach the replica only after that check; a reply that
// is not the chunk asked for fails the pull and drops the connection, so
// that no later call reads a reply that was not its own.
// A push under a write lease carries its token, and its script compares it
// with faasm:{U/K}:w before writing anything: a lease that expired (a
// stalled or killed holder) refuses its holder's pushes.
// ---------------------------------------------------------------------------
#pragma once

#include "faasm/state/StateStore.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace faasm::redis {

struct Endpoint {
  std::string host;
  uint16_t port = 6379;
  std::string text() const { return host + ":" + std::to_string(port); }
};

// "host:port" (port 1..65535), or nullopt with `error` saying what is wrong.
std::optional<Endpoint> parseEndpoint(std::string_view text, std::string& error);

struct RedisOptions {
  Endpoint endpoint;
  // Each socket read or write; a Redis slower than this is an error.
  std::chrono::milliseconds timeout{5000};
  // How long a global lock is held unless its holder pushes (which renews it).
  std::chrono::milliseconds lease{10000};
  // How long lockGlobal waits for a lock before giving up.
  std::chrono::milliseconds lockWait{60000};
  // Staged pushes and pulled chunks move this many bytes per command.
  uint64_t chunkBytes = 256 << 10;
  // Values up to this size are pushed by one script carrying the bytes (the
  // server copies them once more, but a staged push costs two more scripts).
  uint64_t directPushBytes = 256 << 10;
  // Larger values up to this size are staged by APPENDs with the commit in the
  // same round trip (their stage grows in Redis, a few reallocations); larger
  // still, into a stage sized at once, the commit after the chunks' replies.
  uint64_t appendPushBytes = 4 << 20;
};

// Options for `endpoint` with $FAASM_REDIS_TIMEOUT_MS, $FAASM_STATE_LEASE_MS
// and $FAASM_STATE_LOCK_WAIT_MS where set (positive integers).
RedisOptions optionsFromEnvironment(Endpoint endpoint);

// The local tier plus Redis. Connects on first use, and again after a
// failure; never from a process that installed a connection source.
std::unique_ptr<state::StateStore> makeRedisStore(RedisOptions options);

// The key names (for tests and administration).
std::string encodeName(std::string_view bytes);
std::string keyPrefix(std::string_view user, std::string_view key); // "faasm:{U/K}"

} // namespace faasm::redis
