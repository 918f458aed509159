// Layers: each owns its state-dict entries and the activations its backward needs, and pairs a
// forward with a backward that accumulates into parameter gradients and writes the input gradient
// as its GradWrite says (Caffe/llm.c style: no autograd, the network calls backward in reverse
// order).
//
// Activations are NHWC: x (N,H,W,C). `train` selects batch statistics in BatchNorm.
//
// Inference (ConvBn::infer) runs conv -> BN (-> ReLU) as one convolution with BatchNorm folded into
// its weights, ending in the convolution's epilogue (on CUDA, cuDNN's fused call); training keeps
// the two layers (forward).
#pragma once

#include <array>
#include <memory>
#include <string>

#include "nn/state_dict.h"
#include "ops/batchnorm.h"
#include "ops/conv2d.h"
#include "ops/pix.h"

namespace pix::nn {

class Conv {
 public:
  Conv(StateDict& state, const std::string& key, int64_t in, int64_t out, ConvParams params);
  Tensor forward(const Tensor& x);
  // dx may be undefined when the input needs no gradient (the network's input).
  void backward(const Tensor& dy, Tensor& dx, GradWrite dx_write);
  int64_t macs(int64_t p, int64_t q) const;  // multiply-accumulates for a P x Q output
  const ConvParams& params() const { return params_; }
  int64_t out_channels() const { return weight_->value().size(0); }
  const StateEntry& weight() const { return *weight_; }

 private:
  // The weight the convolution of x takes: its f32 value, or for bf16 activations on CUDA a bf16
  // copy made once per version of the weight (as autocast's cache): a training step's forward and
  // backward share one cast, and evaluation forwards (and their CUDA graphs) make none until the
  // weights change.
  const Tensor& weight_for(const Tensor& x);

  StateEntry* weight_;
  ConvParams params_;
  Tensor x_;
  Tensor cast_weight_;
  uint64_t cast_version_ = 0;
};

class BatchNorm {
 public:
  BatchNorm(StateDict& state, const std::string& prefix, int64_t channels, bool relu);
  // With join.residual: a bottleneck's residual join fused in (ops/batchnorm.h), whose backward then
  // writes the shortcut's gradient into dresidual.
  Tensor forward(const Tensor& x, bool train, const BatchNormJoin& join = {});
  void backward(const Tensor& dy, Tensor& dx, GradWrite dx_write, Tensor* dresidual = nullptr);
  const StateDict::BnEntries& entries() const { return e_; }
  const BatchNormParams& params() const { return params_; }

 private:
  StateDict::BnEntries e_;
  BatchNormParams params_;
  BatchNormSaved saved_;
  Tensor x_, y_;
};

// conv -> BN (-> ReLU): every convolution of both networks is followed by BatchNorm.
class ConvBn {
 public:
  ConvBn(StateDict& state, const std::string& conv_key, const std::string& bn_prefix, int64_t in, int64_t out,
         ConvParams params, bool relu);
  Tensor forward(const Tensor& x, bool train, const BatchNormJoin& join = {});
  // After a join, dresidual (non-null) is overwritten with the shortcut's gradient.
  void backward(const Tensor& dy, Tensor& dx, GradWrite dx_write, Tensor* dresidual = nullptr);
  const Conv& conv() const { return conv_; }

  // Evaluation mode (can_infer: f32 on the CPU, f32 or bf16 on CUDA): BatchNorm with its running
  // statistics folded into the convolution, w' = w * s (per output channel o), b' = beta - mean * s
  // with s = gamma / sqrt(var + eps), and y = ReLU?(conv(x, w') + b') written once. With a shortcut
  // (only on a layer without its own ReLU) it is a bottleneck's residual join:
  // y = ReLU(conv(x, w') + b' + shortcut). A non-null mean receives y's global average pool (N,O),
  // taken in the same epilogue on the CPU. Saves nothing for a backward. On CUDA w' and b' are
  // kept in x's dtype on x's device, as cuDNN's fused call takes them.
  static bool can_infer(const Tensor& x) { return x.device().is_cuda() || x.dtype() == DType::F32; }
  Tensor infer(const Tensor& x, const Tensor& shortcut = Tensor(), Tensor* mean = nullptr);

 private:
  // The folded weights for x, recomputed when any of the entries they are made of has been written
  // since (StateEntry::version counts every write: a load, an optimizer step, a training forward's
  // statistics update, a move) or x's device or dtype differs, and dropped by a training forward,
  // which makes them stale. Folded on the CPU in double; CUDA's copies are made from that.
  void refold(const Tensor& x);

  Conv conv_;
  BatchNorm bn_;
  Tensor folded_weight_, folded_bias_;
  // The folded weights' SGEMM panels, packed on the first inference, kept until the next folding.
  std::unique_ptr<GemmPackedB> packed_weights_ = std::make_unique<GemmPackedB>();
  std::array<uint64_t, 5> folded_versions_{};  // of the conv weight and gamma, beta, mean, var
};

// The PiX gate: p (N,K) = sigmoid(GAP(x) * w^T), w = conv_sqz (K,C) without bias.
class PixGate {
 public:
  PixGate(StateDict& state, const std::string& key, int64_t channels, int64_t subsets);
  Tensor forward(const Tensor& x);
  // The same from x's global average pool (N,C), taken by the residual join that wrote x.
  Tensor forward_from_mean(const Tensor& pooled);
  // From x's global average pool (N,C), already taken (evaluation; no backward follows).
  Tensor forward_pooled(const Tensor& pooled);
  void backward(const Tensor& dp, Tensor& dx);  // dx (N,H,W,C) += through the pooling
  int64_t macs() const { return weight_->value().numel(); }

 private:
  StateEntry* weight_;
  Tensor pooled_, p_;
  // conv_sqz's SGEMM panels for evaluation (forward_pooled), kept while the weight is unchanged.
  std::unique_ptr<GemmPackedB> panels_ = std::make_unique<GemmPackedB>();
};

}  // namespace pix::nn
