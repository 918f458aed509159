#include "image/autocontrast.h"

#include "image/lut.h"

namespace pix::image {

void autocontrast(ImageU8 img) {
  check_image(img, "autocontrast");
  const auto counts = channel_histograms(img);
  std::array<Lut, kChannels> luts;
  for (int c = 0; c < kChannels; ++c) {
    int lo = 0, hi = 255;
    while (lo < 255 && counts[c][lo] == 0) ++lo;
    while (hi > 0 && counts[c][hi] == 0) --hi;
    for (int v = 0; v < 256; ++v) {
      if (hi <= lo) {
        luts[c][v] = static_cast<uint8_t>(v);
        continue;
      }
      // PIL's double arithmetic and int() truncation, then the clip to 0..255.
      const double scale = 255.0 / (hi - lo);
      const double offset = -lo * scale;
      const double mapped = v * scale + offset;
      const int64_t truncated = static_cast<int64_t>(mapped);
      luts[c][v] = static_cast<uint8_t>(truncated < 0 ? 0 : truncated > 255 ? 255 : truncated);
    }
  }
  apply_luts(img, luts);
}

}  // namespace pix::image
