#include "image/affine.h"

#include <cmath>
#include <cstring>

namespace pix::image {
namespace {

// PIL's COORD and FLOOR macros: truncation with every negative coordinate sent to -1 (COORD), and
// a floor that truncates non-negative values (FLOOR).
int coord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }
int floor_int(double v) { return v < 0.0 ? static_cast<int>(std::floor(v)) : static_cast<int>(v); }
int clip_index(int v, int size) { return v < 0 ? 0 : v < size ? v : size - 1; }

const uint8_t* at(const ImageU8& img, int x, int y) { return img.row(y) + static_cast<int64_t>(x) * kChannels; }

// bilinear_filter32RGB: rows outside the image repeat the last valid one.
bool bilinear(const ImageU8& im, double xin, double yin, uint8_t* out) {
  if (xin < 0.0 || xin >= im.width || yin < 0.0 || yin >= im.height) return false;
  xin -= 0.5;
  yin -= 0.5;
  const int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  const int x0 = clip_index(x, im.width), x1 = clip_index(x + 1, im.width);
  const bool second_row = y + 1 >= 0 && y + 1 < im.height;
  for (int c = 0; c < kChannels; ++c) {
    const int row0 = clip_index(y, im.height);
    const double a0 = at(im, x0, row0)[c], b0 = at(im, x1, row0)[c];
    double v1 = a0 + (b0 - a0) * dx;
    double v2 = v1;
    if (second_row) {
      const double a1 = at(im, x0, y + 1)[c], b1 = at(im, x1, y + 1)[c];
      v2 = a1 + (b1 - a1) * dx;
    }
    v1 = v1 + (v2 - v1) * dy;
    out[c] = static_cast<uint8_t>(v1);
  }
  return true;
}

// PIL's BICUBIC macro: the cubic convolution with a = -1 through four samples.
double cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// bicubic_filter32RGB: columns clipped to the image; a row outside it repeats the row before (the
// first one is clipped), which is the same as reading the previous row's pixels again.
bool bicubic(const ImageU8& im, double xin, double yin, uint8_t* out) {
  if (xin < 0.0 || xin >= im.width || yin < 0.0 || yin >= im.height) return false;
  xin -= 0.5;
  yin -= 0.5;
  int x = floor_int(xin), y = floor_int(yin);
  const double dx = xin - x, dy = yin - y;
  --x;
  --y;
  int64_t xs[4];
  for (int k = 0; k < 4; ++k) xs[k] = static_cast<int64_t>(clip_index(x + k, im.width)) * kChannels;
  const uint8_t* rows[4];
  rows[0] = im.row(clip_index(y, im.height));
  for (int k = 1; k < 4; ++k) rows[k] = y + k >= 0 && y + k < im.height ? im.row(y + k) : rows[k - 1];
  for (int c = 0; c < kChannels; ++c) {
    double v[4];
    for (int k = 0; k < 4; ++k) {
      const uint8_t* line = rows[k] + c;
      v[k] = cubic(line[xs[0]], line[xs[1]], line[xs[2]], line[xs[3]], dx);
    }
    const double value = cubic(v[0], v[1], v[2], v[3], dy);
    out[c] = value <= 0.0 ? 0 : value >= 255.0 ? 255 : static_cast<uint8_t>(value);
  }
  return true;
}

// ImagingGenericTransform with affine_transform: the path PIL takes for bilinear and bicubic.
void filtered(const ImageU8& src, ImageU8 dst, const AffineParams& p) {
  const auto& a = p.matrix;
  const bool cubic_filter = p.resample == Resample::Bicubic;
  for (int y = 0; y < dst.height; ++y) {
    uint8_t* out = dst.row(y);
    for (int x = 0; x < dst.width; ++x, out += kChannels) {
      const double xin = x + 0.5, yin = y + 0.5;
      const double sx = a[0] * xin + a[1] * yin + a[2];
      const double sy = a[3] * xin + a[4] * yin + a[5];
      const bool inside = cubic_filter ? bicubic(src, sx, sy, out) : bilinear(src, sx, sy, out);
      if (!inside) std::memcpy(out, p.fill.data(), kChannels);
    }
  }
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
