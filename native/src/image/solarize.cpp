#include "image/solarize.h"

#include "image/lut.h"

namespace pix::image {

void solarize(ImageU8 img, int threshold) {
  check_image(img, "solarize");
  PIX_CHECK(threshold >= 0 && threshold <= 256, "solarize: threshold must be 0..256, got ", threshold);
  Lut lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(v < threshold ? v : 255 - v);
  apply_lut(img, lut);
}

}  // namespace pix::image
