// The PiX-ResNet bottleneck (SPEC §3), channel-squeezing mode:
//   p = gate(x); t = PiX(x, p)                       (C -> S = C/zeta channels, no BN/ReLU)
//   t = ReLU(BN(conv3x3(t, stride)))  (S -> S)       conv_ce / bn_ce
//   t = BN(conv1x1(t))                (S -> C_out)   conv_exp / bn_exp
//   out = ReLU(t + shortcut), shortcut = BN(conv1x1(x, stride)) in a stage's first block
//   (conv_proj / bn_proj), identity otherwise.
#pragma once

#include <memory>
#include <string>

#include "nn/model.h"

namespace pix::nn {

class PixBottleneck : public Block {
 public:
  PixBottleneck(StateDict& state, const std::string& prefix, int64_t in, int64_t out, int zeta, int stride,
                bool projection);
  Tensor forward(const Tensor& x, bool train, const Tensor& x_mean, Tensor* y_mean) override;
  Tensor infer(const Tensor& x, const Tensor& x_mean, Tensor* y_mean) override;
  void backward(const Tensor& dy, Tensor& dx) override;
  int64_t macs(int64_t& h, int64_t& w) const override;
  bool reads_input_mean() const override { return true; }
  Tensor last_gate() const override { return p_; }
  float gate_tau() const override { return pix_.tau; }

 private:
  PixGate gate_;
  PixParams pix_;
  ConvBn ce_, exp_;
  std::unique_ptr<ConvBn> proj_;
  Tensor x_, p_;
};

}  // namespace pix::nn
