// A view of one 8-bit RGB image stored HWC (row-major, 3 bytes per pixel, no padding): the pixel
// format of the augmentation ops, which follow PIL's "RGB" mode arithmetic exactly.
// Not an owner of memory, and not for other channel counts or bit depths: decoding to 8-bit RGB
// happens before (sharp), conversion to normalised floats after (normalize_erase).
#pragma once

#include <cstdint>

#include "core/error.h"

namespace pix::image {

constexpr int kChannels = 3;

struct ImageU8 {
  uint8_t* data = nullptr;
  int width = 0;
  int height = 0;

  int64_t pixels() const { return static_cast<int64_t>(width) * height; }
  int64_t bytes() const { return pixels() * kChannels; }
  uint8_t* row(int y) const { return data + static_cast<int64_t>(y) * width * kChannels; }
};

inline void check_image(const ImageU8& img, const char* fn) {
  PIX_CHECK(img.data != nullptr && img.width > 0 && img.height > 0, fn, ": the image is empty (",
            img.width, "x", img.height, ")");
}

// PIL's RGB -> L conversion (ITU-R 601-2 luma in 16-bit fixed point, rounded): what
// ImageEnhance.Color and Contrast use as the grey of a pixel.
inline uint8_t pil_luma(const uint8_t* rgb) {
  return static_cast<uint8_t>((rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

}  // namespace pix::image
