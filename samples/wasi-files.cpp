// Files and directories through WASI, inside one preopened directory:
//
//   wasi-files <dir> files    file I/O (stdio, dirent, mkdir/rename/unlink/
//                             rmdir, stat, seek). Debian's wasm32 libc++ is
//                             built with _LIBCPP_HAS_NO_FILESYSTEM, so there
//                             is no <fstream>: C++ code uses stdio for files.
//   wasi-files <dir> escape   raw WASI calls that try to leave the preopen;
//                             prints the errno each one gets
// <dir> is the preopen's guest path (faasm-run --dir HOST:<dir>).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

int files(const std::string& dir) {
  std::string sub = dir + "/sub";
  if (mkdir(sub.c_str(), 0755) != 0) return std::perror("mkdir"), 1;
  std::string a = sub + "/a.txt", b = sub + "/b.txt";
  if (FILE* f = std::fopen(a.c_str(), "w")) {
    std::fputs("hello\n", f);
    std::fclose(f);
  }
  if (FILE* f = std::fopen(a.c_str(), "a")) {
    std::fputs("world\n", f);
    std::fclose(f);
  }
  if (FILE* f = std::fopen(a.c_str(), "r")) {
    char line[64];
    while (std::fgets(line, sizeof line, f))
      std::cout << "read: " << line;
    std::fclose(f);
  }
  struct stat st{};
  stat(a.c_str(), &st);
  std::cout << "size: " << st.st_size << " regular: " << S_ISREG(st.st_mode) << "\n";
  if (FILE* f = std::fopen(a.c_str(), "r+")) {
    std::fseek(f, 6, SEEK_SET);
    std::fputs("WORLD", f);
    std::fseek(f, 0, SEEK_END);
    std::cout << "tell: " << std::ftell(f) << "\n";
    std::fclose(f);
  }
  if (rename(a.c_str(), b.c_str()) != 0) return std::perror("rename"), 1;
  if (FILE* f = std::fopen((sub + "/c.txt").c_str(), "w")) std::fclose(f);
  std::vector<std::string> names;
  if (DIR* d = opendir(sub.c_str())) {
    while (dirent* e = readdir(d))
      names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (auto& n : names)
    std::cout << "entry: " << n << "\n";
  std::string all;
  if (FILE* f = std::fopen(b.c_str(), "r")) {
    char chunk[16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
      all.append(chunk, n);
    std::fclose(f);
  }
  std::cout << "content: " << all.substr(0, all.size() - 1) << "\n";
  std::cout << "open missing: " << (std::fopen((sub + "/none").c_str(), "r") ? "yes" : "no")
            << "\n";
  std::cout << "rmdir non-empty: " << (rmdir(sub.c_str()) == 0 ? "ok" : "refused") << "\n";
  unlink(b.c_str());
  unlink((sub + "/c.txt").c_str());
  std::cout << "rmdir empty: " << (rmdir(sub.c_str()) == 0 ? "ok" : "refused") << "\n";
  return 0;
}

// Raw calls on the first preopen (fd 3), so that the host, not wasi-libc's
// path handling, decides.
int escape() {
  const __wasi_fd_t root = 3;
  const __wasi_rights_t read = __WASI_RIGHTS_FD_READ;
  auto open = [&](const char* path, __wasi_lookupflags_t lookup) {
    __wasi_fd_t fd = 0;
    return int(__wasi_path_open(root, lookup, path, 0, read, read, 0, &fd));
  };
  const char* paths[] = {"../outside.txt",       "/etc/passwd", "d/../../outside.txt",
                         "link-out/outside.txt", "link-out",    "link-up/outside.txt"};
  for (const char* p : paths)
    std::cout << "open " << p << ": " << open(p, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW) << "\n";
  std::cout << "open link-out nofollow: " << open("link-out", 0) << "\n";
  std::cout << "open inside.txt: " << open("inside.txt", 0) << "\n";
  __wasi_filestat_t st;
  std::cout << "stat ..: " << int(__wasi_path_filestat_get(root, 0, "..", &st)) << "\n";
  std::cout << "mkdir ../x: " << int(__wasi_path_create_directory(root, "../x")) << "\n";
  std::cout << "unlink link-out/outside.txt: "
            << int(__wasi_path_unlink_file(root, "link-out/outside.txt")) << "\n";
  std::cout << "rename inside.txt ../stolen.txt: "
            << int(__wasi_path_rename(root, "inside.txt", root, "../stolen.txt")) << "\n";
  std::cout << "rmdir ..: " << int(__wasi_path_remove_directory(root, "..")) << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::string mode = argv[2];
  if (mode == "files") return files(argv[1]);
  if (mode == "escape") return escape();
  return 2;
}
