// ImageOps.posterize: keep the `bits` most significant bits of every channel (0..8), in place.
// bits 0 makes the image black, as PIL's mask ~(2^8 - 1) does.
#pragma once

#include "image/image.h"

namespace pix::image {

void posterize(ImageU8 img, int bits);

}  // namespace pix::image
