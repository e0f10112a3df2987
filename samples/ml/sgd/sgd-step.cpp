// A HOGWILD worker: one pass over its batch of the data set, updating the
// shared weights in place. Input: "begin=R end=R lr=F sync=N".
//   Faasm:  the weights are mapped with faasmReadStatePtr; co-located workers
//           write the same pages. Every `sync` weight updates (entries of
//           updated rows) and at the end the dirty chunks are pushed to the
//           global tier.
//   Native: the weights are a private replica pulled from Redis; every `sync`
//           weight updates and at the end the worker pulls, adds its updates
//           since the last sync to the pulled value and pushes its dirty
//           chunks (platform::syncHogwild).
// Output: "examples=N updates=N correct=N hinge=F pass_s=F pass_cpu_s=F"
// (the pass's wall and CPU time, with its syncs but without fetching the
// batch or the final push).
#include "../platform/Params.h"
#include "../platform/Platform.h"
#include "Dataset.h"
#include "Sgd.h"

#include <cinttypes>
#include <cstdio>

using namespace ml;
using namespace ml::sgd;

int functionMain() {
  Params params(platform::input());
  const double begin = params.number("begin", -1), end = params.number("end", -1);
  const float learningRate = float(params.number("lr", 0.1));
  const double syncEvery = params.number("sync", 60000);
  if (!params.error().empty()) {
    std::fprintf(stderr, "sgd-step: %s\n", params.error().c_str());
    return 2;
  }
  DatasetMeta meta;
  if (platform::stateSize(kMetaKey) != sizeof meta) {
    std::fprintf(stderr, "sgd-step: no data set in state (run sgd-load)\n");
    return 3;
  }
  platform::readState(kMetaKey, &meta, sizeof meta);
  if (std::string bad = checkMeta(meta); !bad.empty()) {
    std::fprintf(stderr, "sgd-step: %s\n", bad.c_str());
    return 3;
  }
  if (!(begin >= 0 && begin < end && end <= meta.rows) || !(syncEvery >= 1)) {
    std::fprintf(stderr, "sgd-step: want 0 <= begin < end <= %u and sync >= 1\n", meta.rows);
    return 2;
  }

  Batch batch;
  batch.begin = uint32_t(begin);
  batch.end = uint32_t(end);
  const uint32_t rows = batch.end - batch.begin;
  batch.rowptr = reinterpret_cast<const int32_t*>(platform::mapStateRange(
      kRowptrKey, rowptrBytes(meta), size_t(batch.begin) * 4, (size_t(rows) + 1) * 4));
  batch.entryBase = batch.rowptr[0];
  const int64_t entries = int64_t(batch.rowptr[rows]) - batch.entryBase;
  if (batch.entryBase < 0 || entries < 0 || uint64_t(batch.entryBase + entries) > meta.nnz) {
    std::fprintf(stderr, "sgd-step: sgd-rowptr: entries out of range\n");
    return 3;
  }
  const size_t entryOffset = size_t(batch.entryBase) * 4, entryBytes = size_t(entries) * 4;
  batch.cols = reinterpret_cast<const int32_t*>(
      platform::mapStateRange(kColsKey, colsBytes(meta), entryOffset, entryBytes));
  batch.values = reinterpret_cast<const float*>(
      platform::mapStateRange(kValuesKey, valuesBytes(meta), entryOffset, entryBytes));
  batch.labels = reinterpret_cast<const int8_t*>(
      platform::mapStateRange(kLabelsKey, labelsBytes(meta), batch.begin, rows));
  if (std::string bad = checkBatch(batch, meta.cols); !bad.empty()) {
    std::fprintf(stderr, "sgd-step: %s\n", bad.c_str());
    return 3;
  }

  const size_t weightBytes = size_t(meta.cols) * 4;
  float* weights = platform::mapHogwild(kWeightsKey, meta.cols);
  DirtyChunks dirty(meta.cols);
  auto flagDirty = [&] {
    dirty.drain(meta.cols, [&](size_t first, size_t count) {
      platform::flagDirty(kWeightsKey, weightBytes, first * 4, count * 4);
    });
  };
  const double passStart = platform::now(), passCpuStart = platform::cpuNow();
  PassResult result = hogwildPass(batch, weights, learningRate, dirty, uint64_t(syncEvery), [&] {
    flagDirty();
    platform::syncHogwild(kWeightsKey);
  });
  const double passSeconds = platform::now() - passStart;
  const double passCpuSeconds = platform::cpuNow() - passCpuStart;
  flagDirty();
  platform::syncHogwild(kWeightsKey);

  char out[160];
  int len = std::snprintf(out, sizeof out,
                          "examples=%" PRIu64 " updates=%" PRIu64 " correct=%" PRIu64
                          " hinge=%.9g pass_s=%.6f pass_cpu_s=%.6f",
                          result.examples, result.updates, result.correct, result.hinge,
                          passSeconds, passCpuSeconds);
  platform::setOutput(std::string_view(out, size_t(len)));
  return 0;
}
