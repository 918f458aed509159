#include "image/affine.h"

#include <cmath>
#include <cstring>

#include "core/cpu_features.h"
#include "image/affine_kernels.h"

namespace pix::image {
namespace {

using affine_detail::clip_index;
using affine_detail::coord;
using affine_detail::floor_int;

const uint8_t* at(const ImageU8& img, int x, int y) { return img.row(y) + static_cast<int64_t>(x) * kChannels; }

// bilinear_filter32RGB: rows outside the image repeat the last valid one. The caller has checked
// that (xin, yin) lies inside the image.
inline void bilinear(const ImageU8& im, double xin, double yin, uint8_t* out) {
  xin -= 0.5;
  yin -= 0.5;
  const int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  const uint8_t* r0;
  const uint8_t* r1;
  const uint8_t* p0;
  const uint8_t* p1;
  const uint8_t* q0;
  const uint8_t* q1;
  if (x >= 0 && x + 1 < im.width && y >= 0 && y + 1 < im.height) {
    // The whole 2x2 neighbourhood is inside: no clipping.
    r0 = im.row(y) + static_cast<int64_t>(x) * kChannels;
    r1 = im.row(y + 1) + static_cast<int64_t>(x) * kChannels;
    p0 = r0;
    p1 = r0 + kChannels;
    q0 = r1;
    q1 = r1 + kChannels;
  } else {
    const int64_t x0 = static_cast<int64_t>(clip_index(x, im.width)) * kChannels;
    const int64_t x1 = static_cast<int64_t>(clip_index(x + 1, im.width)) * kChannels;
    r0 = im.row(clip_index(y, im.height));
    // A missing second row gives v2 = v1, the same as reading the first row again.
    r1 = y + 1 >= 0 && y + 1 < im.height ? im.row(y + 1) : r0;
    p0 = r0 + x0;
    p1 = r0 + x1;
    q0 = r1 + x0;
    q1 = r1 + x1;
  }
  for (int c = 0; c < kChannels; ++c) {
    const double a0 = p0[c], b0 = p1[c];
    double v1 = a0 + (b0 - a0) * dx;
    const double a1 = q0[c], b1 = q1[c];
    const double v2 = a1 + (b1 - a1) * dx;
    v1 = v1 + (v2 - v1) * dy;
    out[c] = static_cast<uint8_t>(v1);
  }
}

// PIL's BICUBIC macro: the cubic convolution with a = -1 through four samples.
inline double cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

inline uint8_t clip8(double value) { return value <= 0.0 ? 0 : value >= 255.0 ? 255 : static_cast<uint8_t>(value); }

// bicubic_filter32RGB: columns clipped to the image; a row outside it repeats the row before (the
// first one is clipped), which is the same as reading the previous row's pixels again. The caller
// has checked that (xin, yin) lies inside the image.
//
// Shortcuts that keep every bit: with d == 0 the macro returns p1 + 0 * (...) == p1 exactly (p1 is
// never -0 here and every term is finite), so a zero dx takes the second column as it is and a zero
// dy needs only the second row.
inline void bicubic(const ImageU8& im, double xin, double yin, uint8_t* out) {
  xin -= 0.5;
  yin -= 0.5;
  int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  --x;
  --y;
  const uint8_t* rows[4];
  int64_t xs[4];
  if (x >= 0 && x + 3 < im.width && y >= 0 && y + 3 < im.height) {
    // The whole 4x4 neighbourhood is inside: no clipping.
    const int64_t base = static_cast<int64_t>(x) * kChannels;
    for (int k = 0; k < 4; ++k) {
      rows[k] = im.row(y + k) + base;
      xs[k] = k * kChannels;
    }
  } else {
    for (int k = 0; k < 4; ++k) xs[k] = static_cast<int64_t>(clip_index(x + k, im.width)) * kChannels;
    rows[0] = im.row(clip_index(y, im.height));
    for (int k = 1; k < 4; ++k) rows[k] = y + k >= 0 && y + k < im.height ? im.row(y + k) : rows[k - 1];
  }
  if (dy == 0.0) {
    const uint8_t* line = rows[1];
    if (dx == 0.0) {
      for (int c = 0; c < kChannels; ++c) out[c] = line[xs[1] + c];
      return;
    }
    for (int c = 0; c < kChannels; ++c)
      out[c] = clip8(cubic(line[xs[0] + c], line[xs[1] + c], line[xs[2] + c], line[xs[3] + c], dx));
    return;
  }
  double v[4][kChannels];
  if (dx == 0.0) {
    for (int k = 0; k < 4; ++k)
      for (int c = 0; c < kChannels; ++c) v[k][c] = rows[k][xs[1] + c];
  } else {
    for (int k = 0; k < 4; ++k) {
      const uint8_t* t0 = rows[k] + xs[0];
      const uint8_t* t1 = rows[k] + xs[1];
      const uint8_t* t2 = rows[k] + xs[2];
      const uint8_t* t3 = rows[k] + xs[3];
      for (int c = 0; c < kChannels; ++c) v[k][c] = cubic(t0[c], t1[c], t2[c], t3[c], dx);
    }
  }
  for (int c = 0; c < kChannels; ++c) out[c] = clip8(cubic(v[0][c], v[1][c], v[2][c], v[3][c], dy));
}

// ImagingGenericTransform with affine_transform: the path PIL takes for bilinear and bicubic. The
// portable build, and the reference for affine_avx2.cpp.
template <bool kCubic>
void filtered_rows(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
  const auto& a = p.matrix;
  const double width = src.width, height = src.height;
  for (int y = 0; y < dst.height; ++y) {
    uint8_t* out = dst.row(y);
    const double yin = y + 0.5;
    // The same products as a[0] * xin + a[1] * yin + a[2], evaluated left to right.
    const double by = a[1] * yin, ey = a[4] * yin;
    for (int x = 0; x < dst.width; ++x, out += kChannels) {
      const double xin = x + 0.5;
      const double sx = a[0] * xin + by + a[2];
      const double sy = a[3] * xin + ey + a[5];
      if (sx < 0.0 || sx >= width || sy < 0.0 || sy >= height) {
        std::memcpy(out, p.fill.data(), kChannels);
      } else if (kCubic) {
        bicubic(src, sx, sy, out);
      } else {
        bilinear(src, sx, sy, out);
      }
    }
  }
}

void filtered(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
#if PIX_AFFINE_AVX2
  if (cpu_features().simd != SimdLevel::Portable && affine_detail::avx2_takes(p)) return affine_detail::filtered_avx2(src, dst, p);
#endif
  if (p.resample == Resample::Bicubic)
    filtered_rows<true>(src, dst, p);
  else
    filtered_rows<false>(src, dst, p);
}

void copy_pixel_if_inside(const ImageU8& src, int xi, int yi, uint8_t* out) {
  if (xi >= 0 && xi < src.width && yi >= 0 && yi < src.height) std::memcpy(out, at(src, xi, yi), kChannels);
}

// ImagingScaleAffine: nearest neighbour when the matrix has no rotation or shear.
void nearest_scale(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
  const auto& a = p.matrix;
  double yo = a[5] + a[4] * 0.5;
  for (int y = 0; y < dst.height; ++y, yo += a[4]) {
    const int yi = coord(yo);
    double xo = a[2] + a[0] * 0.5;
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x, xo += a[0], out += kChannels) copy_pixel_if_inside(src, coord(xo), yi, out);
  }
}

bool fits_fixed_point(const std::array<double, 6>& a, int x, int y) {
  return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

// affine_fixed: nearest neighbour in 16.16 fixed point, stepping along rows and columns.
void nearest_fixed(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
  const auto& a = p.matrix;
  const auto fix = [](double v) { return floor_int(v * 65536.0 + 0.5); };
  const int a0 = fix(a[0]), a1 = fix(a[1]), a3 = fix(a[3]), a4 = fix(a[4]);
  int a2 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5);
  int a5 = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (int y = 0; y < dst.height; ++y, a2 += a1, a5 += a4) {
    int xx = a2, yy = a5;
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x, xx += a0, yy += a3, out += kChannels) copy_pixel_if_inside(src, xx >> 16, yy >> 16, out);
  }
}

