// Trains the linear SVM: zeroes the weights, then for each epoch chains one
// sgd-step call per worker (each a contiguous batch of rows), awaits them,
// and evaluates loss and accuracy over the whole data set.
// Input (all optional): "workers=5 epochs=20 lr=0.1 decay=1 sync=60000 eval=1"
//   the learning rate of epoch e (from 1) is lr * decay^(e-1) (Faasm's runs
//   used decay 0.8; the default keeps it constant); sync is the number of
//   weight updates between a worker's pushes; eval=0 evaluates after the last
//   epoch only.
// Output: one JSON line, e.g.
//   {"rows":78126,"cols":47236,"nnz":...,"workers":5,"lr":0.1,"sync":60000,
//    "epochs":[{"epoch":1,"train_s":..,"pass_s":..,"pass_cpu_s":..,"updates":..,
//               "train_hinge":..,
//               "eval_s":..,"loss":..,"accuracy":..},...],
//    "train_s":..,"loss":..,"accuracy":..}
// train_s is the epoch's wall time (chaining, the workers, awaiting them);
// pass_s (pass_cpu_s) the slowest worker's pass alone (its CPU time); train_hinge the mean hinge
// loss the workers saw during the epoch; loss and accuracy are the weights' after it.
#include "../platform/Params.h"
#include "../platform/Platform.h"
#include "Dataset.h"
#include "Sgd.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

using namespace ml;
using namespace ml::sgd;

namespace {

constexpr int kMaxWorkers = 256;

struct StepOutput {
  uint64_t examples = 0, updates = 0, correct = 0;
  double hinge = 0, passSeconds = 0, passCpuSeconds = 0;
};

bool parseStep(const std::string& text, StepOutput& out) {
  Params p(text);
  out.examples = uint64_t(p.number("examples", -1));
  out.updates = uint64_t(p.number("updates", 0));
  out.correct = uint64_t(p.number("correct", 0));
  out.hinge = p.number("hinge", 0);
  out.passSeconds = p.number("pass_s", 0);
  out.passCpuSeconds = p.number("pass_cpu_s", 0);
  return p.error().empty() && p.number("examples", -1) >= 0;
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buffer[512];
  va_list args;
  va_start(args, fmt);
  int n = std::vsnprintf(buffer, sizeof buffer, fmt, args);
  va_end(args);
  return std::string(buffer, size_t(n < 0 ? 0 : n));
}

} // namespace

