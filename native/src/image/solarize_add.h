// timm's solarize_add: values below `threshold` get `add` added (saturating at 255), the others
// stay, in place. timm calls it with threshold 128 and add 0..110 (0..128 with a raised mmax).
#pragma once

#include "image/image.h"

namespace pix::image {

void solarize_add(ImageU8 img, int add, int threshold);

}  // namespace pix::image
