// ImageOps.invert: v -> 255 - v on every channel, in place.
#pragma once

#include "image/image.h"

namespace pix::image {

void invert(ImageU8 img);

}  // namespace pix::image
