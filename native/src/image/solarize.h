// ImageOps.solarize: values at or above `threshold` are inverted (v -> 255 - v), in place.
// threshold 256 leaves the image as it is, 0 inverts everything.
#pragma once

#include "image/image.h"

namespace pix::image {

void solarize(ImageU8 img, int threshold);

}  // namespace pix::image
