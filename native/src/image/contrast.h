// ImageEnhance.Contrast(img).enhance(factor), in place: a blend of the image with a flat grey at
// the mean of its L (PIL's rounded RGB -> L) image, itself rounded to an integer as PIL does.
#pragma once

#include "image/image.h"

namespace pix::image {

void contrast(ImageU8 img, double factor);

}  // namespace pix::image
