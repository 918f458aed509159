#include "nn/pix_bottleneck.h"

namespace pix::nn {
namespace {
int64_t squeezed(int64_t channels, int zeta) { return (channels + zeta - 1) / zeta; }
}  // namespace

PixBottleneck::PixBottleneck(StateDict& state, const std::string& prefix, int64_t in, int64_t out, int zeta,
                             int stride, bool projection)
    : gate_(state, prefix + ".conv_sqz.weight", in, squeezed(in, zeta)),
      ce_(state, prefix + ".conv_ce.weight", prefix + ".bn_ce", squeezed(in, zeta), squeezed(in, zeta),
          ConvParams{3, stride, 1}, /*relu=*/true),
      exp_(state, prefix + ".conv_exp.weight", prefix + ".bn_exp", squeezed(in, zeta), out, ConvParams{1, 1, 0},
           /*relu=*/false) {
  pix_.zeta = zeta;
  pix_.layout = Layout::NHWC;
  if (projection)
    proj_ = std::make_unique<ConvBn>(state, prefix + ".conv_proj.weight", prefix + ".bn_proj", in, out,
                                     ConvParams{1, stride, 0}, /*relu=*/false);
}

Tensor PixBottleneck::infer(const Tensor& x, const Tensor& x_mean, Tensor* y_mean) {
  x_ = Tensor();  // nothing saved for a backward
  p_ = x_mean.defined() ? gate_.forward_pooled(x_mean) : gate_.forward(x);
  // The join is conv_exp's epilogue.
  return exp_.infer(ce_.infer(pix_forward(x, p_, pix_)), proj_ ? proj_->infer(x) : x, y_mean);
}

Tensor PixBottleneck::forward(const Tensor& x, bool train, const Tensor& x_mean, Tensor* y_mean) {
  p_ = x_mean.defined() ? gate_.forward_from_mean(x_mean) : gate_.forward(x);
  x_ = x;
  // The residual join is fused into bn_exp (ops/batchnorm.h): y = relu(bn_exp(conv_exp(.)) + shortcut).
  const BatchNormJoin join{proj_ ? proj_->forward(x, train) : x, y_mean};
  return exp_.forward(ce_.forward(pix_forward(x, p_, pix_), train), train, join);
}

void PixBottleneck::backward(const Tensor& dy, Tensor& dx) {
  // The residual join (fused into bn_exp): the branch and the shortcut get the same gradient. dx
  // (the block input's gradient) has three contributors, shortcut, PiX and gate: the shortcut's
  // overwrites it (no zeroing pass), the others add to it.
  Tensor dshortcut = proj_ ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : dx;  // identity: straight into dx
  // conv_exp's input is bn_ce's output: (N, P, Q, S), at the block's output resolution.
  Tensor dce_out = Tensor::empty({dy.size(0), dy.size(1), dy.size(2), ce_.conv().out_channels()}, dy.dtype(), dy.device());
  exp_.backward(dy, dce_out, GradWrite::Overwrite, &dshortcut);
  if (proj_) proj_->backward(dshortcut, dx, GradWrite::Overwrite);
  Tensor dpix_out = Tensor::empty({x_.size(0), x_.size(1), x_.size(2), p_.size(1)}, dy.dtype(), dy.device());
  ce_.backward(dce_out, dpix_out, GradWrite::Overwrite);
  Tensor dp = Tensor::zeros(p_.shape(), DType::F32, p_.device());
  pix_backward(x_, p_, dpix_out, pix_, dx, dp);
  gate_.backward(dp, dx);
}

int64_t PixBottleneck::macs(int64_t& h, int64_t& w) const {
  const int64_t out_h = (h + 2 - 3) / ce_.conv().params().stride + 1;
  const int64_t out_w = (w + 2 - 3) / ce_.conv().params().stride + 1;
  int64_t total = gate_.macs();
  total += ce_.conv().macs(out_h, out_w) + exp_.conv().macs(out_h, out_w);
  if (proj_) total += proj_->conv().macs(out_h, out_w);
  h = out_h, w = out_w;
  return total;
}

}  // namespace pix::nn