int functionMain() {
  Params params(platform::input());
  const int workers = int(params.number("workers", 5));
  const int epochs = int(params.number("epochs", 20));
  const double learningRate = params.number("lr", 0.1);
  const double decay = params.number("decay", 1);
  const double syncEvery = params.number("sync", 60000);
  const bool evalEvery = params.number("eval", 1) != 0;
  if (!params.error().empty()) {
    std::fprintf(stderr, "sgd-main: %s\n", params.error().c_str());
    return 2;
  }
  if (workers < 1 || workers > kMaxWorkers || epochs < 1 || !(learningRate > 0) ||
      !(decay > 0 && decay <= 1) || !(syncEvery >= 1)) {
    std::fprintf(stderr,
                 "sgd-main: want 1 <= workers <= %d, epochs >= 1, lr > 0, 0 < decay <= 1, "
                 "sync >= 1\n",
                 kMaxWorkers);
    return 2;
  }
  DatasetMeta meta;
  if (platform::stateSize(kMetaKey) != sizeof meta) {
    std::fprintf(stderr, "sgd-main: no data set in state (run sgd-load)\n");
    return 3;
  }
  platform::readState(kMetaKey, &meta, sizeof meta);
  if (std::string bad = checkMeta(meta); !bad.empty()) {
    std::fprintf(stderr, "sgd-main: %s\n", bad.c_str());
    return 3;
  }
  if (uint32_t(workers) > meta.rows) {
    std::fprintf(stderr, "sgd-main: more workers than rows\n");
    return 2;
  }

  Batch all;
  all.end = meta.rows;
  all.rowptr = reinterpret_cast<const int32_t*>(
      platform::mapStateRange(kRowptrKey, rowptrBytes(meta), 0, rowptrBytes(meta)));
  all.cols = reinterpret_cast<const int32_t*>(
      platform::mapStateRange(kColsKey, colsBytes(meta), 0, colsBytes(meta)));
  all.values = reinterpret_cast<const float*>(
      platform::mapStateRange(kValuesKey, valuesBytes(meta), 0, valuesBytes(meta)));
  all.labels = reinterpret_cast<const int8_t*>(
      platform::mapStateRange(kLabelsKey, labelsBytes(meta), 0, labelsBytes(meta)));
  if (all.rowptr[meta.rows] != int64_t(meta.nnz)) {
    std::fprintf(stderr, "sgd-main: sgd-rowptr does not end at nnz\n");
    return 3;
  }
  if (std::string bad = checkBatch(all, meta.cols); !bad.empty()) {
    std::fprintf(stderr, "sgd-main: %s\n", bad.c_str());
    return 3;
  }

  const size_t weightBytes = size_t(meta.cols) * 4;
  std::vector<float> zeros(meta.cols, 0.0f);
  platform::writeState(kWeightsKey, zeros.data(), weightBytes);
  const float* weights =
      reinterpret_cast<const float*>(platform::mapState(kWeightsKey, weightBytes));

  std::string json =
      format("{\"rows\":%u,\"cols\":%u,\"nnz\":%" PRIu64
             ",\"workers\":%d,\"lr\":%g,\"decay\":%g,\"sync\":%.0f,\"epochs\":[",
             meta.rows, meta.cols, meta.nnz, workers, learningRate, decay, syncEvery);
  double trainSeconds = 0;
  Evaluation last;
  double epochRate = learningRate;
  for (int epoch = 1; epoch <= epochs; ++epoch, epochRate *= decay) {
    const double start = platform::now();
    std::vector<uint32_t> calls;
    for (int w = 0; w < workers; ++w) {
      uint64_t begin = uint64_t(meta.rows) * uint64_t(w) / uint64_t(workers);
      uint64_t end = uint64_t(meta.rows) * uint64_t(w + 1) / uint64_t(workers);
      std::string in = format("begin=%" PRIu64 " end=%" PRIu64 " lr=%.9g sync=%.0f", begin, end,
                              epochRate, syncEvery);
      uint32_t id = platform::chain("sgd-step", in);
      if (id == 0) {
        std::fprintf(stderr, "sgd-main: could not chain sgd-step\n");
        return 4;
      }
      calls.push_back(id);
    }
    StepOutput sum;
    for (size_t w = 0; w < calls.size(); ++w) {
      int rc = platform::await(calls[w]);
      StepOutput step;
      if (rc != 0 || !parseStep(platform::output(calls[w]), step)) {
        std::fprintf(stderr, "sgd-main: sgd-step %zu of epoch %d failed (return code %d)\n", w,
                     epoch, rc);
        return 4;
      }
      sum.examples += step.examples;
      sum.updates += step.updates;
      sum.correct += step.correct;
      sum.hinge += step.hinge;
      sum.passSeconds = std::max(sum.passSeconds, step.passSeconds);
      sum.passCpuSeconds = std::max(sum.passCpuSeconds, step.passCpuSeconds);
    }
    const double trained = platform::now();
    trainSeconds += trained - start;
    json += format(
        "%s{\"epoch\":%d,\"train_s\":%.6f,\"pass_s\":%.6f,\"pass_cpu_s\":%.6f,\"updates\":%" PRIu64
        ",\"train_hinge\":%.6f",
        epoch > 1 ? "," : "", epoch, trained - start, sum.passSeconds, sum.passCpuSeconds,
        sum.updates, sum.hinge / double(sum.examples ? sum.examples : 1));
    if (evalEvery || epoch == epochs) {
      platform::pull(kWeightsKey, weightBytes);
      last = evaluate(all, weights, meta.cols);
      json += format(",\"eval_s\":%.6f,\"loss\":%.9g,\"accuracy\":%.9g", platform::now() - trained,
                     last.hinge, last.accuracy);
    }
    json += "}";
  }
  json += format("],\"train_s\":%.6f,\"loss\":%.9g,\"accuracy\":%.9g}\n", trainSeconds, last.hinge,
                 last.accuracy);
  platform::setOutput(json);
  return 0;
}
