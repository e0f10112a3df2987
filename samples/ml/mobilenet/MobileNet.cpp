// The kernels are plain loops written so that the vectoriser (clang for
// wasm32 with -msimd128, and natively) turns their innermost loop, always over
// channels, into 4-wide SIMD: restrict pointers, trip counts it can see, no
// reductions across lanes (so no reassociation is needed, and wasm and native
// compute every float in the same order).
#include "MobileNet.h"

#include "../platform/Random.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace ml::mobilenet {

namespace {

constexpr int kConv1Channels = 32;
constexpr int kFeatures = 1024;
constexpr int kPanel = 8; // output channels per GEMM panel

// TensorFlow SAME padding: rows (or columns) of zeros before the input.
int padBefore(int in, int out, int stride) {
  return std::max((out - 1) * stride + 3 - in, 0) / 2;
}

inline float relu6(float v) {
  return std::min(std::max(v, 0.0f), 6.0f);
}

// The kernels below apply ReLU6 to what they write unless `relu` is false:
// calibration (makeWeights) needs the convolutions' raw outputs.

// 3x3 stride-2 convolution, 3 -> 32 channels.
void conv1(const float* __restrict in, int inSize, const float* __restrict w,
           const float* __restrict bias, float* __restrict out, bool relu = true) {
  const int outSize = (inSize + 1) / 2, pad = padBefore(inSize, outSize, 2);
  for (int oy = 0; oy < outSize; ++oy) {
    for (int ox = 0; ox < outSize; ++ox) {
      float acc[kConv1Channels];
      for (int co = 0; co < kConv1Channels; ++co)
        acc[co] = bias[co];
      for (int ky = 0; ky < 3; ++ky) {
        const int iy = oy * 2 + ky - pad;
        if (iy < 0 || iy >= inSize) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int ix = ox * 2 + kx - pad;
          if (ix < 0 || ix >= inSize) continue;
          const float* px = in + (size_t(iy) * inSize + ix) * kImageChannels;
          const float* wk = w + (ky * 3 + kx) * kImageChannels * kConv1Channels;
          for (int ci = 0; ci < kImageChannels; ++ci) {
            const float v = px[ci];
            for (int co = 0; co < kConv1Channels; ++co)
              acc[co] += v * wk[ci * kConv1Channels + co];
          }
        }
      }
      float* o = out + (size_t(oy) * outSize + ox) * kConv1Channels;
      for (int co = 0; co < kConv1Channels; ++co)
        o[co] = relu ? relu6(acc[co]) : acc[co];
    }
  }
}

// o[c] += p[c] * w[c], c < channels.
inline void multiplyAdd(float* __restrict o, const float* __restrict p, const float* __restrict w,
                        int channels) {
  for (int c = 0; c < channels; ++c)
    o[c] += p[c] * w[c];
}

// 3x3 depthwise convolution, stride 1 or 2.
void depthwise(const float* __restrict in, int inSize, int channels, int stride,
               const float* __restrict w, const float* __restrict bias, float* __restrict out,
               bool relu = true) {
  const int outSize = (inSize + stride - 1) / stride, pad = padBefore(inSize, outSize, stride);
  for (int oy = 0; oy < outSize; ++oy) {
    for (int ox = 0; ox < outSize; ++ox) {
      float* o = out + (size_t(oy) * outSize + ox) * channels;
      std::memcpy(o, bias, size_t(channels) * sizeof(float));
      for (int ky = 0; ky < 3; ++ky) {
        const int iy = oy * stride + ky - pad;
        if (iy < 0 || iy >= inSize) continue;
        for (int kx = 0; kx < 3; ++kx) {
          const int ix = ox * stride + kx - pad;
          if (ix < 0 || ix >= inSize) continue;
          multiplyAdd(o, in + (size_t(iy) * inSize + ix) * channels, w + (ky * 3 + kx) * channels,
                      channels);
        }
      }
      if (relu)
        for (int c = 0; c < channels; ++c)
          o[c] = relu6(o[c]);
    }
  }
}

