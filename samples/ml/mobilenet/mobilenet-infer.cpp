// Classifies one image with MobileNet v1 whose weights are the state value
// mobilenet-weights (put there by mobilenet-load), mapped into memory and
// used in place: under Faasm every co-located Faaslet reads the same pages.
// Input: the image, 224x224x3 NHWC, as bytes (150,528) or float32 in [-1, 1]
// (602,112 bytes), or either as base64 text (what a JSON front end carries). Output:
// {"top5":[[class,score],...]}. Prints the inference time to stderr ("mobilenet-infer: inference N
// ms").
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

std::unique_ptr<Network> net;

// The network over the mapped weights. Made by the initialisation when the
// weights are in state by then (so under Faasm the mapping and the network's
// buffers are in the Proto-Faaslet's snapshot: a Faaslet, forked or reset,
// starts with the model mapped and maps nothing per call), else at the first
// call a Faaslet (or process) serves, which a warm reset then forgets.
Network* network(bool quiet = false) {
  if (net) return net.get();
  const size_t size = platform::stateSize(kWeightsKey);
  if (size == 0) {
    if (!quiet) std::fprintf(stderr, "mobilenet-infer: no weights in state (run mobilenet-load)\n");
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

int initialise() {
  network(true);
  return 0;
}

} // namespace

ML_FUNCTION_INIT(initialise)

int functionMain() {
  std::string image;
  if (std::string bad = decodeImage(platform::input(), image); !bad.empty()) {
    std::fprintf(stderr, "mobilenet-infer: %s\n", bad.c_str());
    return 2;
  }
  Network* model = network();
  if (!model) return 3;
  // FAASM_ML_REPEAT=N (faasm-run --env) classifies the image N times, to time
  // the network once its pages are in memory; the answer is the same.
  const char* repeatText = std::getenv("FAASM_ML_REPEAT");
  const int repeat = repeatText ? std::max(1, std::atoi(repeatText)) : 1;
  std::array<Prediction, 5> top5;
  for (int i = 0; i < repeat; ++i) {
    const double start = platform::now(), cpuStart = platform::cpuNow();
    if (image.size() == kImageValues) {
      top5 = model->classify(reinterpret_cast<const uint8_t*>(image.data()));
    } else {
      std::vector<float> pixels(kImageValues);
      std::memcpy(pixels.data(), image.data(), image.size());
      top5 = model->classify(pixels.data());
    }
    std::fprintf(stderr, "mobilenet-infer: inference %.3f ms (cpu %.3f ms)\n",
                 (platform::now() - start) * 1e3, (platform::cpuNow() - cpuStart) * 1e3);
  }
  platform::setOutput(toJson(top5) + "\n");
  return 0;
}
