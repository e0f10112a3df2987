#include "faasm/runner/ArtefactCache.h"

#include "faasm/abi/Artefact.h"
#include "faasm/abi/Sha256.h"
#include "faasm/codegenjob/CodegenJob.h"
#include "faasm/log/Log.h"
#include "faasm/runtime/Module.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace faasm::runner {
namespace {

using runtime::makeError;

// Bumped when what the key covers changes, so old entries are never hit.
constexpr const char* kKeyFormat = "faasm-run artefact cache 1";
// Code generation settings faasm-run does not let the user change, part of
// the key all the same: a change of faasm-run's defaults must miss.
constexpr const char* kFixedCodegenFlags = "-O2 --cpu=baseline";
constexpr auto kProgressDelay = std::chrono::milliseconds(500);

const char* boundsName(abi::BoundsMode bounds) {
  return bounds == abi::BoundsMode::Explicit ? "explicit" : "guard";
}

std::string errnoText() {
  return std::strerror(errno);
}

std::string baseName(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

bool isCacheFileName(const char* name, bool* isEntry) {
  size_t length = std::strlen(name);
  if (length < 67) return false;
  for (size_t i = 0; i < 64; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i])) ||
        std::isupper(static_cast<unsigned char>(name[i])))
      return false;
  if (std::strncmp(name + 64, ".so", 3) != 0) return false;
  *isEntry = length == 67; // else a temporary file of an interrupted compile
  return true;
}

// Makes `path` and its missing parents (mode 0700, as the XDG base
// directory specification asks of the cache directory).
bool makeDirectories(const std::string& path) {
  for (size_t slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    std::string prefix = path.substr(0, slash);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return false;
    if (slash == std::string::npos) return true;
  }
}

// The cache directory made if need be, and checked to be this user's alone:
// an entry someone else could replace would be their choice of our code.
std::string prepareCacheDirectory(const std::string& dir) {
  if (!makeDirectories(dir)) return "cannot create it: " + errnoText();
  struct stat st{};
  if (::lstat(dir.c_str(), &st) != 0) return "cannot read it: " + errnoText();
  if (!S_ISDIR(st.st_mode)) return "not a directory";
  if (st.st_uid != ::geteuid()) return "it belongs to uid " + std::to_string(st.st_uid);
  if (st.st_mode & 022) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
    return std::string("others may write to it (mode ") + mode + ")";
  }
  return {};
}

runtime::Expected<abi::Digest> digestOfFile(const std::string& path) {
  abi::Digest digest{};
  if (codegenjob::digestOfFile(path, digest)) return digest;
  return makeError(errno == ENOENT ? "no such file" : "cannot read: " + errnoText());
}

std::string cacheKey(const abi::Digest& input, const struct stat& codegen, abi::BoundsMode bounds) {
  std::string text =
      std::string(kKeyFormat) + "\ninput " + abi::hexOf(input) + "\nfaasm " + FAASM_VERSION +
      " abi " + std::to_string(abi::kAbiVersion) + "\ncodegen " + std::to_string(codegen.st_dev) +
      " " + std::to_string(codegen.st_ino) + " " + std::to_string(codegen.st_size) + " " +
      std::to_string(codegen.st_mtim.tv_sec) + "." + std::to_string(codegen.st_mtim.tv_nsec) + " " +
      std::to_string(codegen.st_ctim.tv_sec) + "." + std::to_string(codegen.st_ctim.tv_nsec) +
      "\nbounds " + boundsName(bounds) + " " + kFixedCodegenFlags + "\n";
  abi::Sha256 sha;
  sha.update(text.data(), text.size());
  return abi::hexOf(sha.finish());
}

