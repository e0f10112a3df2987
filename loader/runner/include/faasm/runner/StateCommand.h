// `faasm-run state ...`: the local state tier (host-interface/state) from the
// command line, for an operator: what each user holds, one value read or
// written, keys deleted. It works on the store Faaslets of this host use
// ($FAASM_STATE_DIR, default /dev/shm), through LocalStateStore's public API
// only.
//
// As root it acts as the uid and gid Faaslets run as (--faaslet-uid/gid,
// default 65534): their state directories are theirs (docs/Isolation.md),
// and a key it creates must stay usable by them. It reads a --file value
// first, then gives up root for good.
#pragma once

#include "faasm/api/Faasm.h"

#include <cstdint>
#include <string>

namespace faasm::runner {

struct StateCommand {
  enum class Action { List, Get, Set, Delete };
  Action action = Action::List;
  std::string user = api::kDefaultUser;
  bool userGiven = false; // list: only this user's keys (else every user's)
  std::string key;
  bool hex = false;      // get: print the value as hex digits and a newline
  std::string value;     // set: the value ...
  std::string valueFile; // ... or the file it is read from ("-": stdin)
  bool allKeys = false;  // delete: every key of the user
  uint32_t faasletUid = 65534;
  uint32_t faasletGid = 65534;
};

// Runs it, prints what it asks for on stdout, and returns the exit status:
// 0, or 1 after one line "faasm-run state: <problem>" on stderr (no such
// key, past the user's quota, a file that cannot be read, ...).
//
//   list     USER KEY SIZE CHARGED, one line per key: the value's size in
//            bytes ("-" for a key with only an append list) and the bytes
//            its files are charged to the user's quota; a byte of a name
//            other than printable ASCII (or a backslash) shows as \xNN
//   get      the value's bytes, exactly (or --hex)
//   set      the value, replacing the old one whole
//   delete   the key (value and append list), or with allKeys every key
int runStateCommand(const StateCommand& command);

} // namespace faasm::runner
