// linear on the CPU: three SGEMMs and a column sum.
#include "core/error.h"
#include "ops/gemm.h"
#include "ops/linear.h"

namespace pix::cpu {

Tensor linear_forward(const Tensor& x, const Tensor& w, const Tensor& b, GemmPackedB* packed_w) {
  PIX_CHECK(x.dim() == 2 && w.dim() == 2 && x.size(1) == w.size(1), "linear: x ", shape_str(x.shape()),
            " does not match weight ", shape_str(w.shape()));
  PIX_CHECK(!b.defined() || b.shape() == Shape({w.size(0)}), "linear: bias must be (", w.size(0), ")");
  const int64_t n = x.size(0), c = x.size(1), o = w.size(0);
  Tensor y = Tensor::empty({n, o}, DType::F32);
  GemmParams g;
  g.trans_b = true;
  g.m = n, g.n = o, g.k = c, g.lda = c, g.ldb = c, g.ldc = o, g.precision = cpu_compute_precision();
  g.packed_b = packed_w;
  if (b.defined()) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < o; ++j) y.data<float>()[i * o + j] = b.data<float>()[j];
    g.beta = 1.f;
  }
  sgemm(g, x.data<float>(), w.data<float>(), y.data<float>());
  return y;
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& dy, Tensor& dx, Tensor& dw, Tensor& db) {
  const int64_t n = x.size(0), c = x.size(1), o = w.size(0);
  PIX_CHECK(dy.shape() == Shape({n, o}), "linear_backward: dy must be (", n, ",", o, ")");
  GemmParams gw;  // dw (O,C) += dy^T (O,N) * x (N,C)
  gw.trans_a = true;
  gw.m = o, gw.n = c, gw.k = n, gw.lda = o, gw.ldb = c, gw.ldc = c, gw.beta = 1.f;
  gw.precision = cpu_compute_precision();
  sgemm(gw, dy.data<float>(), x.data<float>(), dw.data<float>());
  if (dx.defined()) {
    GemmParams gx;  // dx (N,C) += dy (N,O) * w (O,C)
    gx.m = n, gx.n = c, gx.k = o, gx.lda = o, gx.ldb = c, gx.ldc = c, gx.beta = 1.f;
    gx.precision = cpu_compute_precision();
    sgemm(gx, dy.data<float>(), w.data<float>(), dx.data<float>());
  }
  if (db.defined()) {
    float* dbs = db.data<float>();
    for (int64_t j = 0; j < o; ++j) {
      double acc = 0;
      for (int64_t i = 0; i < n; ++i) acc += dy.data<float>()[i * o + j];
      dbs[j] += static_cast<float>(acc);
    }
  }
}

}  // namespace pix::cpu
