#include "Dataset.h"

#include "../platform/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ml::sgd {

namespace {

uint64_t hashBytes(uint64_t h, const void* data, size_t len) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    h = (h ^ word) * 0x100000001B3ull;
    h ^= h >> 29;
  }
  for (; i < len; ++i)
    h = (h ^ p[i]) * 0x100000001B3ull;
  return mix64(h ^ len);
}

// Word frequencies: a Zipf law of exponent 1 over the columns' ranks; a
// rank's column comes from a fixed permutation, so frequent features are
// spread over the index range as in a real vocabulary.
struct Vocabulary {
  std::vector<double> cdf;        // by rank
  std::vector<uint32_t> column;   // rank -> column
  std::vector<float> idf;         // by column
  std::vector<float> hiddenModel; // by column: the labelling model, ~30% non-zero

  Vocabulary(uint32_t cols, uint64_t seed, double meanTokens)
      : cdf(cols), column(cols), idf(cols), hiddenModel(cols) {
    double sum = 0;
    for (uint32_t r = 0; r < cols; ++r)
      sum += 1.0 / (r + 1);
    double acc = 0;
    for (uint32_t r = 0; r < cols; ++r) {
      acc += 1.0 / (r + 1) / sum;
      cdf[r] = acc;
    }
    cdf[cols - 1] = 1.0;
    for (uint32_t r = 0; r < cols; ++r)
      column[r] = r;
    Rng shuffle(seed ^ 0x5EEDC0105ull);
    for (uint32_t r = cols - 1; r > 0; --r)
      std::swap(column[r], column[shuffle.below(r + 1)]);
    for (uint32_t r = 0; r < cols; ++r) {
      // Fraction of documents holding the word, for a document of meanTokens tokens.
      double p = 1.0 / (r + 1) / sum;
      double documentFraction = -std::expm1(-meanTokens * p);
      idf[column[r]] = float(std::log1p(1.0 / documentFraction));
    }
    for (uint32_t c = 0; c < cols; ++c) {
      Rng rng(seed ^ mix64(0xB0D1E5ull + c));
      hiddenModel[c] = rng.uniform() < 0.3 ? float(rng.normal()) : 0.0f;
    }
  }

  uint32_t drawRank(Rng& rng) const {
    double u = rng.uniform();
    return uint32_t(std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
  }
};

} // namespace

std::string checkMeta(const DatasetMeta& m) {
  if (m.magic != kDatasetMagic || m.version != kDatasetVersion)
    return "sgd-meta: not a data set of this format (run sgd-load)";
  if (m.rows == 0 || m.cols == 0) return "sgd-meta: empty data set";
  if (m.nnz > uint64_t(INT32_MAX) / 4 || m.rows > uint32_t(INT32_MAX) / 4 - 1)
    return "sgd-meta: data set too large for a wasm32 state value";
  return "";
}

uint64_t datasetChecksum(const int32_t* rowptr, const int32_t* cols, const float* values,
                         const int8_t* labels, const DatasetMeta& m) {
  uint64_t h = 0xCBF29CE484222325ull;
  h = hashBytes(h, rowptr, rowptrBytes(m));
  h = hashBytes(h, cols, colsBytes(m));
  h = hashBytes(h, values, valuesBytes(m));
  return hashBytes(h, labels, labelsBytes(m));
}

Dataset generateDataset(const GeneratorOptions& options) {
  const uint32_t cols = options.cols;
  // Tokens a document of mean length draws (distinct words grow more slowly
  // than tokens under Zipf's law); only the IDF depends on it.
  const double meanTokens = options.meanNnz * 2.0;
  Vocabulary vocabulary(cols, options.seed, meanTokens);

  Dataset d;
  d.meta.rows = options.rows;
  d.meta.cols = cols;
  d.meta.seed = options.seed;
  d.rowptr.reserve(size_t(options.rows) + 1);
  d.cols.reserve(size_t(double(options.rows) * options.meanNnz * 1.05));
  d.values.reserve(d.cols.capacity());
  d.labels.reserve(options.rows);
  d.rowptr.push_back(0);

  std::vector<uint32_t> seenInRow(cols, 0); // row + 1 when the column was drawn in that row
  std::vector<uint32_t> termFrequency(cols, 0);
  std::vector<uint32_t> rowColumns;
  std::vector<std::pair<int32_t, float>> entries;
  // Document lengths: log-normal (sigma 0.8), as word counts of news stories.
  const double sigma = 0.8, mu = std::log(options.meanNnz) - sigma * sigma / 2;
  for (uint32_t row = 0; row < options.rows; ++row) {
    Rng rng(options.seed ^ mix64(0x90E5ull + row));
    double length = std::exp(mu + sigma * rng.normal());
    uint32_t distinct = uint32_t(std::clamp(length, 3.0, std::min(2000.0, cols / 2.0)));
    rowColumns.clear();
    while (rowColumns.size() < distinct) {
      uint32_t c = vocabulary.column[vocabulary.drawRank(rng)];
      if (seenInRow[c] != row + 1) {
        seenInRow[c] = row + 1;
        termFrequency[c] = 0;
        rowColumns.push_back(c);
      }
      ++termFrequency[c];
    }
    entries.clear();
    double norm2 = 0, score = 0;
    for (uint32_t c : rowColumns) {
      float v = float((1.0 + std::log(double(termFrequency[c]))) * vocabulary.idf[c]);
      entries.emplace_back(int32_t(c), v);
      norm2 += double(v) * v;
    }
    std::sort(entries.begin(), entries.end());
    float scale = float(1.0 / std::sqrt(norm2));
    for (auto& [c, v] : entries) {
      v *= scale;
      d.cols.push_back(c);
      d.values.push_back(v);
      score += double(vocabulary.hiddenModel[size_t(c)]) * v;
    }
    d.rowptr.push_back(int32_t(d.cols.size()));
    int8_t label = score >= 0 ? 1 : -1;
    if (rng.uniform() < options.labelNoise) label = int8_t(-label);
    d.labels.push_back(label);
  }
  d.meta.nnz = d.cols.size();
  d.meta.checksum =
      datasetChecksum(d.rowptr.data(), d.cols.data(), d.values.data(), d.labels.data(), d.meta);
  return d;
}

} // namespace ml::sgd
