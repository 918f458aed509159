#include "image/color.h"

#include "image/blend.h"

namespace pix::image {

void color(ImageU8 img, double factor) {
  check_image(img, "color");
  const float alpha = static_cast<float>(factor);
  uint8_t* p = img.data;
  for (int64_t i = 0, n = img.pixels(); i < n; ++i, p += kChannels) {
    const uint8_t grey = pil_luma(p);
    for (int c = 0; c < kChannels; ++c) p[c] = blend_value(grey, p[c], alpha);
  }
}

}  // namespace pix::image
