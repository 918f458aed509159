#include "image/invert.h"

#include "image/lut.h"

namespace pix::image {

void invert(ImageU8 img) {
  check_image(img, "invert");
  Lut lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(255 - v);
  apply_lut(img, lut);
}

}  // namespace pix::image
