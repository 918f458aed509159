// maxpool on the CPU: one thread task per output row; channels innermost (contiguous in NHWC).
#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/maxpool.h"

namespace pix::cpu {
namespace {

struct PoolShape {
  int64_t n, h, w, c, p, q;
};

PoolShape pool_shape(const Tensor& x, const PoolParams& params) {
  PIX_CHECK(x.dim() == 4 && x.dtype() == DType::F32, "maxpool: x must be f32 (N,H,W,C), got ", shape_str(x.shape()));
  PIX_CHECK(params.pad * 2 <= params.kernel, "maxpool: pad must be at most half the kernel");
  PoolShape s{x.size(0), x.size(1), x.size(2), x.size(3), 0, 0};
  PIX_CHECK(s.h + 2 * params.pad >= params.kernel && s.w + 2 * params.pad >= params.kernel, "maxpool: input ", s.h,
            "x", s.w, " is smaller than the window");
  s.p = (s.h + 2 * params.pad - params.kernel) / params.stride + 1;
  s.q = (s.w + 2 * params.pad - params.kernel) / params.stride + 1;
  return s;
}

// best = the larger of best and row, the earlier on a tie: a plain select that vectorises. With
// best_at (the backward's need), also the flat x index base + c of each maximum.
template <bool kIndices>
void take_larger(const float* __restrict__ row, int64_t base, float* __restrict__ best, int64_t* __restrict__ best_at,
                 int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    const float v = row[c], b = best[c];
    best[c] = v > b ? v : b;
    if constexpr (kIndices)
      if (v > b) best_at[c] = base + c;
  }
}

// Calls visit(output index base, per-channel maxima, their flat x indices) for each output pixel:
// the first maximum in window order (rows, then columns), as PyTorch's. The window's first pixel
// inside the image seeds the maxima, so the loop after it is take_larger's compare-and-select.
template <bool kIndices, typename Visit>
void for_each_window(const float* xs, const PoolShape& s, const PoolParams& params, Visit&& visit) {
  parallel_for(s.n * s.p, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> best(s.c);
    std::vector<int64_t> best_at(kIndices ? s.c : 0);
    for (int64_t np = begin; np < end; ++np) {
      const int64_t n = np / s.p, p = np % s.p;
      for (int64_t q = 0; q < s.q; ++q) {
        bool seeded = false;
        for (int kh = 0; kh < params.kernel; ++kh) {
          const int64_t h = p * params.stride - params.pad + kh;
          if (h < 0 || h >= s.h) continue;
          for (int kw = 0; kw < params.kernel; ++kw) {
            const int64_t w = q * params.stride - params.pad + kw;
            if (w < 0 || w >= s.w) continue;
            const int64_t base = ((n * s.h + h) * s.w + w) * s.c;
            if (seeded) {
              take_larger<kIndices>(xs + base, base, best.data(), best_at.data(), s.c);
              continue;
            }
            std::copy(xs + base, xs + base + s.c, best.begin());
            if constexpr (kIndices)
              for (int64_t c = 0; c < s.c; ++c) best_at[c] = base + c;
            seeded = true;
          }
        }
        visit(((n * s.p + p) * s.q + q) * s.c, best.data(), best_at.data());
      }
    }
  });
}

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  const PoolShape s = pool_shape(x, params);
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.c}, DType::F32);
  float* ys = y.data<float>();
  for_each_window<false>(x.data<float>(), s, params, [&](int64_t out, const float* best, const int64_t*) {
    std::copy(best, best + s.c, ys + out);
  });
  return y;
}

void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx) {
  const PoolShape s = pool_shape(x, params);
  PIX_CHECK(dy.shape() == Shape({s.n, s.p, s.q, s.c}), "maxpool_backward: dy must be ", shape_str({s.n, s.p, s.q, s.c}));
  PIX_CHECK(dx.shape() == x.shape(), "maxpool_backward: dx must have x's shape");
  // Windows of neighbouring output rows overlap (stride < kernel): gather per image row band is
  // racy, so threads own whole images here.
  const float* gs = dy.data<float>();
  float* dxs = dx.data<float>();
  const PoolShape per_image{1, s.h, s.w, s.c, s.p, s.q};
  parallel_for(s.n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* xn = x.data<float>() + n * s.h * s.w * s.c;
      float* dxn = dxs + n * s.h * s.w * s.c;
      const float* gn = gs + n * s.p * s.q * s.c;
      for_each_window<true>(xn, per_image, params, [&](int64_t out, const float*, const int64_t* at) {
        for (int64_t c = 0; c < s.c; ++c) dxn[at[c]] += gn[out + c];
      });
    }
  });
}

}  // namespace pix::cpu
