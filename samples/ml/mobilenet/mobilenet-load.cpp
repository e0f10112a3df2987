// Makes MobileNet v1's weights (deterministic, seed from the input
// "seed=N", default 1) and puts them into state as one value,
// mobilenet-weights, for mobilenet-infer to map. Output: "bytes=N".
#include "../platform/Params.h"
#include "../platform/Platform.h"
#include "MobileNet.h"

#include <cstdio>

using namespace ml;
using namespace ml::mobilenet;

int functionMain() {
  Params params(platform::input());
  const double seed = params.number("seed", 1);
  if (!params.error().empty() || !(seed >= 0)) {
    std::fprintf(stderr, "mobilenet-load: %s\n",
                 params.error().empty() ? "seed must be >= 0" : params.error().c_str());
    return 2;
  }
  std::vector<uint8_t> blob = makeWeights(uint64_t(seed));
  platform::writeState(kWeightsKey, blob.data(), blob.size());
  char out[64];
  int len = std::snprintf(out, sizeof out, "bytes=%zu", blob.size());
  platform::setOutput(std::string_view(out, size_t(len)));
  return 0;
}
