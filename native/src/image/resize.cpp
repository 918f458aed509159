// PIL's two-pass resample (Pillow 9.4 Resample.c) over an RGB window; see resize.h.
#include "image/resize.h"

#include <cmath>
#include <vector>

#include "core/cpu_features.h"
#include "image/resize_passes.h"

namespace pix::image {
namespace {

using resize_detail::Coeffs;
using resize_detail::kPrecisionBits;

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// PIL's bicubic, a = -0.5 (affine.cpp's uses a = -1: PIL's transform has its own kernel).
double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// The weights of outputs [first, first + count) of a resize of source [in0, in1) (clipped to
// [0, in_size)) onto out_size pixels.
Coeffs precompute(int in_size, float in0, float in1, int out_size, int first, int count, Resample resample) {
  const bool cubic = resample == Resample::Bicubic;
  // PIL keeps the box in float32 and widens only the difference.
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = (cubic ? 2.0 : 1.0) * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.start.resize(count);
  c.taps.resize(count);
  c.weights.assign(static_cast<size_t>(count) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int i = 0; i < count; ++i) {
    const int xx = first + i;
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double t = (x + xmin - center + 0.5) * ss;
      k[x] = cubic ? bicubic_filter(t) : bilinear_filter(t);
      ww += k[x];
    }
    int32_t* w = &c.weights[static_cast<size_t>(i) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? k[x] / ww : k[x];
      w[x] = v < 0 ? static_cast<int32_t>(-0.5 + v * (1 << kPrecisionBits))
                   : static_cast<int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.start[i] = xmin;
    c.taps[i] = xmax;
  }
  return c;
}

// The portable horizontal pass: src rows [v.start[0], +rows) resized across into temp.
void horizontal_pass(const ImageViewU8& src, const Coeffs& h, int y_first, int rows, bool flip, int out_width, uint8_t* temp) {
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src.data + (y_first + y) * src.stride;
    uint8_t* row = temp + static_cast<size_t>(y) * out_width * kChannels;
    for (int i = 0; i < out_width; ++i) {
      const int32_t* k = &h.weights[static_cast<size_t>(i) * h.ksize];
      const uint8_t* s = in + static_cast<int64_t>(h.start[i]) * kChannels;
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < h.taps[i]; ++x) {
        s0 += s[x * 3 + 0] * k[x];
        s1 += s[x * 3 + 1] * k[x];
        s2 += s[x * 3 + 2] * k[x];
      }
      uint8_t* o = row + (flip ? out_width - 1 - i : i) * kChannels;
      o[0] = resize_detail::clip8(s0);
      o[1] = resize_detail::clip8(s1);
      o[2] = resize_detail::clip8(s2);
    }
  }
}

}  // namespace

void resize(const ImageViewU8& src, const ResizeParams& p, ImageU8 out) {
  const char* fn = "resize";
  check_image(out, fn);
  PIX_CHECK(src.data != nullptr && src.width > 0 && src.height > 0 && src.stride >= int64_t{src.width} * kChannels, fn,
            ": the source window is empty or its stride too small");
  PIX_CHECK(p.resample == Resample::Bilinear || p.resample == Resample::Bicubic, fn, ": only bilinear and bicubic");
  PIX_CHECK(p.out_left >= 0 && p.out_top >= 0 && p.out_left + out.width <= p.out_width &&
                p.out_top + out.height <= p.out_height,
            fn, ": output window ", out.width, "x", out.height, " at (", p.out_left, ", ", p.out_top,
            ") is outside the ", p.out_width, "x", p.out_height, " resize");
  const float box[4] = {static_cast<float>(p.box[0]), static_cast<float>(p.box[1]), static_cast<float>(p.box[2]),
                        static_cast<float>(p.box[3])};
  PIX_CHECK(box[0] >= 0 && box[1] >= 0 && box[2] <= src.width && box[3] <= src.height && box[2] > box[0] &&
                box[3] > box[1],
            fn, ": box (", box[0], ", ", box[1], ", ", box[2], ", ", box[3], ") is outside the ", src.width, "x",
            src.height, " source");

  const Coeffs h = precompute(src.width, box[0], box[2], p.out_width, p.out_left, out.width, p.resample);
  const Coeffs v = precompute(src.height, box[1], box[3], p.out_height, p.out_top, out.height, p.resample);
  // Horizontal first, over the source rows the vertical pass reads, into 8-bit rows as PIL does.
  const int rows = v.start.back() + v.taps.back() - v.start.front();
#if PIX_RESIZE_AVX2
  if (cpu_features().simd != SimdLevel::Portable) return resize_detail::passes_avx2(src, h, v, rows, p.flip, out);
#endif
  std::vector<uint8_t> temp(static_cast<size_t>(rows) * out.width * kChannels);
  horizontal_pass(src, h, v.start.front(), rows, p.flip, out.width, temp.data());
  resize_detail::vertical_pass(temp.data(), v, out);
}

}  // namespace pix::image
