// Writes the synthetic RCV1-shaped data set (Dataset.h) to a directory, one
// file per state value, for sgd-load.
//   ml-datagen DIR [--scale F | --rows N] [--seed N]
// Default: 1/10 of RCV1's rows (78,126), all 47,236 columns. Prints one line:
// rows, columns, entries, density, positive fraction and checksum.
#include "Dataset.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace ml::sgd;

namespace {

bool writeFile(const std::string& path, const void* data, size_t len) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return false;
  bool ok = std::fwrite(data, 1, len, f) == len;
  return std::fclose(f) == 0 && ok;
}

int usage() {
  std::fprintf(stderr, "usage: ml-datagen DIR [--scale F | --rows N] [--seed N]\n");
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string dir = argv[1];
  GeneratorOptions options;
  for (int i = 2; i + 1 < argc; i += 2) {
    double v = std::atof(argv[i + 1]);
    if (std::strcmp(argv[i], "--scale") == 0 && v > 0 && v <= 1) {
      options.rows = uint32_t(std::lround(kRcv1Rows * v));
    } else if (std::strcmp(argv[i], "--rows") == 0 && v >= 1 && v <= 100 * double(kRcv1Rows)) {
      options.rows = uint32_t(v);
    } else if (std::strcmp(argv[i], "--seed") == 0) {
      options.seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      return usage();
    }
  }
  if (argc % 2 != 0) return usage();
  Dataset d = generateDataset(options);
  if (std::string bad = checkMeta(d.meta); !bad.empty()) {
    std::fprintf(stderr, "ml-datagen: %s\n", bad.c_str());
    return 1;
  }
  bool ok = writeFile(dir + "/" + kRowptrKey, d.rowptr.data(), rowptrBytes(d.meta)) &&
            writeFile(dir + "/" + kColsKey, d.cols.data(), colsBytes(d.meta)) &&
            writeFile(dir + "/" + kValuesKey, d.values.data(), valuesBytes(d.meta)) &&
            writeFile(dir + "/" + kLabelsKey, d.labels.data(), labelsBytes(d.meta)) &&
            writeFile(dir + "/" + kMetaKey, &d.meta, sizeof d.meta);
  if (!ok) {
    std::fprintf(stderr, "ml-datagen: %s: cannot write the data set\n", dir.c_str());
    return 1;
  }
  uint64_t positive = 0;
  for (int8_t y : d.labels)
    positive += y > 0;
  std::printf("rows=%u cols=%u nnz=%" PRIu64 " density=%.5f%% positive=%.4f checksum=%016" PRIx64
              "\n",
              d.meta.rows, d.meta.cols, d.meta.nnz,
              100.0 * double(d.meta.nnz) / (double(d.meta.rows) * d.meta.cols),
              double(positive) / d.meta.rows, d.meta.checksum);
  return 0;
}
