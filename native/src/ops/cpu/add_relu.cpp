// add_relu on the CPU: two elementwise loops, threaded in large chunks.
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/add_relu.h"
#include "ops/global_avg_pool.h"

namespace pix::cpu {
namespace {
constexpr int64_t kGrain = 1 << 14;
}

Tensor add_relu_forward(const Tensor& a, const Tensor& b, Tensor* mean) {
  PIX_CHECK(a.shape() == b.shape(), "add_relu: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()), " differ");
  PIX_CHECK(a.dtype() == DType::F32 && b.dtype() == DType::F32, "add_relu: the CPU backend computes in f32");
  Tensor y = Tensor::empty(a.shape(), DType::F32);
  const float* as = a.data<float>();
  const float* bs = b.data<float>();
  float* ys = y.data<float>();
  parallel_for(a.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float v = as[i] + bs[i];
      ys[i] = v > 0.f ? v : 0.f;
    }
  });
  // A second pass here: the CPU's evaluation fuses the mean into the convolution's epilogue, and
  // its training is bound by the convolutions.
  if (mean) *mean = cpu::global_avg_pool_forward(y);
  return y;
}

namespace {

// One loop per combination of outputs and write modes, with restrict pointers, so that each
// vectorises: the identity shortcut's (overwrite da, accumulate db) is the common one in training.
template <bool kA, bool kAccumulateA, bool kB, bool kAccumulateB>
void backward_range(const float* __restrict__ y, const float* __restrict__ dy, float* __restrict__ da,
                    float* __restrict__ db, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gradient = dy[i];  // loaded whatever the mask, so the select vectorises
    const float g = y[i] > 0.f ? gradient : 0.f;
    if constexpr (kA) da[i] = kAccumulateA ? da[i] + g : g;
    if constexpr (kB) db[i] = kAccumulateB ? db[i] + g : g;
  }
}

using BackwardRange = void (*)(const float*, const float*, float*, float*, int64_t, int64_t);

template <bool kA, bool kAccumulateA>
BackwardRange pick_b(bool has_b, bool accumulate_b) {
  if (!has_b) return backward_range<kA, kAccumulateA, false, false>;
  return accumulate_b ? backward_range<kA, kAccumulateA, true, true> : backward_range<kA, kAccumulateA, true, false>;
}

BackwardRange pick(bool has_a, bool accumulate_a, bool has_b, bool accumulate_b) {
  if (!has_a) return pick_b<false, false>(has_b, accumulate_b);
  return accumulate_a ? pick_b<true, true>(has_b, accumulate_b) : pick_b<true, false>(has_b, accumulate_b);
}

}  // namespace

void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write) {
  PIX_CHECK(y.shape() == dy.shape(), "add_relu_backward: dy must have y's shape");
  const float* ys = y.data<float>();
  const float* gs = dy.data<float>();
  float* das = da.defined() ? da.data<float>() : nullptr;
  float* dbs = db.defined() ? db.data<float>() : nullptr;
  PIX_CHECK(das == nullptr || das != dbs, "add_relu_backward: da and db must be different tensors");
  const BackwardRange range = pick(das != nullptr, da_write == GradWrite::Accumulate, dbs != nullptr,
                                   db_write == GradWrite::Accumulate);
  parallel_for(y.numel(), kGrain, [&](int64_t begin, int64_t end) { range(ys, gs, das, dbs, begin, end); });
}

}  // namespace pix::cpu
