// PiX (Pick-or-Mix), the channel-squeezing operator of PiX-ResNet (SPEC §2).
//
// x is (N,H,W,C) for NHWC or (N,C,H,W) for NCHW; the gate p is (N,K) with K = ceil(C/zeta);
// y has K channels in the layout of x. Subset k holds channels [k*zeta, min(k*zeta+zeta, C)).
//   pick (p[n,k] <  tau): y = p[n,k] * max over the subset   (first argmax carries the gradient)
//   mix  (p[n,k] >= tau): y = p[n,k] * sum over the subset / zeta   (zeta even for a short last subset)
// This is the plain operator: the gate itself (GAP -> 1x1 conv without bias -> sigmoid) is a
// separate layer. No gradient flows through the pick/mix decision.
//
// dtypes: x, y, dx, dy share one dtype: f32 or f64 on the CPU, f32 or bf16 on CUDA; p and dp are
// always f32 (f64 when x is f64), so the decision p < tau is never made on a rounded gate.
#pragma once

#include "core/tensor.h"

namespace pix {

enum class Layout { NHWC, NCHW };
const char* layout_name(Layout layout);
Layout parse_layout(const std::string& name);  // "nhwc" or "nchw"

struct PixParams {
  int zeta = 4;        // channels per subset, >= 1
  float tau = 0.5f;    // pick below, mix at or above
  Layout layout = Layout::NHWC;
};

// Sizes of one PiX call, derived and checked once by the dispatcher; kernels take this.
struct PixShape {
  int64_t n, c, k, hw;  // batch, input channels, subsets, pixels per image
};

// Which implementation runs: the backend's fast path, or the plain CPU loop it is tested against.
enum class PixKernel { Fast, Reference };

// Validates the arguments (shapes, dtypes, devices, zeta) and returns y.
Tensor pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, PixKernel kernel = PixKernel::Fast);

// Accumulates into dx (shape of x) and dp (shape of p); either may be undefined to skip it.
void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params, Tensor& dx,
                  Tensor& dp, PixKernel kernel = PixKernel::Fast);

// ---- backends (same signatures; arguments already validated) ----
namespace cpu {
void pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y);
void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params,
                  const PixShape& s, Tensor* dx, Tensor* dp);
// The plain loop every fast path is tested against (any layout, no threads).
void pix_forward_reference(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s,
                           Tensor& y);
void pix_backward_reference(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params,
                            const PixShape& s, Tensor* dx, Tensor* dp);
}  // namespace cpu

namespace cuda {
void pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y);
void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params,
                  const PixShape& s, Tensor* dx, Tensor* dp);
}  // namespace cuda

}  // namespace pix
