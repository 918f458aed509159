#include "image/solarize_add.h"

#include <algorithm>

#include "image/lut.h"

namespace pix::image {

void solarize_add(ImageU8 img, int add, int threshold) {
  check_image(img, "solarize_add");
  PIX_CHECK(add >= 0 && add <= 255, "solarize_add: add must be 0..255, got ", add);
  PIX_CHECK(threshold >= 0 && threshold <= 256, "solarize_add: threshold must be 0..256, got ", threshold);
  Lut lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(v < threshold ? std::min(v + add, 255) : v);
  apply_lut(img, lut);
}

}  // namespace pix::image