// Rows [0, R) of out[.][panel] = relu6(a[.][0..k) . panel + bias): the GEMM's
// register block, R x 8 accumulators.
template <int R, bool Relu>
inline void gemmBlock(const float* __restrict a, int k, const float* __restrict panel,
                      const float* __restrict bias, float* __restrict out, int outStride) {
  float acc[R][kPanel];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < kPanel; ++j)
      acc[r][j] = bias[j];
  for (int i = 0; i < k; ++i) {
    const float* b = panel + i * kPanel;
    for (int r = 0; r < R; ++r) {
      const float v = a[size_t(r) * k + i];
      for (int j = 0; j < kPanel; ++j)
        acc[r][j] += v * b[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < kPanel; ++j)
      out[size_t(r) * outStride + j] = Relu ? relu6(acc[r][j]) : acc[r][j];
}

constexpr int kBlockRows = 4;

// Rows [row0, row1) against one panel.
template <bool Relu>
void gemmRows(const float* a, int k, const float* panel, const float* bias, float* out, int n,
              int row0, int row1) {
  int r = row0;
  for (; r + kBlockRows <= row1; r += kBlockRows)
    gemmBlock<kBlockRows, Relu>(a + size_t(r) * k, k, panel, bias, out + size_t(r) * n, n);
  for (; r < row1; ++r)
    gemmBlock<1, Relu>(a + size_t(r) * k, k, panel, bias, out + size_t(r) * n, n);
}

// 1x1 convolution: out[m][n] = relu6(in[m][k] . w + bias), w in panels.
template <bool Relu = true>
void pointwise(const float* in, int m, int k, int n, const float* w, const float* bias,
               float* out) {
  const size_t panelFloats = size_t(k) * kPanel;
  if (size_t(m) <= size_t(n)) {
    // Few pixels, many weights (the 14x14 and 7x7 layers): each panel once,
    // against every row; the rows stay in cache.
    for (int p = 0; p < n / kPanel; ++p)
      gemmRows<Relu>(in, k, w + p * panelFloats, bias + p * kPanel, out + p * kPanel, n, 0, m);
    return;
  }
  // Many pixels: a block of rows against every panel, so the block stays in
  // cache while the (smaller) weights stream.
  constexpr int kRowBlock = 64;
  for (int r0 = 0; r0 < m; r0 += kRowBlock) {
    const int r1 = std::min(m, r0 + kRowBlock);
    for (int p = 0; p < n / kPanel; ++p)
      gemmRows<Relu>(in, k, w + p * panelFloats, bias + p * kPanel, out + p * kPanel, n, r0, r1);
  }
}

// Global average pooling, then the fully connected layer: logits.
void classifier(const float* __restrict in, int pixels, const float* __restrict w,
                const float* __restrict bias, float* __restrict logits) {
  float pooled[kFeatures];
  for (int c = 0; c < kFeatures; ++c)
    pooled[c] = 0;
  for (int p = 0; p < pixels; ++p)
    for (int c = 0; c < kFeatures; ++c)
      pooled[c] += in[size_t(p) * kFeatures + c];
  const float scale = 1.0f / float(pixels);
  for (int j = 0; j < kClasses; ++j)
    logits[j] = bias[j];
  for (int c = 0; c < kFeatures; ++c) {
    const float v = pooled[c] * scale;
    const float* row = w + size_t(c) * kClasses;
    for (int j = 0; j < kClasses; ++j)
      logits[j] += v * row[j];
  }
}

std::array<Prediction, 5> topFive(const float* logits) {
  float max = logits[0];
  for (int j = 1; j < kClasses; ++j)
    max = std::max(max, logits[j]);
  std::array<float, kClasses> p;
  double sum = 0;
  for (int j = 0; j < kClasses; ++j) {
    p[size_t(j)] = std::exp(logits[j] - max);
    sum += p[size_t(j)];
  }
  std::array<int, kClasses> order;
  for (int j = 0; j < kClasses; ++j)
    order[size_t(j)] = j;
  // By logit, not by probability, so the order does not hang on exp's last bit.
  std::partial_sort(order.begin(), order.begin() + 5, order.end(), [&](int x, int y) {
    return logits[x] > logits[y] || (logits[x] == logits[y] && x < y);
  });
  std::array<Prediction, 5> top;
  for (size_t i = 0; i < 5; ++i)
    top[i] = {order[i], float(p[size_t(order[i])] / sum)};
  return top;
}

// ----- Folded batch normalisation, calibrated --------------------------------
// A deep ReLU network with random weights maps every image to nearly the same
// features. Batch normalisation is what keeps a trained MobileNet's channels
// centred and scaled; folding it into a convolution multiplies the channel's
// weights by gamma / std and sets its bias to beta - mean * gamma / std. Here
// mean and std are measured, layer by layer, on a few deterministic
// calibration images (gamma 1, beta 0), so every channel's input to ReLU6 has
// mean 0 and deviation 1 on them. Plain IEEE arithmetic in a fixed order:
// wasm and native make the same bits.

constexpr int kCalibrationImages = 8;
constexpr float kLogitScale = 2.0f; // deviation of the logits over classes and images

struct ChannelStats {
  std::vector<double> sum, squares;
  size_t samples = 0;
  explicit ChannelStats(int channels)
      : sum(size_t(channels), 0.0), squares(size_t(channels), 0.0) {}
  void add(const float* values, size_t pixels) {
    const size_t channels = sum.size();
    for (size_t p = 0; p < pixels; ++p)
      for (size_t c = 0; c < channels; ++c) {
        const double v = values[p * channels + c];
        sum[c] += v;
        squares[c] += v * v;
      }
    samples += pixels;
  }
};

// Scales the weights of each output channel (channelOf(i) for weight i) and
// sets the biases so the channel's raw output becomes (x - mean) * gamma / std.
template <typename ChannelOf>
void foldStats(const ChannelStats& stats, float* weights, size_t count, float* bias,
               ChannelOf channelOf, bool perChannelScale, float gamma) {
  const size_t channels = stats.sum.size();
  std::vector<float> scale(channels);
  std::vector<double> mean(channels);
  double pooledVariance = 0;
  for (size_t c = 0; c < channels; ++c) {
    mean[c] = stats.sum[c] / double(stats.samples);
    const double variance =
        std::max(stats.squares[c] / double(stats.samples) - mean[c] * mean[c], 0.0);
    pooledVariance += variance / double(channels);
    scale[c] = float(double(gamma) / std::sqrt(variance + 1e-5));
  }
  if (!perChannelScale)
    for (size_t c = 0; c < channels; ++c)
      scale[c] = float(double(gamma) / std::sqrt(pooledVariance + 1e-5));
  for (size_t i = 0; i < count; ++i)
    weights[i] *= scale[channelOf(i)];
  for (size_t c = 0; c < channels; ++c)
    bias[c] = float((double(bias[c]) - mean[c]) * double(scale[c]));
}

std::vector<std::vector<float>> calibrationImages(uint64_t seed) {
  std::vector<std::vector<float>> images(kCalibrationImages, std::vector<float>(kImageValues));
  for (int n = 0; n < kCalibrationImages; ++n) {
    Rng rng(seed ^ mix64(0xCA1B0000ull + uint64_t(n)));
    float base[kImageChannels];
    for (float& b : base)
      b = float(rng.uniform() - 0.5);
    // Noise over a per-image colour, coarser in blocks of 8x8 pixels for half of them.
    const int block = n % 2 ? 8 : 1;
    for (int y = 0; y < kImageSize; ++y)
      for (int x = 0; x < kImageSize; ++x)
        for (int c = 0; c < kImageChannels; ++c) {
          Rng cell(seed ^ mix64((uint64_t(n) << 40) ^ (uint64_t(y / block) << 20) ^
                                (uint64_t(x / block) << 4) ^ uint64_t(c)));
          images[size_t(n)][(size_t(y) * kImageSize + x) * kImageChannels + size_t(c)] =
              std::clamp(base[c] + float(cell.uniform() - 0.5), -1.0f, 1.0f);
        }
  }
  return images;
}

void calibrate(float* f, uint64_t seed) {
  const Layout& l = layout();
  std::vector<std::vector<float>> act = calibrationImages(seed);
  std::vector<std::vector<float>> mid(kCalibrationImages);
  const size_t largest = size_t(kImageSize / 2) * (kImageSize / 2) * 64;
  std::vector<float> raw(largest);

  int size = (kImageSize + 1) / 2, channels = kConv1Channels;
  {
    ChannelStats stats(channels);
    for (auto& image : act) {
      conv1(image.data(), kImageSize, f + l.conv1.weights, f + l.conv1.bias, raw.data(), false);
      stats.add(raw.data(), size_t(size) * size);
    }
    foldStats(
        stats, f + l.conv1.weights, 27 * kConv1Channels, f + l.conv1.bias,
        [](size_t i) { return i % kConv1Channels; }, true, 1.0f);
    for (auto& image : act) {
      std::vector<float> out(size_t(size) * size * channels);
      conv1(image.data(), kImageSize, f + l.conv1.weights, f + l.conv1.bias, out.data());
      image = std::move(out);
    }
  }
  for (size_t i = 0; i < kBlocks; ++i) {
    const Block& block = blocks()[i];
    const int outSize = (size + block.stride - 1) / block.stride;
    const size_t pixels = size_t(outSize) * outSize;
    const auto& dw = l.depthwise[i];
    ChannelStats dwStats(channels);
    for (auto& a : act) {
      depthwise(a.data(), size, channels, block.stride, f + dw.weights, f + dw.bias, raw.data(),
                false);
      dwStats.add(raw.data(), pixels);
    }
    const size_t c = size_t(channels);
    foldStats(
        dwStats, f + dw.weights, 9 * c, f + dw.bias, [c](size_t j) { return j % c; }, true, 1.0f);
    for (int n = 0; n < kCalibrationImages; ++n) {
      mid[size_t(n)].resize(pixels * c);
      depthwise(act[size_t(n)].data(), size, channels, block.stride, f + dw.weights, f + dw.bias,
                mid[size_t(n)].data());
    }
    const auto& pw = l.pointwise[i];
    ChannelStats pwStats(block.outChannels);
    for (auto& m : mid) {
      pointwise<false>(m.data(), int(pixels), channels, block.outChannels, f + pw.weights,
                       f + pw.bias, raw.data());
      pwStats.add(raw.data(), pixels);
    }
    foldStats(
        pwStats, f + pw.weights, c * size_t(block.outChannels), f + pw.bias,
        [c](size_t j) { return j / (c * kPanel) * kPanel + j % kPanel; }, true, 1.0f);
    for (int n = 0; n < kCalibrationImages; ++n) {
      act[size_t(n)].resize(pixels * size_t(block.outChannels));
      pointwise(mid[size_t(n)].data(), int(pixels), channels, block.outChannels, f + pw.weights,
                f + pw.bias, act[size_t(n)].data());
    }
    size = outSize;
    channels = block.outChannels;
  }
  // Logits: each class centred over the images, one scale for all classes
  // (a class's deviation over a handful of images says little).
  ChannelStats logitStats(kClasses);
  for (auto& a : act) {
    float logits[kClasses];
    classifier(a.data(), size * size, f + l.fc.weights, f + l.fc.bias, logits);
    logitStats.add(logits, 1);
  }
  foldStats(
      logitStats, f + l.fc.weights, size_t(kFeatures) * kClasses, f + l.fc.bias,
      [](size_t j) { return j % kClasses; }, false, kLogitScale);
}

Layout makeLayout() {
  Layout l;
  size_t at = 0;
  auto take = [&](size_t floats) {
    size_t offset = at;
    at += (floats + 15) / 16 * 16; // 64-byte aligned
    return offset;
  };
  l.conv1.weights = take(3 * 3 * kImageChannels * kConv1Channels);
  l.conv1.bias = take(kConv1Channels);
  int channels = kConv1Channels;
  for (int i = 0; i < kBlocks; ++i) {
    const int out = blocks()[size_t(i)].outChannels;
    l.depthwise[size_t(i)].weights = take(9 * size_t(channels));
    l.depthwise[size_t(i)].bias = take(size_t(channels));
    l.pointwise[size_t(i)].weights = take(size_t(channels) * out);
    l.pointwise[size_t(i)].bias = take(size_t(out));
    channels = out;
  }
  l.fc.weights = take(size_t(kFeatures) * kClasses);
  l.fc.bias = take(kClasses);
  l.floats = at;
  return l;
}

} // namespace

