// MobileNet v1 (Howard et al. 2017), width multiplier 1.0, 224x224x3 input:
// a 3x3 stride-2 convolution to 32 channels, 13 depthwise-separable blocks
// (3x3 depthwise, then 1x1 pointwise) up to 1024 channels at 7x7, global
// average pooling, a 1000-way fully connected layer and softmax. Batch
// normalisation is folded into each convolution's weights and bias; every
// convolution is followed by ReLU6. Float32, NHWC, TensorFlow's SAME padding.
//
// The weights are one blob (WeightsHeader, then every layer's floats in the
// order and layout of `layout()`), so a state value holding it can be mapped
// and used in place. They are made deterministically (makeWeights: He-scaled,
// the same bits on every platform); nothing is downloaded.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ml::mobilenet {

constexpr int kImageSize = 224;
constexpr int kImageChannels = 3;
constexpr size_t kImageValues = size_t(kImageSize) * kImageSize * kImageChannels;
constexpr int kClasses = 1000;
constexpr int kBlocks = 13;

inline constexpr const char* kWeightsKey = "mobilenet-weights";

constexpr uint32_t kWeightsMagic = 0x31564E4D; // "MNV1"
constexpr uint32_t kWeightsVersion = 1;

struct WeightsHeader {
  uint32_t magic = kWeightsMagic;
  uint32_t version = kWeightsVersion;
  uint64_t floats = 0; // after the header
  uint64_t seed = 0;
  uint64_t reserved[5] = {};
};
static_assert(sizeof(WeightsHeader) == 64); // keeps the floats 64-byte aligned

// Offsets (in floats, after the header) of each layer's weights and biases.
//   conv1:        w [3][3][3][32] (kernel y, x, input channel, output channel)
//   depthwise i:  w [3][3][C]
//   pointwise i:  w [Cout/8][Cin][8]: panels of 8 output channels, so the GEMM
//                 streams each panel contiguously
//   fc:           w [1024][1000]
struct Layout {
  struct Conv {
    size_t weights = 0, bias = 0;
  };
  Conv conv1;
  std::array<Conv, kBlocks> depthwise, pointwise;
  Conv fc;
  size_t floats = 0;
};
const Layout& layout();

struct Block {
  int stride;
  int outChannels;
};
// The 13 depthwise-separable blocks.
const std::array<Block, kBlocks>& blocks();

// The whole blob (header included) for a seed.
std::vector<uint8_t> makeWeights(uint64_t seed);

// One line naming what is wrong with a blob of `size` bytes, or "".
std::string checkWeights(const uint8_t* blob, size_t size);

struct Prediction {
  int index;
  float score;
};

// Runs the network; scratch buffers are kept between calls.
class Network {
public:
  // `blob` (checked with checkWeights) must outlive the network.
  explicit Network(const uint8_t* blob);
  // An image of kImageValues floats in [-1, 1], NHWC.
  std::array<Prediction, 5> classify(const float* image);
  // An image of kImageValues bytes, scaled as MobileNet's preprocessing does.
  std::array<Prediction, 5> classify(const uint8_t* image);

private:
  const float* weights_;
  std::vector<float> a_, b_, input_;
};

// The prediction as the functions output it: {"top5":[[class,score],...]}.
std::string toJson(const std::array<Prediction, 5>& top5);

// A request's image: kImageValues bytes, kImageValues float32s, or either as
// base64 text (what a JSON front end such as Faasm's HTTP API carries). Puts
// the raw bytes in `image` and returns "", or one line naming the problem.
std::string decodeImage(std::string_view input, std::string& image);

} // namespace ml::mobilenet
