#include "nn/layers.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"

#include "ops/cast.h"
#include "ops/global_avg_pool.h"
#include "ops/linear.h"
#include "ops/sigmoid.h"

namespace pix::nn {
namespace {
// Weights scaled per parallel_for chunk at least when folding: less is not worth a wake-up.
constexpr int64_t kFoldGrain = int64_t{1} << 14;
}  // namespace

// ---- Conv ------------------------------------------------------------------------------------

Conv::Conv(StateDict& state, const std::string& key, int64_t in, int64_t out, ConvParams params)
    : weight_(state.conv_weight(key, out, in, params.kernel)), params_(params) {}

const Tensor& Conv::weight_for(const Tensor& x) {
  const Tensor& w = weight_->value();
  if (x.dtype() == w.dtype() || !x.device().is_cuda()) {
    cast_weight_ = Tensor();  // f32 again: the copy goes back
    return w;
  }
  const bool stale = !cast_weight_.defined() || cast_version_ != weight_->version() ||
                     cast_weight_.dtype() != x.dtype() || cast_weight_.device() != w.device();
  if (stale) {
    cast_weight_ = cast(w, x.dtype());
    cast_version_ = weight_->version();
  }
  return cast_weight_;
}

Tensor Conv::forward(const Tensor& x) {
  x_ = x;
  return conv2d_forward(x, weight_for(x), params_);
}

void Conv::backward(const Tensor& dy, Tensor& dx, GradWrite dx_write) {
  conv2d_backward(x_, weight_for(x_), dy, params_, dx, weight_->grad, ConvKernel::Fast, dx_write);
}

int64_t Conv::macs(int64_t p, int64_t q) const { return p * q * weight_->value().numel(); }

// ---- BatchNorm -------------------------------------------------------------------------------

BatchNorm::BatchNorm(StateDict& state, const std::string& prefix, int64_t channels, bool relu)
    : e_(state.batchnorm(prefix, channels)) {
  params_.relu = relu;
}

Tensor BatchNorm::forward(const Tensor& x, bool train, const BatchNormJoin& join) {
  if (!train) {
    x_ = Tensor();
    return batchnorm_forward_eval(x, e_.weight->value(), e_.bias->value(), e_.running_mean->value(),
                                  e_.running_var->value(), params_, join);
  }
  x_ = x;
  y_ = batchnorm_forward_train(x, e_.weight->value(), e_.bias->value(), e_.running_mean->mutable_value(),
                               e_.running_var->mutable_value(), params_, saved_, join);
  e_.num_batches_tracked->mutable_value().data<int64_t>()[0] += 1;
  return y_;
}

void BatchNorm::backward(const Tensor& dy, Tensor& dx, GradWrite dx_write, Tensor* dresidual) {
  PIX_CHECK(x_.defined(), "backward needs a training-mode forward first");
  batchnorm_backward(x_, y_, dy, e_.weight->value(), saved_, params_, dx, e_.weight->grad, e_.bias->grad, dx_write,
                     dresidual, GradWrite::Overwrite);
}

// ---- ConvBn ----------------------------------------------------------------------------------

ConvBn::ConvBn(StateDict& state, const std::string& conv_key, const std::string& bn_prefix, int64_t in, int64_t out,
               ConvParams params, bool relu)
    : conv_(state, conv_key, in, out, params), bn_(state, bn_prefix, out, relu) {}

Tensor ConvBn::forward(const Tensor& x, bool train, const BatchNormJoin& join) {
  if (train) {  // stale after this forward; no memory held in training
    folded_weight_ = folded_bias_ = Tensor();
    packed_weights_->clear();
  }
  return bn_.forward(conv_.forward(x), train, join);
}

Tensor ConvBn::infer(const Tensor& x, const Tensor& shortcut, Tensor* mean) {
  PIX_CHECK(!(bn_.params().relu && shortcut.defined()), "ConvBn::infer: a residual join needs a layer without ReLU");
  refold(x);
  ConvEpilogue epilogue;
  epilogue.bias = folded_bias_;
  epilogue.residual = shortcut;
  epilogue.relu = bn_.params().relu || shortcut.defined();
  packed_weights_->track(folded_weight_);  // a refold made a new tensor: its panels are packed anew
  epilogue.packed_weights = packed_weights_.get();
  if (mean) *mean = epilogue.mean = Tensor::empty({x.size(0), conv_.out_channels()}, DType::F32, x.device());
  return conv2d_forward(x, folded_weight_, conv_.params(), epilogue);
}

void ConvBn::refold(const Tensor& x) {
  const StateEntry& w = conv_.weight();
  const StateDict::BnEntries& bn = bn_.entries();
  const std::array<uint64_t, 5> versions{w.version(), bn.weight->version(), bn.bias->version(),
                                         bn.running_mean->version(), bn.running_var->version()};
  const DType dtype = x.device().is_cuda() ? x.dtype() : DType::F32;
  if (folded_weight_.defined() && versions == folded_versions_ && folded_weight_.device() == x.device() &&
      folded_weight_.dtype() == dtype)
    return;
  // The entries as the CPU sees them: themselves, or copies of a CUDA model's (a sync, once per
  // change of the weights: evaluation's CUDA graphs are captured after the first forward folded).
  const auto on_cpu = [](const Tensor& t) { return t.device().is_cpu() ? t : t.to(Device::cpu()); };
  const Tensor weight = on_cpu(w.value()), gamma_t = on_cpu(bn.weight->value()), beta_t = on_cpu(bn.bias->value());
  const Tensor mean_t = on_cpu(bn.running_mean->value()), var_t = on_cpu(bn.running_var->value());
  const int64_t channels = weight.size(0), per_channel = weight.numel() / channels;
  std::vector<double> scale(channels);
  folded_bias_ = Tensor::empty({channels}, DType::F32);
  const float* gamma = gamma_t.data<float>();
  const float* beta = beta_t.data<float>();
  const float* mean = mean_t.data<float>();
  const float* var = var_t.data<float>();
  for (int64_t o = 0; o < channels; ++o) {  // in double: one rounding per folded value
    scale[o] = gamma[o] / std::sqrt(static_cast<double>(var[o]) + bn_.params().eps);
    folded_bias_.data<float>()[o] = static_cast<float>(beta[o] - mean[o] * scale[o]);
  }
  folded_weight_ = Tensor::empty(weight.shape(), DType::F32);
  const float* src = weight.data<float>();
  float* dst = folded_weight_.data<float>();
  parallel_for(channels, std::max<int64_t>(1, kFoldGrain / per_channel), [&](int64_t begin, int64_t end) {
    for (int64_t i = begin * per_channel; i < end * per_channel; ++i)
      dst[i] = static_cast<float>(src[i] * scale[i / per_channel]);
  });
  if (x.device().is_cuda()) {
    folded_weight_ = folded_weight_.to(x.device());
    folded_bias_ = folded_bias_.to(x.device());
    if (dtype != DType::F32) folded_weight_ = cast(folded_weight_, dtype), folded_bias_ = cast(folded_bias_, dtype);
  }
  folded_versions_ = versions;
}

void ConvBn::backward(const Tensor& dy, Tensor& dx, GradWrite dx_write, Tensor* dresidual) {
  Tensor dconv = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
  bn_.backward(dy, dconv, GradWrite::Overwrite, dresidual);
  conv_.backward(dconv, dx, dx_write);
}

// ---- PixGate ---------------------------------------------------------------------------------

PixGate::PixGate(StateDict& state, const std::string& key, int64_t channels, int64_t subsets)
    : weight_(state.linear_weight(key, subsets, channels, /*as_1x1_conv=*/true)) {}

Tensor PixGate::forward(const Tensor& x) { return forward_from_mean(global_avg_pool_forward(x)); }

Tensor PixGate::forward_from_mean(const Tensor& pooled) {
  panels_->clear();  // no memory held beside training
  pooled_ = pooled;
  p_ = sigmoid_forward(linear_forward(pooled_, weight_->value(), Tensor()));
  return p_;
}

Tensor PixGate::forward_pooled(const Tensor& pooled) {
  pooled_ = p_ = Tensor();
  panels_->track(weight_->value(), weight_->version());
  return sigmoid_forward(linear_forward(pooled, weight_->value(), Tensor(), panels_.get()));
}

void PixGate::backward(const Tensor& dp, Tensor& dx) {
  Tensor dz = sigmoid_backward(p_, dp);
  Tensor dpooled = Tensor::zeros(pooled_.shape(), DType::F32, pooled_.device());
  Tensor no_bias;
  linear_backward(pooled_, weight_->value(), dz, dpooled, weight_->grad, no_bias);
  global_avg_pool_backward(dpooled, dx);
}

}  // namespace pix::nn
