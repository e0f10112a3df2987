#include "faasm/runner/StateCommand.h"

#include "faasm/log/Log.h"
#include "faasm/state/LocalState.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <iterator>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace faasm::runner {
namespace {

int fail(const std::string& problem) {
  std::fprintf(stderr, "faasm-run state: %s\n", problem.c_str());
  return 1;
}

std::string userAndKey(const StateCommand& c) {
  return "user \"" + log::printable(c.user) + "\", key \"" + log::printable(c.key) + "\"";
}

std::string quotaProblem(state::LocalStateStore& store, const StateCommand& c) {
  return userAndKey(c) + ": past the user's quota (" + std::to_string(store.quota()) + " bytes)";
}

// As root: from now on the uid and gid Faaslets run as, for good.
std::string becomeFaasletUser(const StateCommand& c) {
  if (::geteuid() != 0) return {};
  if (c.faasletUid == 0 || c.faasletGid == 0) return "--faaslet-uid and --faaslet-gid may not be 0";
  if (::setgroups(0, nullptr) != 0 || ::setresgid(c.faasletGid, c.faasletGid, c.faasletGid) != 0 ||
      ::setresuid(c.faasletUid, c.faasletUid, c.faasletUid) != 0)
    return std::string("cannot act as the Faaslet uid: ") + std::strerror(errno);
  return {};
}

bool readValue(const StateCommand& c, std::string& out, std::string& error) {
  if (c.valueFile.empty()) {
    out = c.value;
    return true;
  }
  if (c.valueFile == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(c.valueFile, std::ios::binary);
  if (!in) {
    error = "cannot read " + c.valueFile + ": " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) {
    error = "cannot read " + c.valueFile;
    return false;
  }
  return true;
}

int list(state::LocalStateStore& store, const StateCommand& c) {
  std::vector<std::vector<std::string>> rows = {{"USER", "KEY", "SIZE", "CHARGED"}};
  std::vector<std::string> users;
  if (c.userGiven) {
    users.push_back(c.user);
  } else {
    for (const state::LocalStateStore::UserUsage& u : store.users())
      users.push_back(u.user);
  }
  for (const std::string& user : users) {
    std::vector<state::LocalStateStore::KeyUsage> keys = store.keys(user);
    std::sort(keys.begin(), keys.end(), [](auto& a, auto& b) { return a.key < b.key; });
    for (const state::LocalStateStore::KeyUsage& k : keys) {
      // A key with only an append list has no value.
      state::StateObject* value = k.valueBytes ? store.open(user, k.key, false) : nullptr;
      rows.push_back({log::printable(user), log::printable(k.key),
                      value ? std::to_string(value->size()) : "-",
                      std::to_string(k.valueBytes + k.appendBytes)});
    }
  }
  std::vector<size_t> widths(4, 0);
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(widths[i] - row[i].size(), ' ');
      line += i == 0 ? "" : "  ";
      line += i >= 2 ? pad + row[i] : row[i] + (i + 1 < row.size() ? pad : "");
    }
    std::printf("%s\n", line.c_str());
  }
  return std::fflush(stdout) == 0 ? 0 : fail("cannot write the list");
}

int get(state::LocalStateStore& store, const StateCommand& c) {
  errno = 0;
  state::StateObject* object = store.open(c.user, c.key, false);
  if (!object)
    return fail(userAndKey(c) + ": " +
                (errno == ENOENT || errno == 0 ? "no such key" : std::strerror(errno)));
  int lock = object->lock(false);
  if (lock < 0) return fail(userAndKey(c) + ": cannot lock: " + std::strerror(errno));
  std::vector<uint8_t> bytes(object->size());
  bool read = object->read(0, bytes.data(), bytes.size());
  state::StateObject::unlock(lock);
  if (!read) return fail(userAndKey(c) + ": cannot read the value");
  if (c.hex) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    for (uint8_t b : bytes) {
      text += kDigits[b >> 4];
      text += kDigits[b & 15];
    }
    std::printf("%s\n", text.c_str());
  } else if (!bytes.empty()) {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  }
  return std::fflush(stdout) == 0 ? 0 : fail("cannot write the value");
}

int set(state::LocalStateStore& store, const StateCommand& c, const std::string& value) {
  errno = 0;
  state::StateObject* object = store.open(c.user, c.key, true);
  if (!object)
    return errno == EDQUOT ? fail(quotaProblem(store, c))
                           : fail(userAndKey(c) + ": " + std::strerror(errno));
  int lock = object->lock(true);
  if (lock < 0) return fail(userAndKey(c) + ": cannot lock: " + std::strerror(errno));
  const auto* data = reinterpret_cast<const uint8_t*>(value.data());
  errno = 0;
  bool ok = object->setSize(value.size()) && object->write(0, data, value.size());
  int error = errno;
  state::StateObject::unlock(lock);
  if (!ok)
    return error == EDQUOT ? fail(quotaProblem(store, c))
                           : fail(userAndKey(c) + ": cannot write: " + std::strerror(error));
  return 0;
}

int remove(state::LocalStateStore& store, const StateCommand& c) {
  if (c.allKeys) {
    if (!store.clearUser(c.user))
      return fail("user \"" + log::printable(c.user) + "\": " + std::strerror(errno));
    return 0;
  }
  // A key may be an append list alone; keys() names both kinds.
  bool exists = store.open(c.user, c.key, false) != nullptr;
  if (!exists)
    for (const state::LocalStateStore::KeyUsage& k : store.keys(c.user))
      exists |= k.key == c.key;
  if (!exists) return fail(userAndKey(c) + ": no such key");
  if (!store.remove(c.user, c.key)) return fail(userAndKey(c) + ": " + std::strerror(errno));
  return 0;
}

} // namespace

int runStateCommand(const StateCommand& command) {
  std::string value, error;
  if (command.action == StateCommand::Action::Set && !readValue(command, value, error))
    return fail(error);
  if (std::string problem = becomeFaasletUser(command); !problem.empty()) return fail(problem);
  // First used here, after the uid change: the store expects its
  // directories to belong to the uid it starts under.
  state::LocalStateStore& store = state::LocalStateStore::instance();
  switch (command.action) {
  case StateCommand::Action::List: return list(store, command);
  case StateCommand::Action::Get: return get(store, command);
  case StateCommand::Action::Set: return set(store, command, value);
  case StateCommand::Action::Delete: return remove(store, command);
  }
  return fail("unknown action");
}

} // namespace faasm::runner