const std::array<Block, kBlocks>& blocks() {
  static const std::array<Block, kBlocks> b = {{{1, 64},
                                                {2, 128},
                                                {1, 128},
                                                {2, 256},
                                                {1, 256},
                                                {2, 512},
                                                {1, 512},
                                                {1, 512},
                                                {1, 512},
                                                {1, 512},
                                                {1, 512},
                                                {2, 1024},
                                                {1, 1024}}};
  return b;
}

const Layout& layout() {
  static const Layout l = makeLayout();
  return l;
}

std::vector<uint8_t> makeWeights(uint64_t seed) {
  const Layout& l = layout();
  std::vector<uint8_t> blob(sizeof(WeightsHeader) + l.floats * sizeof(float), 0);
  WeightsHeader header;
  header.floats = l.floats;
  header.seed = seed;
  std::memcpy(blob.data(), &header, sizeof header);
  float* f = reinterpret_cast<float*>(blob.data() + sizeof header);
  // He initialisation (variance 2 / fan-in), zero biases; calibrate() then
  // folds batch normalisation in.
  uint64_t stream = 0;
  auto fill = [&](const Layout::Conv& conv, size_t count, int fanIn) {
    Rng rng(seed ^ mix64(++stream));
    const float scale = std::sqrt(2.0f / float(fanIn));
    for (size_t i = 0; i < count; ++i)
      f[conv.weights + i] = rng.normalPortable() * scale;
  };
  fill(l.conv1, 27 * kConv1Channels, 27);
  int channels = kConv1Channels;
  for (size_t i = 0; i < kBlocks; ++i) {
    const int out = blocks()[i].outChannels;
    fill(l.depthwise[i], 9 * size_t(channels), 9);
    fill(l.pointwise[i], size_t(channels) * out, channels);
    channels = out;
  }
  fill(l.fc, size_t(kFeatures) * kClasses, kFeatures);
  calibrate(f, seed);
  return blob;
}

