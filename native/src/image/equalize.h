// ImageOps.equalize: a per-channel histogram equalisation, in place, with PIL's integer steps: the
// step is (pixels - count of the lightest used value) / 255, each value maps to the count of darker
// pixels (plus half a step) over the step, clipped at 255. Channels with one used value, or too few
// pixels for a step, are left as they are. Not here: PIL's mask.
#pragma once

#include "image/image.h"

namespace pix::image {

void equalize(ImageU8 img);

}  // namespace pix::image
