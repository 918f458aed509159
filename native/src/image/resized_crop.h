// The loader's JPEG geometry in one call: decode only the part of a JPEG that a resize of one of
// its regions reads, then resize it as PIL does (resize.h). With every dimension of the region at
// least 2x (4x, 8x) its resized size, the IDCT scales by 1/2 (1/4, 1/8) first, as PIL's draft()
// would, which is then no longer bit-exact with a full-size decode but costs a fraction of it.
// Training: region = RandomResizedCrop's box, resized to size x size. Eval: region = the whole
// image, resized to the shorter-side size, keeping the centre crop.
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/image.h"
#include "image/resize.h"

namespace pix::image {

struct JpegResizedCropParams {
  // The source region in full-size pixels; the resize filter is clipped to it.
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
  // It is resized to resize_width x resize_height, of which the output keeps the window at
  // (out_left, out_top) of the output image's size.
  int resize_width = 0;
  int resize_height = 0;
  int out_left = 0;
  int out_top = 0;
  Resample resample = Resample::Bicubic;
  bool flip = false;
  bool dct_scaling = true;
};

// Throws pix::Error for a file libjpeg cannot decode (see jpeg_decode.h) or a region outside it.
void jpeg_resized_crop(const uint8_t* data, size_t size, const JpegResizedCropParams& params, ImageU8 out);

}  // namespace pix::image
