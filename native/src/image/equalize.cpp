#include "image/equalize.h"

#include "image/lut.h"

namespace pix::image {

void equalize(ImageU8 img) {
  check_image(img, "equalize");
  const auto counts = channel_histograms(img);
  std::array<Lut, kChannels> luts;
  for (int c = 0; c < kChannels; ++c) {
    const auto& h = counts[c];
    int64_t total = 0, used = 0, last = 0;
    for (int v = 0; v < 256; ++v) {
      if (h[v] == 0) continue;
      total += h[v];
      ++used;
      last = h[v];
    }
    const int64_t step = used <= 1 ? 0 : (total - last) / 255;
    int64_t n = step / 2;
    for (int v = 0; v < 256; ++v) {
      if (step == 0) {
        luts[c][v] = static_cast<uint8_t>(v);
        continue;
      }
      const int64_t mapped = n / step;
      luts[c][v] = static_cast<uint8_t>(mapped > 255 ? 255 : mapped);
      n += h[v];
    }
  }
  apply_luts(img, luts);
}

}  // namespace pix::image
