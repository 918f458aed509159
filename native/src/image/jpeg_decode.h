// JPEG decoding with libjpeg-turbo (its libjpeg API), as PIL decodes: islow IDCT, fancy
// upsampling, grey and YCbCr/RGB files out as 8-bit RGB (grey replicated, as convert('RGB') does).
// Only a region is decoded: whole iMCU columns around it (jpeg_crop_scanline), its rows only
// (jpeg_skip_scanlines, stopping after the last), optionally at 1/2, 1/4 or 1/8 scale in the IDCT.
// Every libjpeg error, and a file that ends before its image does (libjpeg only warns; PIL refuses
// such files), is a pix::Error; nothing aborts the process. Runs on the calling thread, keeps no
// global state. Not here: CMYK/YCCK (the loader keeps sharp for them), EXIF orientation and ICC
// profiles (PIL ignores both when decoding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image/resize.h"

namespace pix::image {

struct JpegInfo {
  int width = 0;
  int height = 0;
  bool rgb = false;  // decodable to RGB here (grey, YCbCr or RGB); false for CMYK/YCCK
};

// The header only; throws pix::Error when it is not a readable JPEG header.
JpegInfo read_jpeg_info(const uint8_t* data, size_t size);

// The image size after the IDCT's 1/scale_denom scaling (libjpeg's rounding up).
inline int jpeg_scaled_size(int size, int scale_denom) { return (size + scale_denom - 1) / scale_denom; }

// A region of the image scaled by 1/scale_denom (1, 2, 4 or 8), in scaled pixels.
struct JpegRegion {
  int scale_denom = 1;
  int left = 0;
  int top = 0;
  int width = 0;
  int height = 0;
};

// The decoded pixels (owned) and a view of exactly the requested region inside them.
struct DecodedJpeg {
  std::vector<uint8_t> pixels;
  ImageViewU8 region;
};

DecodedJpeg decode_jpeg_region(const uint8_t* data, size_t size, const JpegRegion& region);

}  // namespace pix::image