// A line on stderr while a compile runs, for a person at a terminal.
class ProgressLine {
public:
  explicit ProgressLine(std::string text) : text_(std::move(text)) {}
  ~ProgressLine() { clear(); }
  void show() {
    if (shown_) return;
    std::string line = text_ + "\xe2\x80\xa6"; // U+2026
    shown_ = ::write(STDERR_FILENO, line.data(), line.size()) > 0;
  }
  void clear() {
    if (!shown_) return;
    static constexpr char kClear[] = "\r\033[K";
    ssize_t ignored = ::write(STDERR_FILENO, kClear, sizeof kClear - 1);
    (void)ignored;
    shown_ = false;
  }

private:
  std::string text_;
  bool shown_ = false;
};

// faasm-codegen <input> -o <output> --bounds=<mode>, under the limits the
// worker compiles uploads with (codegenjob). Returns its one-line complaint
// without the "faasm-codegen: <input>: " it starts with, or why it did not
// run; empty when it wrote `output`.
std::string runCodegen(const std::string& codegen, const std::string& input,
                       const std::string& output, abi::BoundsMode bounds) {
  ProgressLine progress("compiling " + baseName(input) + " (" + boundsName(bounds) + ")");
  codegenjob::Progress shown;
  shown.after = kProgressDelay;
  if (::isatty(STDERR_FILENO) == 1) shown.show = [&progress] { progress.show(); };
  codegenjob::Outcome outcome =
      codegenjob::compile(codegen, input, output, {std::string("--bounds=") + boundsName(bounds)},
                          codegenjob::Limits{}, shown);
  progress.clear();
  return outcome.ok ? std::string() : outcome.problem;
}

std::string stemOf(const std::string& input) {
  std::string base = baseName(input);
  size_t dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

runtime::Expected<std::unique_ptr<PreparedModule>>
compileUncached(const std::string& codegen, const std::string& input, abi::BoundsMode bounds) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/faasm-run.XXXXXX";
  if (!::mkdtemp(pattern.data()))
    return makeError("cannot make a temporary directory for the artefact: " + errnoText());
  // Owned from here: removed on every path out, the error ones included.
  auto prepared = std::make_unique<PreparedModule>(pattern + "/" + stemOf(input) + ".so", pattern);
  std::string error = runCodegen(codegen, input, prepared->artefact(), bounds);
  if (!error.empty()) return makeError(error);
  FAASM_LOG(Debug, "%s: compiled without the cache to %s", input.c_str(),
            prepared->artefact().c_str());
  return prepared;
}

} // namespace

PreparedModule::~PreparedModule() {
  if (temporaryDir_.empty()) return;
  // faasm-codegen's own temporaries are gone once it exits: only the artefact.
  ::unlink(artefact_.c_str());
  ::rmdir(temporaryDir_.c_str());
}

ModuleKind moduleKindOf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ModuleKind::Artefact;
  char head[64];
  ssize_t n = ::read(fd, head, sizeof head);
  ::close(fd);
  if (n >= 4 && std::memcmp(head, "\0asm", 4) == 0) return ModuleKind::Wasm;
  if (n >= 4 && std::memcmp(head,
                            "\x7f"
                            "ELF",
                            4) == 0)
    return ModuleKind::Artefact;
  if (path.ends_with(".wat")) return ModuleKind::Wat;
  ssize_t i = 0;
  while (i < n && std::isspace(static_cast<unsigned char>(head[i])))
    ++i;
  if (i < n && head[i] == '(') return ModuleKind::Wat;
  if (i + 1 < n && head[i] == ';' && head[i + 1] == ';') return ModuleKind::Wat;
  return ModuleKind::Artefact;
}

std::string cacheDirectory() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && xdg[0] == '/')
    return std::string(xdg) + "/faasm";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/faasm";
  return {};
}

std::string codegenPath() {
  if (const char* env = std::getenv("FAASM_CODEGEN"); env && *env) return env;
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "faasm-codegen";
  std::string exe(self, size_t(n));
  return exe.substr(0, exe.rfind('/') + 1) + "faasm-codegen";
}