// The floating-point stepping PIL falls back to when coordinates leave the fixed-point range.
void nearest_float(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
  const auto& a = p.matrix;
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5;
  double yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < dst.height; ++y, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x, xx += a[0], yy += a[3], out += kChannels) copy_pixel_if_inside(src, coord(xx), coord(yy), out);
  }
}

}  // namespace

void affine(const ImageU8& src, ImageU8 dst, const AffineParams& params) {
  check_image(src, "affine");
  PIX_CHECK(dst.data != nullptr && dst.width == src.width && dst.height == src.height, "affine: the output must be ",
            src.width, "x", src.height, ", got ", dst.width, "x", dst.height);
  PIX_CHECK(dst.data != src.data, "affine: the output must not be the input buffer");
  for (double v : params.matrix) PIX_CHECK(std::isfinite(v), "affine: the matrix must be finite");
  if (params.resample != Resample::Nearest) return filtered(src, dst, params);

  // PIL's nearest paths write only the pixels that land inside; the rest keep the fill colour of
  // the new image.
  uint8_t* out = dst.data;
  for (int64_t i = 0, n = dst.pixels(); i < n; ++i, out += kChannels) std::memcpy(out, params.fill.data(), kChannels);
  const auto& a = params.matrix;
  if (a[1] == 0 && a[3] == 0) return nearest_scale(src, dst, params);
  const int w = dst.width, h = dst.height;
  if (fits_fixed_point(a, 0, 0) && fits_fixed_point(a, w, h) && fits_fixed_point(a, 0, h) && fits_fixed_point(a, w, 0))
    return nearest_fixed(src, dst, params);
  nearest_float(src, dst, params);
}

}  // namespace pix::image
