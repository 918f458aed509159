#include "image/posterize.h"

#include "image/lut.h"

namespace pix::image {

void posterize(ImageU8 img, int bits) {
  check_image(img, "posterize");
  PIX_CHECK(bits >= 0 && bits <= 8, "posterize: bits must be 0..8, got ", bits);
  const int mask = ~((1 << (8 - bits)) - 1);
  Lut lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(v & mask);
  apply_lut(img, lut);
}

}  // namespace pix::image
