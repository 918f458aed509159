// ImageEnhance.Color(img).enhance(factor), in place: a blend of the image with its own grey
// (PIL's rounded RGB -> L) by `factor`; 0 gives grey, 1 the image, above 1 more saturation.
#pragma once

#include "image/image.h"

namespace pix::image {

void color(ImageU8 img, double factor);

}  // namespace pix::image
