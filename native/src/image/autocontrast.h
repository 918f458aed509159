// ImageOps.autocontrast with timm's arguments (cutoff 0, no ignored value): each channel is
// stretched linearly so its darkest value becomes 0 and its lightest 255, in place. A channel with
// a single value is left as it is. Not here: PIL's cutoff, ignore, mask and preserve_tone options.
#pragma once

#include "image/image.h"

namespace pix::image {

void autocontrast(ImageU8 img);

}  // namespace pix::image
