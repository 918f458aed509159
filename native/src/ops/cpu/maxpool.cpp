// maxpool on the CPU: one thread task per output row; channels innermost (contiguous in NHWC).
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

// best = the larger of best and row, the earlier on a tie; best_k = k where row is larger. Plain
// loads and selects: the forward's (no positions) vectorises; with positions GCC still branches.
template <bool kPositions>
void take_larger(const float* __restrict__ row, float* __restrict__ best, float* __restrict__ best_k, float k,
                 int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    const float v = row[c], b = best[c];
    best[c] = v > b ? v : b;
    if constexpr (kPositions) {
      const float at = best_k[c];
      best_k[c] = v > b ? k : at;
    }
  }
}

// d += g where best_k == k (the channels whose maximum sits at window position k).
void add_at(float* __restrict__ d, const float* __restrict__ g, const float* __restrict__ best_k, float k,
            int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    const float gradient = g[c];
    d[c] += best_k[c] == k ? gradient : 0.f;
  }
}

// Calls visit(n, p, q, output index base, per-channel maxima, their window positions kh * kernel + kw)
// for each output pixel: the first maximum in window order (rows, then columns), as PyTorch's. The
// window's first pixel inside the image seeds the maxima, so the loop after it is a plain
// compare-and-select over channels (take_larger). kPositions: also track where each maximum is
// (the backward's need), as floats (small integers, exact) so that the selects stay one type.
template <bool kPositions, typename Visit>
void for_each_window(const float* xs, const PoolShape& s, const PoolParams& params, Visit&& visit) {
  parallel_for(s.n * s.p, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> best_storage(s.c);
    std::vector<float> position_storage(kPositions ? s.c : 0);
    float* __restrict__ best = best_storage.data();
    float* __restrict__ best_k = position_storage.data();
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
            const float* __restrict__ row = xs + ((n * s.h + h) * s.w + w) * s.c;
            const float k = static_cast<float>(kh * params.kernel + kw);
            if (!seeded) {
              for (int64_t c = 0; c < s.c; ++c) best[c] = row[c];
              if constexpr (kPositions)
                for (int64_t c = 0; c < s.c; ++c) best_k[c] = k;
              seeded = true;
              continue;
            }
            take_larger<kPositions>(row, best, best_k, k, s.c);
          }
        }
        visit(n, p, q, ((n * s.p + p) * s.q + q) * s.c, best, best_k);
      }
    }
  });
}

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  const PoolShape s = pool_shape(x, params);
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.c}, DType::F32);
  float* ys = y.data<float>();
  for_each_window<false>(x.data<float>(), s, params, [&](int64_t, int64_t, int64_t, int64_t out, const float* best,
                                                           const float*) {
    for (int64_t c = 0; c < s.c; ++c) ys[out + c] = best[c];
  });
  return y;
}

void maxpool_backward(const Tensor& x, const Tensor& dy, const PoolParams& params, Tensor& dx) {
  const PoolShape s = pool_shape(x, params);
  PIX_CHECK(dy.shape() == Shape({s.n, s.p, s.q, s.c}), "maxpool_backward: dy must be ", shape_str({s.n, s.p, s.q, s.c}));
  PIX_CHECK(dx.shape() == x.shape(), "maxpool_backward: dx must have x's shape");
  // Windows of neighbouring output rows overlap (stride < kernel): gather per image row band is
  // racy, so threads own whole images here. Each window hands its gradient to its pixels in window
  // order, each channel's only to the position of its maximum: masked adds over contiguous channels
  // instead of a scatter, and each dx element still receives its sums in output order.
  const float* gs = dy.data<float>();
  float* dxs = dx.data<float>();
  const PoolShape per_image{1, s.h, s.w, s.c, s.p, s.q};
  parallel_for(s.n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n) {
      const float* xn = x.data<float>() + n * s.h * s.w * s.c;
      float* dxn = dxs + n * s.h * s.w * s.c;
      const float* gn = gs + n * s.p * s.q * s.c;
      for_each_window<true>(xn, per_image, params, [&](int64_t, int64_t p, int64_t q, int64_t out, const float*,
                                                         const float* best_k) {
        const float* g = gn + out;
        for (int kh = 0; kh < params.kernel; ++kh) {
          const int64_t h = p * params.stride - params.pad + kh;
          if (h < 0 || h >= s.h) continue;
          for (int kw = 0; kw < params.kernel; ++kw) {
            const int64_t w = q * params.stride - params.pad + kw;
            if (w < 0 || w >= s.w) continue;
            const float k = static_cast<float>(kh * params.kernel + kw);
            add_at(dxn + (h * s.w + w) * s.c, g, best_k, k, s.c);
          }
        }
      });
    }
  });
}

}  // namespace pix::cpu
