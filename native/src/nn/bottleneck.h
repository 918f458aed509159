// The baseline ResNet v1.5 bottleneck (torchvision/timm): 1x1 (C -> width) -> 3x3 with the stride
// (width -> width) -> 1x1 (width -> 4*width), each followed by BN (ReLU on the first two), plus the
// shortcut: downsample = conv1x1(stride) + BN where the shape changes, identity otherwise.
#pragma once

#include <memory>
#include <string>

#include "nn/model.h"

namespace pix::nn {

class Bottleneck : public Block {
 public:
  Bottleneck(StateDict& state, const std::string& prefix, int64_t in, int64_t out, int stride);
  Tensor forward(const Tensor& x, bool train, const Tensor& x_mean, Tensor* y_mean) override;
  Tensor infer(const Tensor& x, const Tensor& x_mean, Tensor* y_mean) override;
  void backward(const Tensor& dy, Tensor& dx) override;
  int64_t macs(int64_t& h, int64_t& w) const override;

 private:
  ConvBn c1_, c2_, c3_;
  std::unique_ptr<ConvBn> down_;
  Shape c1_out_, c2_out_;
};

}  // namespace pix::nn