std::string checkWeights(const uint8_t* blob, size_t size) {
  WeightsHeader header;
  if (size < sizeof header) return "mobilenet-weights: too short for a header";
  std::memcpy(&header, blob, sizeof header);
  if (header.magic != kWeightsMagic || header.version != kWeightsVersion)
    return "mobilenet-weights: not MobileNet v1 weights of this format (run mobilenet-load)";
  if (header.floats != layout().floats || size != sizeof header + layout().floats * sizeof(float))
    return "mobilenet-weights: size does not match the architecture";
  return "";
}

Network::Network(const uint8_t* blob)
    : weights_(reinterpret_cast<const float*>(blob + sizeof(WeightsHeader))) {
  const size_t largest = size_t(kImageSize / 2) * (kImageSize / 2) * 64;
  a_.resize(largest);
  b_.resize(largest);
}

std::array<Prediction, 5> Network::classify(const uint8_t* image) {
  input_.resize(kImageValues);
  for (size_t i = 0; i < kImageValues; ++i)
    input_[i] = float(image[i]) * (1.0f / 127.5f) - 1.0f;
  return classify(input_.data());
}

std::array<Prediction, 5> Network::classify(const float* image) {
  const Layout& l = layout();
  const float* w = weights_;
  int size = (kImageSize + 1) / 2, channels = kConv1Channels;
  conv1(image, kImageSize, w + l.conv1.weights, w + l.conv1.bias, a_.data());
  for (size_t i = 0; i < kBlocks; ++i) {
    const Block& block = blocks()[i];
    const int outSize = (size + block.stride - 1) / block.stride;
    depthwise(a_.data(), size, channels, block.stride, w + l.depthwise[i].weights,
              w + l.depthwise[i].bias, b_.data());
    pointwise(b_.data(), outSize * outSize, channels, block.outChannels, w + l.pointwise[i].weights,
              w + l.pointwise[i].bias, a_.data());
    size = outSize;
    channels = block.outChannels;
  }
  float logits[kClasses];
  classifier(a_.data(), size * size, w + l.fc.weights, w + l.fc.bias, logits);
  return topFive(logits);
}

