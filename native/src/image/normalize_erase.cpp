#include "image/normalize_erase.h"

#include <cmath>

#include "image/normal_draws.h"

namespace pix::image {
namespace {

// The values of one stream in index order; each pair's logarithm and square root serve two values.
class NormalDraws {
 public:
  explicit NormalDraws(uint64_t seed) : seed_(seed) {}

  float next() {
    if (index_ % 2 == 0) pair_ = normal_pair(seed_, index_ / 2);
    return index_++ % 2 == 0 ? pair_.cosine : pair_.sine;
  }

 private:
  uint64_t seed_;
  uint64_t index_ = 0;
  NormalPair pair_{0.0f, 0.0f};
};

}  // namespace

void normalize_table(const std::array<float, kChannels>& mean, const std::array<float, kChannels>& std,
                     NormalizeTable& table) {
  for (int c = 0; c < kChannels; ++c) {
    PIX_CHECK(std[c] != 0.0f && std::isfinite(std[c]) && std::isfinite(mean[c]),
              "normalize_erase: mean and std must be finite and std non-zero");
  }
  for (int c = 0; c < kChannels; ++c) {
    for (int v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  }
}

void check_erase_box(const EraseBox& box, int width, int height, const char* where) {
  PIX_CHECK(box.top >= 0 && box.left >= 0 && box.height >= 0 && box.width >= 0 && box.top + box.height <= height &&
                box.left + box.width <= width,
            where, ": box (top ", box.top, ", left ", box.left, ", ", box.height, "x", box.width, ") is not inside the ",
            width, "x", height, " image");
}

void normalize_erase(const ImageU8& img, float* out, const NormalizeEraseParams& params) {
  check_image(img, "normalize_erase");
  PIX_CHECK(out != nullptr, "normalize_erase: no output buffer");
  // Every (channel, value) pair's result once, computed as torch does it; the image is then lookups.
  NormalizeTable table;
  normalize_table(params.mean, params.std, table);
  const uint8_t* p = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, p += kChannels) {
    for (int c = 0; c < kChannels; ++c) out[i * kChannels + c] = table[c][p[c]];
  }

  NormalDraws noise(params.seed);  // runs on across boxes, so boxes never share values
  for (const EraseBox& box : params.boxes) {
    check_erase_box(box, img.width, img.height, "normalize_erase");
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
