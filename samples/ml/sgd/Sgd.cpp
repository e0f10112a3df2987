#include "Sgd.h"

#include <Eigen/SparseCore>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ml::sgd {

std::string checkBatch(const Batch& b, uint32_t cols) {
  const uint32_t rows = b.end - b.begin;
  if (b.rowptr[0] != b.entryBase) return "sgd: batch does not start at its first entry";
  for (uint32_t r = 0; r < rows; ++r)
    if (b.rowptr[r + 1] < b.rowptr[r]) return "sgd-rowptr: not ascending";
  const int64_t entries = b.rowptr[rows] - b.entryBase;
  uint32_t maxColumn = 0;
  for (int64_t k = 0; k < entries; ++k)
    maxColumn = std::max(maxColumn, uint32_t(b.cols[k]));
  if (entries > 0 && maxColumn >= cols) return "sgd-cols: a column index is out of range";
  // A NaN or infinity would spread through the shared weights to every worker.
  bool finite = true;
  for (int64_t k = 0; k < entries; ++k)
    finite &= std::fabs(b.values[k]) <= std::numeric_limits<float>::max();
  if (!finite) return "sgd-values: a value is not finite";
  for (uint32_t r = 0; r < rows; ++r)
    if (b.labels[r] != 1 && b.labels[r] != -1) return "sgd-labels: a label is not +1 or -1";
  return "";
}

void DirtyChunks::drain(uint32_t cols, const std::function<void(size_t, size_t)>& flag) {
  const size_t chunks = dirty_.size();
  for (size_t c = 0; c < chunks;) {
    if (!dirty_[c]) {
      ++c;
      continue;
    }
    size_t end = c;
    while (end < chunks && dirty_[end])
      dirty_[end++] = 0;
    size_t first = c * kChunkFloats, last = std::min(end * kChunkFloats, size_t(cols));
    flag(first, last - first);
    c = end;
  }
}

PassResult hogwildPass(const Batch& b, float* weights, float learningRate, DirtyChunks& dirty,
                       uint64_t syncEvery, const std::function<void()>& sync) {
  PassResult result;
  const uint32_t rows = b.end - b.begin;
  uint64_t sinceSync = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    const int32_t* cols = b.cols + (b.rowptr[r] - b.entryBase);
    const float* values = b.values + (b.rowptr[r] - b.entryBase);
    const int32_t n = b.rowptr[r + 1] - b.rowptr[r];
    float dot = 0;
    for (int32_t k = 0; k < n; ++k)
      dot += weights[cols[k]] * values[k];
    const float y = b.labels[r];
    const float margin = y * dot;
    result.correct += margin > 0 || (margin == 0 && y > 0);
    if (margin < 1) {
      result.hinge += 1.0 - double(margin);
      ++result.updates;
      const float step = learningRate * y;
      for (int32_t k = 0; k < n; ++k)
        weights[cols[k]] += step * values[k];
      for (int32_t k = 0; k < n; ++k)
        dirty.mark(cols[k]);
      sinceSync += uint64_t(n);
      if (sinceSync >= syncEvery) {
        sync();
        sinceSync = 0;
      }
    }
    ++result.examples;
  }
  return result;
}

Evaluation evaluate(const Batch& all, const float* weights, uint32_t cols) {
  const uint32_t rows = all.end - all.begin;
  const int64_t entries = all.rowptr[rows] - all.entryBase;
  using Matrix = Eigen::SparseMatrix<float, Eigen::RowMajor, int32_t>;
  Eigen::Map<const Matrix> x(int32_t(rows), int32_t(cols), entries, all.rowptr, all.cols,
                             all.values);
  Eigen::Map<const Eigen::VectorXf> w(weights, cols);
  Eigen::VectorXf scores = x * w;
  double hinge = 0;
  uint64_t correct = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    const float y = all.labels[r];
    const float margin = y * scores[r];
    hinge += std::max(0.0, 1.0 - double(margin));
    correct += margin > 0 || (margin == 0 && y > 0);
  }
  return {hinge / rows, double(correct) / rows};
}

} // namespace ml::sgd
