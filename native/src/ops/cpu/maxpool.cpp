// maxpool on the CPU: channels innermost (contiguous in NHWC), so a window's maximum over all its
// channels is a run of vector compare-and-selects, one per window pixel. The backward's argmax keeps
// its indices by selects too (a branch per comparison mispredicts on real activations), and both
// loops are compiled per SIMD level (core/simd_bodies.h).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/simd_bodies.h"
#include "core/thread_pool.h"
#include "ops/maxpool.h"

namespace pix::cpu {
namespace {

struct PoolShape {
  int64_t n, h, w, c, p, q;
  int kernel, stride, pad;
};

PoolShape pool_shape(const Tensor& x, const PoolParams& params) {
  PIX_CHECK(x.dim() == 4 && x.dtype() == DType::F32, "maxpool: x must be f32 (N,H,W,C), got ", shape_str(x.shape()));
  PIX_CHECK(params.pad * 2 <= params.kernel, "maxpool: pad must be at most half the kernel");
  PoolShape s{x.size(0), x.size(1), x.size(2), x.size(3), 0, 0, params.kernel, params.stride, params.pad};
  PIX_CHECK(s.h + 2 * params.pad >= params.kernel && s.w + 2 * params.pad >= params.kernel, "maxpool: input ", s.h,
            "x", s.w, " is smaller than the window");
  s.p = (s.h + 2 * params.pad - params.kernel) / params.stride + 1;
  s.q = (s.w + 2 * params.pad - params.kernel) / params.stride + 1;
  return s;
}

// The maxima of output row p of image xn (H,W,C) into best (Q,C): the first maximum in window order
// (rows, then columns), as PyTorch's. The window's first pixel inside the image seeds them; each
// later one replaces a maximum only where it is strictly larger. With at (Q,C), also each maximum's
// index within the image (which the backward checks fits in 32 bits), by the same selects.
template <bool kIndices>
PIX_INLINE void row_maxima(const float* __restrict__ xn, const PoolShape& s, int64_t p, float* __restrict__ best,
                           int32_t* __restrict__ at) {
  for (int64_t q = 0; q < s.q; ++q) {
    float* b = best + q * s.c;
    int32_t* a = kIndices ? at + q * s.c : nullptr;
    bool seeded = false;
    for (int kh = 0; kh < s.kernel; ++kh) {
      const int64_t h = p * s.stride - s.pad + kh;
      if (h < 0 || h >= s.h) continue;
      for (int kw = 0; kw < s.kernel; ++kw) {
        const int64_t w = q * s.stride - s.pad + kw;
        if (w < 0 || w >= s.w) continue;
        const int64_t base = (h * s.w + w) * s.c;
        const float* v = xn + base;
        const int32_t first = static_cast<int32_t>(base);  // the index of v[0]
        if (!seeded) {
          for (int64_t c = 0; c < s.c; ++c) b[c] = v[c];
          if constexpr (kIndices)
            for (int64_t c = 0; c < s.c; ++c) a[c] = first + static_cast<int32_t>(c);
          seeded = true;
          continue;
        }
        for (int64_t c = 0; c < s.c; ++c) {
          const bool larger = v[c] > b[c];
          b[c] = larger ? v[c] : b[c];
          if constexpr (kIndices) a[c] = larger ? first + static_cast<int32_t>(c) : a[c];
        }
      }
    }
  }
}

PIX_INLINE void forward_rows(const float* x, const PoolShape& s, int64_t begin, int64_t end, float* y) {
  for (int64_t np = begin; np < end; ++np) {
    const int64_t n = np / s.p;
    row_maxima<false>(x + n * s.h * s.w * s.c, s, np % s.p, y + np * s.q * s.c, nullptr);
  }
}

// dx of images [begin, end) = each output's gradient at its maximum, summed. Windows of neighbouring
// rows overlap, so a thread owns whole images, each zeroed just before its scatter (which then finds
// it in cache); the scatter is scalar, the argmax before it is not.
PIX_INLINE void backward_images(const float* x, const float* dy, const PoolShape& s, int64_t begin, int64_t end,
                                float* best, int32_t* at, float* dx) {
  const int64_t image = s.h * s.w * s.c, row = s.q * s.c;
  for (int64_t n = begin; n < end; ++n) {
    float* dxn = dx + n * image;
    std::fill(dxn, dxn + image, 0.f);
    for (int64_t p = 0; p < s.p; ++p) {
      row_maxima<true>(x + n * image, s, p, best, at);
      const float* g = dy + (n * s.p + p) * row;
      for (int64_t i = 0; i < row; ++i) dxn[at[i]] += g[i];
    }
  }
}

struct Body {
  void (*forward)(const float* x, const PoolShape& s, int64_t begin, int64_t end, float* y);
  void (*backward)(const float* x, const float* dy, const PoolShape& s, int64_t begin, int64_t end, float* best,
                   int32_t* at, float* dx);
};

#define PIX_MAXPOOL_BODY(NAME, ATTRIBUTES)                                                                      \
  ATTRIBUTES void NAME##_forward(const float* x, const PoolShape& s, int64_t begin, int64_t end, float* y) {    \
    forward_rows(x, s, begin, end, y);                                                                          \
  }                                                                                                             \
  ATTRIBUTES void NAME##_backward(const float* x, const float* dy, const PoolShape& s, int64_t begin,           \
                                  int64_t end, float* best, int32_t* at, float* dx) {                           \
    backward_images(x, dy, s, begin, end, best, at, dx);                                                        \
  }                                                                                                             \
  constexpr Body NAME##_body{NAME##_forward, NAME##_backward};

PIX_SIMD_BODIES(PIX_MAXPOOL_BODY)

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  const PoolShape s = pool_shape(x, params);
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.c}, DType::F32);
  const float* xs = x.data<float>();
  float* ys = y.data<float>();
  const Body& body = host_body();
  parallel_for(s.n * s.p, 1, [&](int64_t begin, int64_t end) { body.forward(xs, s, begin, end, ys); });
  return y;
}

void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx) {
  const PoolShape s = pool_shape(x, params);
  PIX_CHECK(dy.shape() == Shape({s.n, s.p, s.q, s.c}), "maxpool_backward: dy must be ", shape_str({s.n, s.p, s.q, s.c}));
  PIX_CHECK(dx.shape() == x.shape(), "maxpool_backward: dx must have x's shape");
  PIX_CHECK(s.h * s.w * s.c <= std::numeric_limits<int32_t>::max(), "maxpool_backward: an image of ", s.h, "x", s.w,
            "x", s.c, " has more elements than 32-bit indices reach");
  const float* xs = x.data<float>();
  const float* gs = dy.data<float>();
  float* dxs = dx.data<float>();
  const Body& body = host_body();
  parallel_for(s.n, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> best(s.q * s.c);
    std::vector<int32_t> at(s.q * s.c);
    body.backward(xs, gs, s, begin, end, best.data(), at.data(), dxs);
  });
}

}  // namespace pix::cpu
