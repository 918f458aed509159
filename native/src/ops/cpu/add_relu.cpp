// add_relu on the CPU: two elementwise loops, threaded in large chunks.
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/add_relu.h"

namespace pix::cpu {
namespace {
constexpr int64_t kGrain = 1 << 14;
}

Tensor add_relu_forward(const Tensor& a, const Tensor& b) {
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
  return y;
}

void add_relu_backward(const Tensor& y, const Tensor& dy, Tensor& da, Tensor& db, GradWrite da_write,
                       GradWrite db_write) {
  PIX_CHECK(y.shape() == dy.shape(), "add_relu_backward: dy must have y's shape");
  const float* ys = y.data<float>();
  const float* gs = dy.data<float>();
  float* das = da.defined() ? da.data<float>() : nullptr;
  float* dbs = db.defined() ? db.data<float>() : nullptr;
  const bool a_over = da_write == GradWrite::Overwrite, b_over = db_write == GradWrite::Overwrite;
  parallel_for(y.numel(), kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float g = ys[i] > 0.f ? gs[i] : 0.f;
      if (das) das[i] = a_over ? g : das[i] + g;
      if (dbs) dbs[i] = b_over ? g : dbs[i] + g;
    }
  });
}

}  // namespace pix::cpu
