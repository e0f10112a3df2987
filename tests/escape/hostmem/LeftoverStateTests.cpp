// Escape class "State tenancy" (docs/Security.md): state a killed Faaslet
// left behind stays charged to its user, so it cannot pile up past the
// quota, and the library can list it and clear it (what a CLI will call).
#include "Hostile.h"

#include "faasm/state/LocalState.h"

#include <filesystem>
#include <signal.h>
#include <sys/wait.h>

using namespace hostile;
namespace st = faasm::state;

namespace {

constexpr uint32_t kKey = 0x100, kData = 0x1000;

Outcome writeState(Guest& g, const std::string& key, uint32_t length) {
  g.put(kKey, key.c_str(), key.size() + 1);
  std::memset(g.mem() + kData, 'v', length);
  return g.call("faasmWriteState", {i32(kKey), i32(kData), i32(length)});
}

} // namespace

TEST_CASE("state: what a killed Faaslet left is charged, listed and cleared") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = freshStateDirectory();
    api::setStateQuota(256 << 10);
    st::LocalStateStore& store = st::LocalStateStore::instance();
    // A Faaslet of "carol" fills most of her quota, then is killed (as the
    // OOM killer would) with its state still in the state directory.
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      Guest g(mode, "carol");
      bool ok = writeState(g, "a", 60 << 10).ok() && writeState(g, "b", 60 << 10).ok() &&
                writeState(g, "c", 60 << 10).ok();
      if (ok) raise(SIGKILL);
      _exit(1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFSIGNALED(status));
    CHECK(store.usage("carol") == 3 * (st::kHeaderBytes + kPage));
    std::vector<std::string> keys;
    for (const auto& k : store.keys("carol")) {
      keys.push_back(k.key);
      CHECK(k.valueBytes == st::kHeaderBytes + kPage);
    }
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"a", "b", "c"});
    bool listed = false;
    for (const auto& u : store.users())
      if (u.user == "carol") {
        listed = true;
        CHECK(u.bytes == 3 * (st::kHeaderBytes + kPage));
        CHECK(u.files == 3);
      }
    CHECK(listed);
    // The next Faaslet of carol's cannot pile more on top.
    Guest g(mode, "carol");
    CHECK(writeState(g, "d", 60 << 10).trap == abi::TrapCode::HostError);
    // Cleared, the quota is hers again.
    CHECK(store.clearUser("carol"));
    CHECK(store.usage("carol") == 0);
    CHECK(store.keys("carol").empty());
    CHECK(writeState(g, "d", 60 << 10).ok());
    CHECK(store.usage("carol") == st::kHeaderBytes + kPage);
    api::setStateQuota(uint64_t(1) << 30);
    std::filesystem::remove_all(dir);
  }
}

// Long keys are named by their SHA-256, and still listed by their name.
TEST_CASE("state: long keys are listed under their own name") {
  std::string dir = freshStateDirectory();
  Guest g(abi::BoundsMode::Guard, "dave");
  std::string longKey(300, 'k');
  longKey += "/../x";
  REQUIRE(writeState(g, longKey, 10).ok());
  auto keys = st::LocalStateStore::instance().keys("dave");
  REQUIRE(keys.size() == 1);
  CHECK(keys[0].key == longKey);
  std::filesystem::remove_all(dir);
}
