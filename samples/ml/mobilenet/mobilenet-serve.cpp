// The container baseline's MobileNet server (native only): loads the weights
// from a file at start (the cold start), then answers requests on stdin until
// it closes. A request is a little-endian u32 length and the image (as
// mobilenet-infer's input, base64 included); the answer, one line on stdout
// per request, is mobilenet-infer's output, or {"error":...} for a request
// that is not an image. Timings go to stderr.
//   mobilenet-serve WEIGHTS             serve
//   mobilenet-serve --write WEIGHTS [SEED]  write the weights file (as mobilenet-load makes)
#include "MobileNet.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

using namespace ml::mobilenet;

namespace {

double seconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double now() {
  return seconds(CLOCK_MONOTONIC);
}

bool readExactly(FILE* f, void* buffer, size_t len) {
  return std::fread(buffer, 1, len, f) == len;
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--write") == 0) {
    std::vector<uint8_t> blob = makeWeights(argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 1);
    FILE* f = std::fopen(argv[2], "wb");
    bool ok = f && std::fwrite(blob.data(), 1, blob.size(), f) == blob.size();
    if (!f || std::fclose(f) != 0 || !ok) {
      std::fprintf(stderr, "mobilenet-serve: %s: cannot write\n", argv[2]);
      return 1;
    }
    return 0;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: mobilenet-serve WEIGHTS | --write WEIGHTS [SEED]\n");
    return 2;
  }
  const double start = now();
  FILE* f = std::fopen(argv[1], "rb");
  std::vector<uint8_t> blob;
  if (f) {
    std::fseek(f, 0, SEEK_END);
    long size = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    blob.resize(size > 0 ? size_t(size) : 0);
    if (!readExactly(f, blob.data(), blob.size())) blob.clear();
    std::fclose(f);
  }
  if (std::string bad = checkWeights(blob.data(), blob.size()); !bad.empty()) {
    std::fprintf(stderr, "mobilenet-serve: %s: %s\n", argv[1], bad.c_str());
    return 3;
  }
  Network net(blob.data());
  std::fprintf(stderr, "mobilenet-serve: weights loaded in %.3f ms\n", (now() - start) * 1e3);
  std::string request, image;
  std::vector<float> pixels(kImageValues);
  for (;;) {
    uint32_t len = 0;
    if (!readExactly(stdin, &len, sizeof len)) return 0;
    // The largest input decodeImage takes: float32s as base64.
    if (len > (kImageValues * sizeof(float) + 2) / 3 * 4) {
      std::fprintf(stderr, "mobilenet-serve: request of %u bytes is not an image\n", len);
      return 2;
    }
    request.resize(len);
    if (!readExactly(stdin, request.data(), len)) {
      std::fprintf(stderr, "mobilenet-serve: request cut short\n");
      return 2;
    }
    const double t = now(), cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
    std::string line;
    if (std::string bad = decodeImage(request, image); !bad.empty()) {
      // One answer per request, so a client can tell which one failed.
      std::fprintf(stderr, "mobilenet-serve: %s\n", bad.c_str());
      line = "{\"error\":\"" + bad + "\"}\n";
    } else {
      std::array<Prediction, 5> top5;
      if (image.size() == kImageValues) {
        top5 = net.classify(reinterpret_cast<const uint8_t*>(image.data()));
      } else {
        std::memcpy(pixels.data(), image.data(), image.size());
        top5 = net.classify(pixels.data());
      }
      std::fprintf(stderr, "mobilenet-infer: inference %.3f ms (cpu %.3f ms)\n", (now() - t) * 1e3,
                   (seconds(CLOCK_THREAD_CPUTIME_ID) - cpu) * 1e3);
      line = toJson(top5) + "\n";
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }
}
