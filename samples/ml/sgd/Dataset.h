// The SGD data set: a sparse matrix in CSR form with RCV1's shape (781,265
// rows x 47,236 columns, ~0.16% dense) and labels +-1, made deterministically
// by generateDataset and kept as one state value (or file) per array:
//
//   sgd-meta     DatasetMeta (below)
//   sgd-rowptr   int32 x (rows + 1): row r is entries [rowptr[r], rowptr[r+1])
//   sgd-cols     int32 x nnz: column of each entry, ascending within a row
//   sgd-values   float32 x nnz: TF-IDF-like, positive, each row of L2 norm 1
//   sgd-labels   int8 x rows: +1 or -1
//
// All little-endian (wasm32 and x86-64 alike), no padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ml::sgd {

constexpr uint32_t kRcv1Rows = 781265;
constexpr uint32_t kRcv1Cols = 47236;

inline constexpr const char* kMetaKey = "sgd-meta";
inline constexpr const char* kRowptrKey = "sgd-rowptr";
inline constexpr const char* kColsKey = "sgd-cols";
inline constexpr const char* kValuesKey = "sgd-values";
inline constexpr const char* kLabelsKey = "sgd-labels";
inline constexpr const char* kWeightsKey = "sgd-weights";

constexpr uint32_t kDatasetMagic = 0x44475346; // "FSGD"
constexpr uint32_t kDatasetVersion = 1;

struct DatasetMeta {
  uint32_t magic = kDatasetMagic;
  uint32_t version = kDatasetVersion;
  uint32_t rows = 0;
  uint32_t cols = 0;
  uint64_t nnz = 0;
  uint64_t seed = 0;
  uint64_t checksum = 0; // datasetChecksum of the four arrays
};
static_assert(sizeof(DatasetMeta) == 40);

// Sizes in bytes of the arrays a meta describes.
inline size_t rowptrBytes(const DatasetMeta& m) {
  return (size_t(m.rows) + 1) * 4;
}
inline size_t colsBytes(const DatasetMeta& m) {
  return size_t(m.nnz) * 4;
}
inline size_t valuesBytes(const DatasetMeta& m) {
  return size_t(m.nnz) * 4;
}
inline size_t labelsBytes(const DatasetMeta& m) {
  return m.rows;
}

// One line naming what is wrong with a meta read from state, or "" if it is
// usable (magic, version, and sizes that fit a wasm32 state value).
std::string checkMeta(const DatasetMeta& m);

struct Dataset {
  DatasetMeta meta;
  std::vector<int32_t> rowptr;
  std::vector<int32_t> cols;
  std::vector<float> values;
  std::vector<int8_t> labels;
};

struct GeneratorOptions {
  uint32_t rows = kRcv1Rows / 10; // the default scale: 1/10 of RCV1's rows, all its columns
  uint32_t cols = kRcv1Cols;
  uint64_t seed = 1;
  double meanNnz = 76.0;    // RCV1: ~60M entries over 781k rows
  double labelNoise = 0.05; // fraction of labels flipped
};

// Row r depends only on (seed, r, cols), so a smaller data set is a prefix of
// a larger one. Runs natively (it uses libm's log and exp, whose last bits
// differ between libcs); the bytes it makes are the artefact both sides load.
Dataset generateDataset(const GeneratorOptions& options);

// 64-bit checksum of the four arrays, as stored in DatasetMeta::checksum.
uint64_t datasetChecksum(const int32_t* rowptr, const int32_t* cols, const float* values,
                         const int8_t* labels, const DatasetMeta& m);

} // namespace ml::sgd
