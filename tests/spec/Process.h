// Running the WABT command-line tools the spec runner and the fuzzer lean on.
#pragma once

#include <string>
#include <vector>

namespace faasm::spec {

// The full path of `program` found on PATH, or empty if it is not there.
std::string findOnPath(const std::string& program);

// Runs argv[0] (a path) with its output and error streams sent to
// `outputPath` (or discarded if empty). Returns the exit status, or -1 if it
// could not be started or died of a signal.
int runProgram(const std::vector<std::string>& argv, const std::string& outputPath = "");

// A fresh private directory under $TMPDIR (or /tmp), removed by the destructor.
class TempDir {
public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

bool readFile(const std::string& path, std::string& out);

} // namespace faasm::spec
