// ImageEnhance.Sharpness(img).enhance(factor), in place: a blend of the image with PIL's SMOOTH
// filter of it (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1 over 13, single-precision sums in PIL's order,
// rounded; the one-pixel border is copied unfiltered, and images under 3x3 are not filtered).
#pragma once

#include "image/image.h"

namespace pix::image {

void sharpness(ImageU8 img, double factor);

}  // namespace pix::image
