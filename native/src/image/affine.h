// PIL's Image.transform(size, AFFINE, matrix, resample, fillcolor) for an RGB image of the same
// size: each output pixel centre (x + 0.5, y + 0.5) maps to the input point
// (a x + b y + c, d x + e y + f), sampled by PIL's own filters (nearest, bilinear, or its bicubic
// with a = -1); points outside the input take the fill colour. timm's Rotate, ShearX/Y and
// TranslateX/YRel are this op with their matrices (made in TypeScript, as PIL's rotate makes them).
// Not here: output sizes other than the input's, perspective and quad transforms.
#pragma once

#include <array>
#include <cstdint>

#include "image/image.h"

namespace pix::image {

enum class Resample { Nearest, Bilinear, Bicubic };

struct AffineParams {
  std::array<double, 6> matrix{1, 0, 0, 0, 1, 0};  // a, b, c, d, e, f as PIL takes them
  Resample resample = Resample::Bilinear;
  std::array<uint8_t, kChannels> fill{0, 0, 0};
};

// dst is a different buffer of the same size as src.
void affine(const ImageU8& src, ImageU8 dst, const AffineParams& params);

}  // namespace pix::image