std::string toJson(const std::array<Prediction, 5>& top5) {
  std::string json = "{\"top5\":[";
  for (size_t i = 0; i < top5.size(); ++i) {
    char item[64];
    std::snprintf(item, sizeof item, "%s[%d,%.8g]", i ? "," : "", top5[i].index,
                  double(top5[i].score));
    json += item;
  }
  return json + "]}";
}

namespace {

// Base64 (RFC 4648, standard alphabet, '=' padding) of a whole string;
// false on any other character or a misplaced pad.
bool fromBase64(std::string_view text, std::string& out) {
  if (text.size() % 4 != 0) return false;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pads = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pads == 1 && text[i + 2] == '=') return false;
    int v[4];
    for (int k = 0; k < 4 - pads; ++k)
      if ((v[k] = value(text[i + size_t(k)])) < 0) return false;
    for (int k = 4 - pads; k < 4; ++k)
      v[k] = 0;
    const uint32_t word =
        uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
    out.push_back(char(word >> 16));
    if (pads < 2) out.push_back(char(word >> 8 & 0xff));
    if (pads < 1) out.push_back(char(word & 0xff));
  }
  return true;
}

} // namespace

std::string decodeImage(std::string_view input, std::string& image) {
  const size_t floatBytes = kImageValues * sizeof(float);
  if (input.size() == kImageValues || input.size() == floatBytes) {
    image.assign(input);
    return {};
  }
  if (input.size() == (kImageValues + 2) / 3 * 4 || input.size() == (floatBytes + 2) / 3 * 4) {
    if (!fromBase64(input, image)) return "input: not base64";
    return {};
  }
  return "input: want " + std::to_string(kImageValues) + " bytes (uint8), " +
         std::to_string(floatBytes) + " (float32) or either as base64, got " +
         std::to_string(input.size());
}

} // namespace ml::mobilenet
