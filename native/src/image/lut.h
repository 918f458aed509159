// Per-channel lookup tables, the mechanism of PIL's Image.point for the ImageOps point operations
// (invert, posterize, solarize, solarize_add, autocontrast, equalize). Not an op of its own.
#pragma once

#include <array>
#include <cstdint>

#include "image/image.h"

namespace pix::image {

using Lut = std::array<uint8_t, 256>;

// One table for every channel.
void apply_lut(ImageU8 img, const Lut& lut);
// A table per channel (R, G, B).
void apply_luts(ImageU8 img, const std::array<Lut, kChannels>& luts);

// Per-channel histograms of the image: counts[c][v] pixels with value v in channel c.
std::array<std::array<int64_t, 256>, kChannels> channel_histograms(const ImageU8& img);

}  // namespace pix::image
