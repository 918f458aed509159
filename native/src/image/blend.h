// PIL's Image.blend(degenerate, image, alpha) for one 8-bit value, the arithmetic behind every
// ImageEnhance class: degenerate + alpha * (value - degenerate) in single precision (PIL's alpha is
// a C float), truncated; outside 0 <= alpha <= 1 the result is clipped to 0..255 first.
// Not an op of its own: color, contrast, brightness and sharpness supply the degenerate image.
#pragma once

#include <cstdint>

namespace pix::image {

inline uint8_t blend_value(uint8_t degenerate, uint8_t value, float alpha) {
  const float mixed = static_cast<float>(degenerate) + alpha * static_cast<float>(static_cast<int>(value) - degenerate);
  if (alpha >= 0.0f && alpha <= 1.0f) return static_cast<uint8_t>(mixed);
  if (mixed <= 0.0f) return 0;
  if (mixed >= 255.0f) return 255;
  return static_cast<uint8_t>(mixed);
}

}  // namespace pix::image
