// Internal to affine: PIL's coordinate helpers, shared by the portable build (affine.cpp) and the
// AVX2 one (affine_avx2.cpp, compiled with -mavx2 and picked at run time). Both give PIL 9.4's
// bytes exactly: the AVX2 filters do every rounding double operation of the portable ones, in the
// same order, with the three channels (and a spare) in the lanes of one register; only sums of
// 8-bit samples, exact in double, are formed in int32 lanes instead.
#pragma once

#include <cmath>
#include <cstdint>

#include "image/affine.h"

namespace pix::image::affine_detail {

// static: each build compiles its own (an inline function the linker may pick from the -mavx2
// file could otherwise run on a CPU without AVX2).

// PIL's COORD and FLOOR macros: truncation with every negative coordinate sent to -1 (COORD), and
// a floor that truncates non-negative values (FLOOR).
static inline int coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }
static inline int floor_int(double v) { return v < 0.0 ? static_cast<int>(std::floor(v)) : static_cast<int>(v); }
static inline int clip_index(int v, int size) { return v < 0 ? 0 : v < size ? v : size - 1; }

// Whether the AVX2 filters take this matrix: with every entry at most 1e100 in magnitude no source
// coordinate can overflow to infinity (or become NaN), so lanes that land outside the image can
// be skipped without reproducing what the portable code does with a NaN coordinate.
static inline bool avx2_takes(const AffineParams& p) {
  for (double v : p.matrix)
    if (!(std::fabs(v) <= 1e100)) return false;
  return p.resample == Resample::Bilinear || p.resample == Resample::Bicubic;
}

// ImagingGenericTransform with affine_transform for bilinear and bicubic (see affine.cpp), for
// hosts with AVX2, when avx2_takes(params).
void filtered_avx2(const ImageU8& src, ImageU8 dst, const AffineParams& params);

}  // namespace pix::image::affine_detail
