// maxpool on the CPU: one thread task per output row; channels innermost (contiguous in NHWC).
#include <limits>
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

// Calls visit(output index base, input pixel offset of the window's argmax, per channel) for each
// output row; `best_at` receives, per channel, the flat x index of the first maximum.
template <typename Visit>
void for_each_window(const float* xs, const PoolShape& s, const PoolParams& params, Visit&& visit) {
  parallel_for(s.n * s.p, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> best(s.c);
    std::vector<int64_t> best_at(s.c);
    for (int64_t np = begin; np < end; ++np) {
      const int64_t n = np / s.p, p = np % s.p;
      for (int64_t q = 0; q < s.q; ++q) {
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        std::fill(best_at.begin(), best_at.end(), -1);
        for (int kh = 0; kh < params.kernel; ++kh) {
          const int64_t h = p * params.stride - params.pad + kh;
          if (h < 0 || h >= s.h) continue;
          for (int kw = 0; kw < params.kernel; ++kw) {
            const int64_t w = q * params.stride - params.pad + kw;
            if (w < 0 || w >= s.w) continue;
            const int64_t base = ((n * s.h + h) * s.w + w) * s.c;
            for (int64_t c = 0; c < s.c; ++c)
              if (xs[base + c] > best[c] || best_at[c] < 0) best[c] = xs[base + c], best_at[c] = base + c;
          }
        }
        visit(((n * s.p + p) * s.q + q) * s.c, best, best_at);
      }
    }
  });
}

}  // namespace

Tensor maxpool_forward(const Tensor& x, const PoolParams& params) {
  const PoolShape s = pool_shape(x, params);
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.c}, DType::F32);
  float* ys = y.data<float>();
  for_each_window(x.data<float>(), s, params, [&](int64_t out, const std::vector<float>& best, const std::vector<int64_t>&) {
    for (int64_t c = 0; c < s.c; ++c) ys[out + c] = best[c];
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
      for_each_window(xn, per_image, params, [&](int64_t out, const std::vector<float>&, const std::vector<int64_t>& at) {
        for (int64_t c = 0; c < s.c; ++c) dxn[at[c]] += gn[out + c];
      });
    }
  });
}

}  // namespace pix::cpu