runtime::Expected<std::unique_ptr<PreparedModule>> prepareModule(const std::string& input,
                                                                 const CompileSettings& settings) {
  auto digest = digestOfFile(input);
  if (!digest) return digest.error();
  const std::string codegen = codegenPath();
  struct stat codegenStat{};
  if (::stat(codegen.c_str(), &codegenStat) != 0)
    return makeError("cannot compile: no faasm-codegen at " + codegen + " (" + errnoText() + ")");
  if (!settings.useCache) return compileUncached(codegen, input, settings.bounds);

  const std::string dir = cacheDirectory();
  if (dir.empty()) {
    FAASM_LOG(Warn,
              "no cache directory (neither XDG_CACHE_HOME nor HOME is set): compiling %s "
              "without the cache",
              input.c_str());
    return compileUncached(codegen, input, settings.bounds);
  }
  if (std::string problem = prepareCacheDirectory(dir); !problem.empty()) {
    FAASM_LOG(Warn, "cache directory %s: %s; compiling %s without the cache", dir.c_str(),
              problem.c_str(), input.c_str());
    return compileUncached(codegen, input, settings.bounds);
  }

  const std::string entry =
      dir + "/" + cacheKey(digest.value(), codegenStat, settings.bounds) + ".so";
  if (::access(entry.c_str(), F_OK) == 0) {
    // A text module's seal names the binary faasm-codegen assembled, which
    // this process cannot make: only a binary input's source is compared.
    auto identity = runtime::checkArtefact(entry);
    std::string problem;
    if (!identity)
      problem = identity.error().message;
    else if (moduleKindOf(input) == ModuleKind::Wasm &&
             !abi::equalDigests(identity.value().sourceDigest, digest.value()))
      problem = "its seal names another source than this module";
    if (problem.empty()) {
      FAASM_LOG(Debug, "%s: cache hit: %s", input.c_str(), entry.c_str());
      return std::make_unique<PreparedModule>(entry);
    }
    FAASM_LOG(Warn, "%s: cache entry %s refused, compiling it again: %s", input.c_str(),
              entry.c_str(), problem.c_str());
    ::unlink(entry.c_str());
  }

  FAASM_LOG(Debug, "%s: cache miss: compiling to %s", input.c_str(), entry.c_str());
  auto start = std::chrono::steady_clock::now();
  if (std::string error = runCodegen(codegen, input, entry, settings.bounds); !error.empty())
    return makeError(error);
  struct stat st{};
  ::stat(entry.c_str(), &st);
  FAASM_LOG(Debug, "%s: compiled in %.2f s, %llu KiB", input.c_str(),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            (unsigned long long)((st.st_size + 1023) / 1024));
  return std::make_unique<PreparedModule>(entry);
}

namespace {

runtime::Expected<CacheSummary> walkCache(bool remove) {
  CacheSummary summary;
  summary.directory = cacheDirectory();
  if (summary.directory.empty())
    return makeError("no cache directory (neither XDG_CACHE_HOME nor HOME is set)");
  DIR* dir = ::opendir(summary.directory.c_str());
  if (!dir) {
    if (errno == ENOENT) return summary;
    return makeError(summary.directory + ": " + errnoText());
  }
  int dirFd = ::dirfd(dir);
  std::string failure;
  while (dirent* e = ::readdir(dir)) {
    bool isEntry = false;
    if (!isCacheFileName(e->d_name, &isEntry)) continue;
    struct stat st{};
    if (::fstatat(dirFd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISDIR(st.st_mode)) continue;
    if (remove && ::unlinkat(dirFd, e->d_name, 0) != 0) {
      if (failure.empty()) failure = summary.directory + "/" + e->d_name + ": " + errnoText();
      continue;
    }
    summary.entries += isEntry ? 1 : 0;
    summary.bytes += uint64_t(st.st_size);
  }
  ::closedir(dir);
  if (!failure.empty()) return makeError("cannot remove " + failure);
  return summary;
}

} // namespace

runtime::Expected<CacheSummary> summariseCache() {
  return walkCache(false);
}

runtime::Expected<CacheSummary> clearCache() {
  return walkCache(true);
}

} // namespace faasm::runner
