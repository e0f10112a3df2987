// Classifies one image with MobileNet v1 whose weights are the state value
// mobilenet-weights (put there by mobilenet-load), mapped into memory and
// used in place: under Faasm every co-located Faaslet reads the same pages.
// Input: the image, 224x224x3 NHWC, as bytes (150,528) or float32 in [-1, 1]
// (602,112 bytes). Output: {"top5":[[class,score],...]}. Prints the
// inference time to stderr ("mobilenet-infer: inference N ms").
#include "../platform/Platform.h"
#include "MobileNet.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

using namespace ml;
using namespace ml::mobilenet;

namespace {

// The network over the mapped weights, made at the first call a Faaslet (or
// process) serves; a warm Faaslet's reset forgets it with the mapping.
Network* network() {
  static std::unique_ptr<Network> net;
  if (net) return net.get();
  const size_t size = platform::stateSize(kWeightsKey);
  if (size == 0) {
    std::fprintf(stderr, "mobilenet-infer: no weights in state (run mobilenet-load)\n");
    return nullptr;
  }
  const uint8_t* blob = platform::mapState(kWeightsKey, size);
  if (std::string bad = checkWeights(blob, size); !bad.empty()) {
    std::fprintf(stderr, "mobilenet-infer: %s\n", bad.c_str());
    return nullptr;
  }
  net = std::make_unique<Network>(blob);
  return net.get();
}

} // namespace

int functionMain() {
  std::string image = platform::input();
  if (image.size() != kImageValues && image.size() != kImageValues * sizeof(float)) {
    std::fprintf(stderr,
                 "mobilenet-infer: input: want %zu bytes (uint8) or %zu (float32), got %zu\n",
                 kImageValues, kImageValues * sizeof(float), image.size());
    return 2;
  }
  Network* net = network();
  if (!net) return 3;
  // FAASM_ML_REPEAT=N (faasm-run --env) classifies the image N times, to time
  // the network once its pages are in memory; the answer is the same.
  const char* repeatText = std::getenv("FAASM_ML_REPEAT");
  const int repeat = repeatText ? std::max(1, std::atoi(repeatText)) : 1;
  std::array<Prediction, 5> top5;
  for (int i = 0; i < repeat; ++i) {
    const double start = platform::now(), cpuStart = platform::cpuNow();
    if (image.size() == kImageValues) {
      top5 = net->classify(reinterpret_cast<const uint8_t*>(image.data()));
    } else {
      std::vector<float> pixels(kImageValues);
      std::memcpy(pixels.data(), image.data(), image.size());
      top5 = net->classify(pixels.data());
    }
    std::fprintf(stderr, "mobilenet-infer: inference %.3f ms (cpu %.3f ms)\n",
                 (platform::now() - start) * 1e3, (platform::cpuNow() - cpuStart) * 1e3);
  }
  platform::setOutput(toJson(top5) + "\n");
  return 0;
}
