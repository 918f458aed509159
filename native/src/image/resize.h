// PIL's Image.resize(size, BILINEAR or BICUBIC, box) for 8-bit RGB (Pillow's Resample.c
// semantics): a separable two-pass resample, horizontal first into an 8-bit intermediate, the
// filter support widened by the downscale factor, double weights normalised per output pixel and
// rounded to 22-bit fixed point. torchvision's resize and RandomResizedCrop on PIL images are this
// op, so the training crop matches them bit for bit on equal source pixels.
// The source is a window (with a row stride) of a larger decoded buffer; the filter support is
// clipped to the window, as PIL clips it to the image. Only a part of the output may be computed
// (the eval centre crop), and it may be mirrored (the training flip). Not here: NEAREST, LANCZOS,
// BOX, HAMMING, reducing_gap, other modes.
#pragma once

#include <cstdint>

#include "image/affine.h"
#include "image/image.h"

namespace pix::image {

// A read-only RGB window: `stride` bytes between rows.
struct ImageViewU8 {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int64_t stride = 0;
};

struct ResizeParams {
  // PIL's box: the source rectangle (left, top, right, bottom) mapped onto the output, in source
  // pixels, fractional allowed.
  double box[4] = {0, 0, 0, 0};
  // The size the box is resized to; the output image is the part of it starting at out_left/top.
  int out_width = 0;
  int out_height = 0;
  int out_left = 0;
  int out_top = 0;
  Resample resample = Resample::Bicubic;  // Bilinear or Bicubic
  bool flip = false;                      // mirror the output left-right (PIL's FLIP_LEFT_RIGHT after)
};

// out (H,W,3) = the window [out_top, +H) x [out_left, +W) of src resized as PIL does.
void resize(const ImageViewU8& src, const ResizeParams& params, ImageU8 out);

}  // namespace pix::image
