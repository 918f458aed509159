#include "image/sharpness.h"

#include <vector>

#include "image/blend.h"

namespace pix::image {
namespace {

uint8_t clip8(float v) {
  if (v <= 0.0f) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v);
}

// PIL's KERNEL1x3: three taps of one row, left to right, in float.
float row_taps(const uint8_t* row, int64_t i, const float* k) {
  return static_cast<float>(row[i - kChannels]) * k[0] + static_cast<float>(row[i]) * k[1] +
         static_cast<float>(row[i + kChannels]) * k[2];
}

// ImageFilter.SMOOTH as ImagingFilter3x3 computes it for RGB images.
std::vector<uint8_t> smooth(const ImageU8& img) {
  std::vector<uint8_t> out(img.data, img.data + img.bytes());
  if (img.width < 3 || img.height < 3) return out;
  // The kernel divided by its scale in float, as PIL's _filter does before filtering.
  const float k[9] = {1.0f / 13.0f, 1.0f / 13.0f, 1.0f / 13.0f, 1.0f / 13.0f, 5.0f / 13.0f,
                      1.0f / 13.0f, 1.0f / 13.0f, 1.0f / 13.0f, 1.0f / 13.0f};
  const float offset = 0.5f;  // PIL adds 0.5 once so that the final truncation rounds
  for (int y = 1; y < img.height - 1; ++y) {
    const uint8_t* above = img.row(y - 1);
    const uint8_t* here = img.row(y);
    const uint8_t* below = img.row(y + 1);
    uint8_t* dst = out.data() + static_cast<int64_t>(y) * img.width * kChannels;
    for (int x = 1; x < img.width - 1; ++x) {
      for (int c = 0; c < kChannels; ++c) {
        const int64_t i = static_cast<int64_t>(x) * kChannels + c;
        float sum = offset;
        sum += row_taps(below, i, &k[0]);
        sum += row_taps(here, i, &k[3]);
        sum += row_taps(above, i, &k[6]);
        dst[i] = clip8(sum);
      }
    }
  }
  return out;
}

}  // namespace

void sharpness(ImageU8 img, double factor) {
  check_image(img, "sharpness");
  const std::vector<uint8_t> degenerate = smooth(img);
  const float alpha = static_cast<float>(factor);
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.bytes(); i < n; ++i) p[i] = blend_value(degenerate[i], p[i], alpha);
}

}  // namespace pix::image
