// Puts a data set made by ml-datagen into state: input "dir=PATH" (default
// /data: under faasm-run, a preopen such as --dir HOST:/data). Each array file
// is read straight into its mapped state value, then pushed; the checksum in
// sgd-meta is verified. Output: "rows=N cols=N nnz=N".
#include "../platform/Params.h"
#include "../platform/Platform.h"
#include "Dataset.h"

#include <cinttypes>
#include <cstdio>
#include <string>

using namespace ml;
using namespace ml::sgd;

namespace {

// Reads file <dir>/<key> of exactly `len` bytes into the state value `key`;
// returns its mapped bytes, or nullptr after saying what went wrong.
uint8_t* loadArray(const std::string& dir, const char* key, size_t len) {
  std::string path = dir + "/" + key;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "sgd-load: %s: cannot open\n", path.c_str());
    return nullptr;
  }
  // Size 0 first, so that a larger earlier value does not keep its length.
  platform::writeState(key, nullptr, 0);
  uint8_t* p = len ? platform::mapState(key, len) : nullptr;
  size_t got = len ? std::fread(p, 1, len, f) : 0;
  bool longer = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != len || longer) {
    std::fprintf(stderr, "sgd-load: %s: not the %zu bytes sgd-meta says\n", path.c_str(), len);
    return nullptr;
  }
  platform::flagDirty(key, len, 0, len);
  platform::pushPartial(key);
  return p;
}

} // namespace

int functionMain() {
  Params params(platform::input());
  std::string dir = params.text("dir", "/data");
  if (!params.error().empty()) {
    std::fprintf(stderr, "sgd-load: %s\n", params.error().c_str());
    return 2;
  }
  DatasetMeta meta;
  std::string metaPath = dir + "/" + kMetaKey;
  FILE* f = std::fopen(metaPath.c_str(), "rb");
  if (!f || std::fread(&meta, sizeof meta, 1, f) != 1) {
    std::fprintf(stderr, "sgd-load: %s: cannot read\n", metaPath.c_str());
    if (f) std::fclose(f);
    return 3;
  }
  std::fclose(f);
  if (std::string bad = checkMeta(meta); !bad.empty()) {
    std::fprintf(stderr, "sgd-load: %s\n", bad.c_str());
    return 3;
  }
  platform::writeState(kMetaKey, nullptr, 0); // no stale meta describes a half-loaded set
  const uint8_t* rowptr = loadArray(dir, kRowptrKey, rowptrBytes(meta));
  const uint8_t* cols = rowptr ? loadArray(dir, kColsKey, colsBytes(meta)) : nullptr;
  const uint8_t* values = cols ? loadArray(dir, kValuesKey, valuesBytes(meta)) : nullptr;
  const uint8_t* labels = values ? loadArray(dir, kLabelsKey, labelsBytes(meta)) : nullptr;
  if (!labels) return 3;
  uint64_t sum = datasetChecksum(
      reinterpret_cast<const int32_t*>(rowptr), reinterpret_cast<const int32_t*>(cols),
      reinterpret_cast<const float*>(values), reinterpret_cast<const int8_t*>(labels), meta);
  if (sum != meta.checksum) {
    std::fprintf(stderr, "sgd-load: %s: checksum mismatch, the files are not one data set\n",
                 dir.c_str());
    return 3;
  }
  platform::writeState(kMetaKey, &meta, sizeof meta);
  char out[128];
  int len = std::snprintf(out, sizeof out, "rows=%u cols=%u nnz=%" PRIu64, meta.rows, meta.cols,
                          meta.nnz);
  platform::setOutput(std::string_view(out, size_t(len)));
  return 0;
}
