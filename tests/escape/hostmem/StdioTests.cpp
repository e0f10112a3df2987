// Escape class "Host functions and guest memory" (docs/Security.md), stdio:
// fds 0-2 are the host's own descriptors (faasm-run's stdout may be a file
// of the host's). The guest may read and write them as streams and nothing
// else: every call that would truncate, allocate, seek, sync, advise, stat
// or reconfigure the file answers as for a pipe and leaves it untouched.
#include "Hostile.h"

#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>

using namespace hostile;

namespace {

constexpr uint32_t kOut = 0x10, kIov = 0x20, kStat = 0x100, kFdstat = 0x200, kName = 0x300;
constexpr int32_t kEinval = 28, kEspipe = 70, kEnotsup = 58, kEnotdir = 54;

std::string contentOf(int fd) {
  std::string out(4096, '\0');
  ssize_t n = pread(fd, out.data(), out.size(), 0);
  out.resize(n > 0 ? size_t(n) : 0);
  return out;
}

} // namespace

TEST_CASE("stdio: the guest cannot truncate, grow, seek, sync or stat the host's file") {
  for (abi::BoundsMode mode : kModes) {
    INFO(std::string(modeName(mode)));
    std::string dir = tempDirectory();
    int file = open((dir + "/stdout.txt").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(file >= 0);
    REQUIRE(write(file, "hello\n", 6) == 6);
    int flagsBefore = fcntl(file, F_GETFL);
    Guest g(mode);
    for (int fd = 0; fd < 3; ++fd)
      g.wasi->stdioFds[fd] = file; // as faasm-run's would be with `> file 2>&1 < file`
    uint32_t iov[2] = {0x400, 4};
    g.put(kIov, iov, sizeof iov);
    g.put(0x400, std::string("bye\n"));
    g.put(kName, std::string("escape-hostmem-stdio-probe"));
    std::string probe = std::filesystem::current_path() / "escape-hostmem-stdio-probe";
    std::memset(g.mem() + kStat, 0xEE, 64);

    for (int32_t fd = 0; fd < 3; ++fd) {
      INFO(("fd " + std::to_string(fd)));
      CHECK(g.call("fd_filestat_set_size", {i32(fd), i64(0)}).value == kEinval);
      CHECK(g.call("fd_filestat_set_size", {i32(fd), i64(int64_t(1) << 40)}).value == kEinval);
      CHECK(g.call("fd_allocate", {i32(fd), i64(0), i64(int64_t(1) << 40)}).value == kEspipe);
      CHECK(g.call("fd_advise", {i32(fd), i64(0), i64(0), i32(4)}).value == kEspipe);
      CHECK(g.call("fd_seek", {i32(fd), i64(0), i32(0), i32(kOut)}).value == kEspipe);
      CHECK(g.call("fd_seek", {i32(fd), i64(-6), i32(2), i32(kOut)}).value == kEspipe);
      CHECK(g.call("fd_tell", {i32(fd), i32(kOut)}).value == kEspipe);
      CHECK(g.call("fd_pwrite", {i32(fd), i32(kIov), i32(1), i64(0), i32(kOut)}).value == kEspipe);
      CHECK(g.call("fd_pread", {i32(fd), i32(kIov), i32(1), i64(0), i32(kOut)}).value == kEspipe);
      CHECK(g.call("fd_sync", {i32(fd)}).value == kEinval);
      CHECK(g.call("fd_datasync", {i32(fd)}).value == kEinval);
      CHECK(g.call("fd_fdstat_set_flags", {i32(fd), i32(4)}).value == kEnotsup); // NONBLOCK
      // A directory operation relative to stdio: not a directory, nothing made.
      CHECK(g.call("path_open", {i32(fd), i32(0), i32(kName), i32(26), i32(1), i64(0x7f), i64(0x7f),
                                 i32(0), i32(kOut)})
                .value == kEnotdir);
      CHECK(g.call("path_create_directory", {i32(fd), i32(kName), i32(26)}).value == kEnotdir);
      CHECK_FALSE(std::filesystem::exists(probe));
      // fd_filestat_get: a stream with nothing of the host file (no device,
      // inode, size or times).
      CHECK(g.call("fd_filestat_get", {i32(fd), i32(kStat)}).succeeded());
      for (int i = 0; i < 64; ++i)
        CHECK(g.mem()[kStat + i] == 0);
      // fd_fdstat_get: never a regular file, no right to seek, tell,
      // advise, allocate or set the size.
      CHECK(g.call("fd_fdstat_get", {i32(fd), i32(kFdstat)}).succeeded());
      CHECK(g.mem()[kFdstat] != 4);
      uint64_t rights;
      std::memcpy(&rights, g.mem() + kFdstat + 8, 8);
      CHECK((rights & ((1u << 2) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 22))) == 0);
    }
    CHECK(contentOf(file) == "hello\n");
    struct stat st{};
    REQUIRE(fstat(file, &st) == 0);
    CHECK(st.st_size == 6);
    CHECK(st.st_blocks <= 8); // nothing allocated behind the guest's back
    CHECK(fcntl(file, F_GETFL) == flagsBefore);
    CHECK(lseek(file, 0, SEEK_CUR) == 6);
    // What stdio is for still works: a write goes where the stream is.
    CHECK(g.call("fd_write", {i32(1), i32(kIov), i32(1), i32(kOut)}).succeeded());
    CHECK(contentOf(file) == "hello\nbye\n");
    close(file);
    std::filesystem::remove_all(dir);
  }
}
