#include "image/lut.h"

namespace pix::image {

void apply_lut(ImageU8 img, const Lut& lut) {
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.bytes(); i < n; ++i) p[i] = lut[p[i]];
}

void apply_luts(ImageU8 img, const std::array<Lut, kChannels>& luts) {
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, p += kChannels) {
    for (int c = 0; c < kChannels; ++c) p[c] = luts[c][p[c]];
  }
}

std::array<std::array<int64_t, 256>, kChannels> channel_histograms(const ImageU8& img) {
  std::array<std::array<int64_t, 256>, kChannels> counts{};
  const uint8_t* p = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, p += kChannels) {
    for (int c = 0; c < kChannels; ++c) ++counts[c][p[c]];
  }
  return counts;
}

}  // namespace pix::image
