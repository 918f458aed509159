#include "nn/bottleneck.h"

namespace pix::nn {

Bottleneck::Bottleneck(StateDict& state, const std::string& prefix, int64_t in, int64_t out, int stride)
    : c1_(state, prefix + ".conv1.weight", prefix + ".bn1", in, out / 4, ConvParams{1, 1, 0}, true),
      c2_(state, prefix + ".conv2.weight", prefix + ".bn2", out / 4, out / 4, ConvParams{3, stride, 1}, true),
      c3_(state, prefix + ".conv3.weight", prefix + ".bn3", out / 4, out, ConvParams{1, 1, 0}, false) {
  if (stride != 1 || in != out)
    down_ = std::make_unique<ConvBn>(state, prefix + ".downsample.0.weight", prefix + ".downsample.1", in, out,
                                     ConvParams{1, stride, 0}, false);
}

Tensor Bottleneck::infer(const Tensor& x, const Tensor& /*x_mean*/, Tensor* y_mean) {
  return c3_.infer(c2_.infer(c1_.infer(x)), down_ ? down_->infer(x) : x, y_mean);  // the join: conv3's epilogue
}

Tensor Bottleneck::forward(const Tensor& x, bool train, const Tensor& /*x_mean*/, Tensor* y_mean) {
  Tensor t1 = c1_.forward(x, train);
  Tensor t2 = c2_.forward(t1, train);
  c1_out_ = t1.shape(), c2_out_ = t2.shape();
  // The residual join is fused into bn3 (ops/batchnorm.h): y = relu(bn3(conv3(t2)) + shortcut).
  return c3_.forward(t2, train, BatchNormJoin{down_ ? down_->forward(x, train) : x, y_mean});
}

void Bottleneck::backward(const Tensor& dy, Tensor& dx) {
  // The join's gradient for the shortcut is the first to reach dx, so it overwrites it (straight
  // from bn3's backward for an identity shortcut); c1's adds to it.
  Tensor dshortcut = down_ ? Tensor::empty(dy.shape(), dy.dtype(), dy.device()) : dx;
  Tensor d2 = Tensor::empty(c2_out_, dy.dtype(), dy.device());
  c3_.backward(dy, d2, GradWrite::Overwrite, &dshortcut);
  if (down_) down_->backward(dshortcut, dx, GradWrite::Overwrite);
  Tensor d1 = Tensor::empty(c1_out_, dy.dtype(), dy.device());
  c2_.backward(d2, d1, GradWrite::Overwrite);
  c1_.backward(d1, dx, GradWrite::Accumulate);
}

int64_t Bottleneck::macs(int64_t& h, int64_t& w) const {
  const int stride = c2_.conv().params().stride;
  const int64_t out_h = (h + 2 - 3) / stride + 1, out_w = (w + 2 - 3) / stride + 1;
  int64_t total = c1_.conv().macs(h, w) + c2_.conv().macs(out_h, out_w) + c3_.conv().macs(out_h, out_w);
  if (down_) total += down_->conv().macs(out_h, out_w);
  h = out_h, w = out_w;
  return total;
}

}  // namespace pix::nn
