// BatchNorm on the CPU. Rows (pixels) are split across threads; each thread sums its rows per
// channel in double (the backward first sums blocks of 32 rows in f32, so its loops vectorise), and
// the partial sums are added in a fixed order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/batchnorm.h"

namespace pix::cpu {
namespace {

constexpr int64_t kRowsPerTask = 256;

struct Dims {
  int64_t rows, c;
};

Dims check(const char* op, const Tensor& x, const Tensor& gamma) {
  PIX_CHECK(x.defined() && x.dim() >= 2, op, ": x must be (..., C)");
  PIX_CHECK(x.dtype() == DType::F32 && x.device().is_cpu(), op, ": the CPU backend computes in f32");
  const int64_t c = x.size(-1);
  PIX_CHECK(gamma.shape() == Shape({c}), op, ": gamma must be (", c, "), got ", shape_str(gamma.shape()));
  PIX_CHECK(x.numel() > 0, op, ": x is empty");
  return {x.numel() / c, c};
}

// Per-channel sums over all rows, in double, deterministically: block_fn(r0, r1, acc) adds rows
// [r0, r1) (at most `block_rows` of them, within one task) into `width` planes of C accumulators
// (plane k at acc[k * C], so the inner loops over channels vectorise); each task's partial sums
// are then added in a fixed order.
template <typename BlockFn>
std::vector<double> channel_sums(const Dims& d, int width, int64_t block_rows, BlockFn&& block_fn) {
  const int64_t tasks = (d.rows + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<double> partial(static_cast<size_t>(tasks * d.c * width), 0.0);
  parallel_for(tasks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      double* acc = partial.data() + t * d.c * width;
      const int64_t r_end = std::min(d.rows, (t + 1) * kRowsPerTask);
      for (int64_t r = t * kRowsPerTask; r < r_end; r += block_rows) block_fn(r, std::min(r_end, r + block_rows), acc);
    }
  });
  std::vector<double> total(static_cast<size_t>(d.c * width), 0.0);
  for (int64_t t = 0; t < tasks; ++t)
    for (int64_t i = 0; i < d.c * width; ++i) total[i] += partial[t * d.c * width + i];
  return total;
}

void normalize(const Tensor& x, const float* mean, const float* invstd, const Tensor& gamma, const Tensor& beta,
               bool relu, const Dims& d, Tensor& y) {
  const float* xs = x.data<float>();
  const float* g = gamma.data<float>();
  const float* b = beta.data<float>();
  float* ys = y.data<float>();
  std::vector<float> scale(d.c), shift(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    scale[c] = g[c] * invstd[c];
    shift[c] = b[c] - mean[c] * scale[c];
  }
  parallel_for(d.rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* xr = xs + r * d.c;
      float* yr = ys + r * d.c;
      for (int64_t c = 0; c < d.c; ++c) {
        const float v = xr[c] * scale[c] + shift[c];
        yr[c] = relu && v < 0.f ? 0.f : v;
      }
    }
  });
}

}  // namespace

Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved) {
  const Dims d = check("batchnorm", x, gamma);
  PIX_CHECK(d.rows > 1, "batchnorm: training needs more than one value per channel (got input ",
            shape_str(x.shape()), "); use a larger batch or evaluation mode");
  const float* xs = x.data<float>();
  // One pass: sums of (x - shift) and its square, shifted by the first row so the variance does
  // not cancel catastrophically when |mean| >> std.
  const float* shift = xs;
  const std::vector<double> sums = channel_sums(d, 2, 1, [&](int64_t r, int64_t, double* acc) {
    const float* xr = xs + r * d.c;
    for (int64_t c = 0; c < d.c; ++c) {
      const double v = xr[c] - shift[c];
      acc[c] += v;
      acc[d.c + c] += v * v;
    }
  });
  std::vector<double> mean(d.c), centred_var(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const double m = sums[c] / static_cast<double>(d.rows);
    mean[c] = shift[c] + m;
    centred_var[c] = std::max(0.0, sums[d.c + c] / static_cast<double>(d.rows) - m * m);
  }
  saved.mean = Tensor::empty({d.c}, DType::F32);
  saved.invstd = Tensor::empty({d.c}, DType::F32);
  float* rm = running_mean.data<float>();
  float* rv = running_var.data<float>();
  const double n = static_cast<double>(d.rows);
  for (int64_t c = 0; c < d.c; ++c) {
    const double var = centred_var[c];
    saved.mean.data<float>()[c] = static_cast<float>(mean[c]);
    saved.invstd.data<float>()[c] = static_cast<float>(1.0 / std::sqrt(var + params.eps));
    rm[c] = static_cast<float>((1.0 - params.momentum) * rm[c] + params.momentum * mean[c]);
    rv[c] = static_cast<float>((1.0 - params.momentum) * rv[c] + params.momentum * var * n / (n - 1.0));
  }
  Tensor y = Tensor::empty(x.shape(), DType::F32);
  normalize(x, saved.mean.data<float>(), saved.invstd.data<float>(), gamma, beta, params.relu, d, y);
  return y;
}

Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params) {
  const Dims d = check("batchnorm", x, gamma);
  std::vector<float> invstd(d.c);
  const float* rv = running_var.data<float>();
  for (int64_t c = 0; c < d.c; ++c) invstd[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[c]) + params.eps));
  Tensor y = Tensor::empty(x.shape(), DType::F32);
  normalize(x, running_mean.data<float>(), invstd.data(), gamma, beta, params.relu, d, y);
  return y;
}

