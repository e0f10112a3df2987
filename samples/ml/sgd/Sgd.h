// Linear SVM trained by HOGWILD SGD (Recht et al. 2011) on hinge loss: for
// each example (x, y), if y w.x < 1 then w += lr y x. Workers update the shared
// weights without locks; sparse rows make their writes rarely collide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ml::sgd {

// Rows [begin, end) of the data set, with the arrays as mapped: cols and
// values hold entries [entryBase, entryBase + their length) of the whole set.
struct Batch {
  uint32_t begin = 0, end = 0;
  const int32_t* rowptr = nullptr; // rowptr[0] is row `begin`'s
  const int32_t* cols = nullptr;
  const float* values = nullptr;
  const int8_t* labels = nullptr; // labels[0] is row `begin`'s
  int64_t entryBase = 0;
};

// One line naming what is wrong with a batch (rowptr not ascending, a column
// out of range, a value not finite, a label not +-1), or "". The weights are
// indexed by column without further checks, so a batch is checked before it
// is trained on. (It reads every byte of the batch, so a pass timed after it
// sees no first-touch page faults.)
std::string checkBatch(const Batch& batch, uint32_t cols);

struct PassResult {
  uint64_t examples = 0; // rows seen
  uint64_t updates = 0;  // rows whose margin was below 1 (so the weights changed)
  uint64_t correct = 0;  // rows classified right before their update
  double hinge = 0;      // sum of the hinge loss before each update
};

// Chunks of the weights that a worker has written, for partial pushes: 64
// bytes each, finer than any state chunk, so the platform's own chunk size
// decides what a push sends.
class DirtyChunks {
public:
  static constexpr uint32_t kChunkFloats = 16;
  explicit DirtyChunks(uint32_t cols) : dirty_((cols + kChunkFloats - 1) / kChunkFloats, 0) {}
  void mark(int32_t col) { dirty_[uint32_t(col) / kChunkFloats] = 1; }
  // Calls flag(firstFloat, floatCount) for each run of dirty chunks and clears them.
  void drain(uint32_t cols, const std::function<void(size_t, size_t)>& flag);

private:
  std::vector<uint8_t> dirty_;
};

// One HOGWILD pass over a checked batch in row order. After every
// `syncEvery` weight updates (one per entry of an updated row, as Faasm's
// SGD counted them: RCV1 has ~60M per epoch) it calls sync(), after which the
// weights may have changed under it.
PassResult hogwildPass(const Batch& batch, float* weights, float learningRate, DirtyChunks& dirty,
                       uint64_t syncEvery, const std::function<void()>& sync);

struct Evaluation {
  double hinge = 0; // mean hinge loss
  double accuracy = 0;
};

// Loss and accuracy of the weights over the whole (checked) data set.
Evaluation evaluate(const Batch& all, const float* weights, uint32_t cols);

} // namespace ml::sgd
