// A main for the fuzz targets in a build without libFuzzer (GCC, the normal
// build): runs the target on `--runs N` inputs made by a fixed-seed generator
// (random bytes, and random bytes spliced into the seed files given as
// arguments), so ctest can run each target briefly and reproducibly.
// A finding aborts, as under libFuzzer.
//
//   fuzz-TARGET [--runs N] [--seed S] [FILE|DIR ...]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  uint64_t runs = 1000, seed = 1;
  std::vector<std::vector<uint8_t>> seeds;
  auto addFile = [&](const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    seeds.emplace_back((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  };
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      runs = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::filesystem::is_directory(argv[i])) {
      for (const auto& entry : std::filesystem::directory_iterator(argv[i]))
        if (entry.is_regular_file()) addFile(entry.path());
    } else {
      addFile(argv[i]);
    }
  }
  std::mt19937_64 random(seed);
  for (const std::vector<uint8_t>& input : seeds)
    LLVMFuzzerTestOneInput(input.data(), input.size());
  std::vector<uint8_t> input;
  for (uint64_t run = 0; run < runs; ++run) {
    if (!seeds.empty() && run % 2) {
      input = seeds[random() % seeds.size()];
      size_t edits = 1 + random() % 8;
      for (size_t e = 0; e < edits && !input.empty(); ++e)
        input[random() % input.size()] = uint8_t(random());
    } else {
      input.resize(random() % 4096);
      for (uint8_t& byte : input)
        byte = uint8_t(random());
    }
    LLVMFuzzerTestOneInput(input.data(), input.size());
  }
  std::printf("%llu runs and %zu seeds, no finding\n", (unsigned long long)runs, seeds.size());
  return 0;
}
