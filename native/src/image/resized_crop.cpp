// Decode-the-region-then-resize for JPEGs; see resized_crop.h.
#include "image/resized_crop.h"

#include <algorithm>
#include <cmath>

#include "image/jpeg_decode.h"

namespace pix::image {

void jpeg_resized_crop(const uint8_t* data, size_t size, const JpegResizedCropParams& p, ImageU8 out) {
  const char* fn = "jpeg_resized_crop";
  check_image(out, fn);
  const JpegInfo info = read_jpeg_info(data, size);
  PIX_CHECK(p.left >= 0 && p.top >= 0 && p.width > 0 && p.height > 0 && p.left + p.width <= info.width &&
                p.top + p.height <= info.height,
            fn, ": region ", p.width, "x", p.height, " at (", p.left, ", ", p.top, ") is outside the ", info.width,
            "x", info.height, " image");
  PIX_CHECK(p.resize_width > 0 && p.resize_height > 0, fn, ": the resize size must be positive");

  int denom = 1;
  if (p.dct_scaling) {
    for (int d : {8, 4, 2}) {
      if (p.width >= d * p.resize_width && p.height >= d * p.resize_height) {
        denom = d;
        break;
      }
    }
  }
  // The region in scaled pixels: PIL's box, fractional when scaled, and the whole pixels covering it.
  ResizeParams rp;
  JpegRegion region{denom, p.left, p.top, p.width, p.height};
  if (denom == 1) {
    rp.box[2] = p.width;
    rp.box[3] = p.height;
  } else {
    // Scaled pixel i is the IDCT's average of full pixels [denom i, denom i + denom): coordinates
    // divide by denom exactly (the last, partial pixel's far side is past the image edge).
    const double sx = 1.0 / denom, sy = 1.0 / denom;
    const double bx0 = p.left * sx, bx1 = (p.left + p.width) * sx;
    const double by0 = p.top * sy, by1 = (p.top + p.height) * sy;
    region.left = static_cast<int>(std::floor(bx0));
    region.top = static_cast<int>(std::floor(by0));
    region.width = std::min(jpeg_scaled_size(info.width, denom), static_cast<int>(std::ceil(bx1))) - region.left;
    region.height = std::min(jpeg_scaled_size(info.height, denom), static_cast<int>(std::ceil(by1))) - region.top;
    rp.box[0] = bx0 - region.left;
    rp.box[1] = by0 - region.top;
    rp.box[2] = std::min<double>(bx1 - region.left, region.width);
    rp.box[3] = std::min<double>(by1 - region.top, region.height);
  }
  rp.out_width = p.resize_width;
  rp.out_height = p.resize_height;
  rp.out_left = p.out_left;
  rp.out_top = p.out_top;
  rp.resample = p.resample;
  rp.flip = p.flip;
  const DecodedJpeg decoded = decode_jpeg_region(data, size, region);
  resize(decoded.region, rp, out);
}

}  // namespace pix::image
