#include "image/normalize_erase.h"

#include <cmath>

#include "core/random.h"

namespace pix::image {
namespace {

// A standard normal value that is a pure function of (seed, index): Box-Muller over two
// counter-based uniforms, the first kept away from 0 so the logarithm is finite.
float normal(uint64_t seed, uint64_t index) {
  const uint64_t key = splitmix64(seed ^ splitmix64(index));
  const double u1 = (static_cast<double>(splitmix64(key) >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = unit_interval(splitmix64(key + 1));
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

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

  uint64_t draws = 0;  // the noise counter runs on across boxes, so boxes never share values
  for (const EraseBox& box : params.boxes) {
    PIX_CHECK(box.top >= 0 && box.left >= 0 && box.height >= 0 && box.width >= 0 &&
                  box.top + box.height <= img.height && box.left + box.width <= img.width,
              "normalize_erase: box (top ", box.top, ", left ", box.left, ", ", box.height, "x", box.width,
              ") is not inside the ", img.width, "x", img.height, " image");
    float colour[kChannels] = {0.0f, 0.0f, 0.0f};
    if (params.mode == EraseMode::Rand) {
      for (int c = 0; c < kChannels; ++c) colour[c] = normal(params.seed, draws++);
    }
    for (int y = box.top; y < box.top + box.height; ++y) {
      float* row = out + (static_cast<int64_t>(y) * img.width + box.left) * kChannels;
      for (int64_t i = 0, n = static_cast<int64_t>(box.width) * kChannels; i < n; ++i) {
        row[i] = params.mode == EraseMode::Pixel ? normal(params.seed, draws++) : colour[i % kChannels];
      }
    }
  }
}

}  // namespace pix::image
