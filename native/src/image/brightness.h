// ImageEnhance.Brightness(img).enhance(factor), in place: a blend with black, i.e. every value
// times `factor` in single precision, truncated and clipped as PIL's blend does.
#pragma once

#include "image/image.h"

namespace pix::image {

void brightness(ImageU8 img, double factor);

}  // namespace pix::image
