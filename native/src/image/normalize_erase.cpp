#include "image/normalize_erase.h"

#include <cmath>

#include "core/random.h"

namespace pix::image {
namespace {

// Standard normal values that are a pure function of (seed, index): Box-Muller over counter-based
// uniform pairs, pair k giving index 2k (the cosine) and 2k + 1 (the sine), so each logarithm and
// square root serves two values. The first uniform is kept away from 0 so the logarithm is finite.
class NormalDraws {
 public:
  explicit NormalDraws(uint64_t seed) : seed_(seed) {}

  float next() {
    if (index_ % 2 == 0) {
      const uint64_t key = splitmix64(seed_ ^ splitmix64(index_ / 2));
      const double u1 = (static_cast<double>(splitmix64(key) >> 11) + 1.0) * 0x1.0p-53;
      const double u2 = unit_interval(splitmix64(key + 1));
      const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * u2;
      cosine_ = static_cast<float>(radius * std::cos(angle));
      sine_ = static_cast<float>(radius * std::sin(angle));
    }
    return index_++ % 2 == 0 ? cosine_ : sine_;
  }

 private:
  uint64_t seed_;
  uint64_t index_ = 0;
  float cosine_ = 0.0f, sine_ = 0.0f;
};

}  // namespace

void normalize_erase(const ImageU8& img, float* out, const NormalizeEraseParams& params) {
  check_image(img, "normalize_erase");
  PIX_CHECK(out != nullptr, "normalize_erase: no output buffer");
  for (int c = 0; c < kChannels; ++c) {
    PIX_CHECK(params.std[c] != 0.0f && std::isfinite(params.std[c]) && std::isfinite(params.mean[c]),
              "normalize_erase: mean and std must be finite and std non-zero");
  }
  // Every (channel, value) pair's result once, computed as torch does it; the image is then lookups.
  float table[kChannels][256];
  for (int c = 0; c < kChannels; ++c) {
    for (int v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) / 255.0f - params.mean[c]) / params.std[c];
  }
  const uint8_t* p = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, p += kChannels) {
    for (int c = 0; c < kChannels; ++c) out[i * kChannels + c] = table[c][p[c]];
  }

  NormalDraws noise(params.seed);  // runs on across boxes, so boxes never share values
  for (const EraseBox& box : params.boxes) {
    PIX_CHECK(box.top >= 0 && box.left >= 0 && box.height >= 0 && box.width >= 0 &&
                  box.top + box.height <= img.height && box.left + box.width <= img.width,
              "normalize_erase: box (top ", box.top, ", left ", box.left, ", ", box.height, "x", box.width,
              ") is not inside the ", img.width, "x", img.height, " image");
    float colour[kChannels] = {0.0f, 0.0f, 0.0f};
    if (params.mode == EraseMode::Rand) {
      for (int c = 0; c < kChannels; ++c) colour[c] = noise.next();
    }
    for (int y = box.top; y < box.top + box.height; ++y) {
      float* row = out + (static_cast<int64_t>(y) * img.width + box.left) * kChannels;
      for (int64_t i = 0, n = static_cast<int64_t>(box.width) * kChannels; i < n; ++i) {
        row[i] = params.mode == EraseMode::Pixel ? noise.next() : colour[i % kChannels];
      }
    }
  }
}

}  // namespace pix::image