namespace {

constexpr int64_t kBlockRows = 32;  // rows summed in f32 before they join the double sums

// g where the fused ReLU let y through, else 0. Both loads unconditional, so the select is a
// vector blend: a load behind the branch kept the loops scalar, and with a ReLU mask as random as
// real activations' (across channels) mispredicted half the time, 5x slower than on smooth data.
template <bool kRelu>
inline float relu_masked(const float* __restrict__ y, const float* __restrict__ g, int64_t c) {
  if constexpr (!kRelu) return g[c];
  const float gradient = g[c];
  return y[c] > 0.f ? gradient : 0.f;
}

// The backward's two sums per channel, g = dy (or 0 where the fused ReLU's y <= 0):
// sums[c] = Σ g and sums[C + c] = Σ g·(x − mean). Each block of kBlockRows rows is summed in f32
// lane-parallel over channels (the loop vectorises, which the double accumulation did not), and
// the block sums are added in double, in a fixed order, as channel_sums does.
template <bool kRelu>
std::vector<double> backward_sums(const Dims& d, const float* __restrict__ xs, const float* __restrict__ gs,
                                  const float* __restrict__ ys, const float* __restrict__ mean) {
  return channel_sums(d, 2, kBlockRows, [&](int64_t r0, int64_t r1, double* acc) {
    thread_local std::vector<float> sums;
    sums.assign(static_cast<size_t>(2 * d.c), 0.0f);
    float* __restrict__ sum_g = sums.data();
    float* __restrict__ sum_gx = sums.data() + d.c;
    for (int64_t r = r0; r < r1; ++r) {
      const float* __restrict__ x = xs + r * d.c;
      const float* __restrict__ g = gs + r * d.c;
      const float* __restrict__ y = kRelu ? ys + r * d.c : nullptr;
      for (int64_t c = 0; c < d.c; ++c) {
        const float gc = relu_masked<kRelu>(y, g, c);
        sum_g[c] += gc;
        sum_gx[c] += gc * (x[c] - mean[c]);
      }
    }
    for (int64_t i = 0; i < 2 * d.c; ++i) acc[i] += sums[i];
  });
}

// dx (+)= k_dy·g − k_mean − k_x·(x − mean) per channel.
template <bool kRelu, bool kAccumulate>
void backward_dx(const Dims& d, const float* __restrict__ xs, const float* __restrict__ gs, const float* __restrict__ ys,
                 const float* __restrict__ mean, const float* __restrict__ k_dy, const float* __restrict__ k_mean,
                 const float* __restrict__ k_x, float* __restrict__ dxs) {
  parallel_for(d.rows, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* __restrict__ x = xs + r * d.c;
      const float* __restrict__ g = gs + r * d.c;
      const float* __restrict__ y = kRelu ? ys + r * d.c : nullptr;
      float* __restrict__ dx = dxs + r * d.c;
      for (int64_t c = 0; c < d.c; ++c) {
        const float gc = relu_masked<kRelu>(y, g, c);
        const float v = k_dy[c] * gc - k_mean[c] - k_x[c] * (x[c] - mean[c]);
        dx[c] = kAccumulate ? dx[c] + v : v;
      }
    }
  });
}

}  // namespace

void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write) {
  const Dims d = check("batchnorm_backward", x, gamma);
  PIX_CHECK(dy.shape() == x.shape(), "batchnorm_backward: dy must have x's shape");
  PIX_CHECK(saved.mean.defined(), "batchnorm_backward: needs the statistics saved by a training forward");
  PIX_CHECK(!params.relu || y.defined(), "batchnorm_backward: the fused ReLU needs the forward output");
  const float* xs = x.data<float>();
  const float* gs = dy.data<float>();
  const float* ys = params.relu ? y.data<float>() : nullptr;
  const float* mean = saved.mean.data<float>();
  const float* invstd = saved.invstd.data<float>();

  const std::vector<double> sums = params.relu ? backward_sums<true>(d, xs, gs, ys, mean)
                                               : backward_sums<false>(d, xs, gs, ys, mean);
  float* dg = dgamma.data<float>();
  float* db = dbeta.data<float>();
  for (int64_t c = 0; c < d.c; ++c) {
    db[c] += static_cast<float>(sums[c]);
    dg[c] += static_cast<float>(sums[d.c + c] * invstd[c]);  // Σ g·xhat
  }
  if (!dx.defined()) return;
  const float* g = gamma.data<float>();
  const double n = static_cast<double>(d.rows);
  std::vector<float> k_dy(d.c), k_mean(d.c), k_x(d.c);
  for (int64_t c = 0; c < d.c; ++c) {
    const double scale = static_cast<double>(g[c]) * invstd[c];
    k_dy[c] = static_cast<float>(scale);                                              // of g
    k_mean[c] = static_cast<float>(scale * sums[c] / n);                              // of the mean gradient
    k_x[c] = static_cast<float>(scale * sums[d.c + c] * invstd[c] * invstd[c] / n);  // of (x − mean)
  }
  float* dxs = dx.data<float>();
  const bool accumulate = dx_write == GradWrite::Accumulate;
  if (params.relu)
    accumulate ? backward_dx<true, true>(d, xs, gs, ys, mean, k_dy.data(), k_mean.data(), k_x.data(), dxs)
               : backward_dx<true, false>(d, xs, gs, ys, mean, k_dy.data(), k_mean.data(), k_x.data(), dxs);
  else
    accumulate ? backward_dx<false, true>(d, xs, gs, ys, mean, k_dy.data(), k_mean.data(), k_x.data(), dxs)
               : backward_dx<false, false>(d, xs, gs, ys, mean, k_dy.data(), k_mean.data(), k_x.data(), dxs);
}

}  // namespace pix::cpu
