#include "nn/state_dict.h"

#include <cmath>

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "core/random.h"
#include "ops/cuda/optimizer_kernels.h"

namespace pix::nn {
namespace {

void fill(Tensor& t, float value) {
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = value;
}

// Xavier-uniform from a per-key stream: the same seed gives the same network on every machine.
void xavier_uniform(Tensor& t, const std::string& key, uint64_t seed, int64_t fan_in, int64_t fan_out) {
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  const uint64_t base = fnv1a64(key) ^ splitmix64(seed);
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double u = unit_interval(splitmix64(base + static_cast<uint64_t>(i)));
    t.data<float>()[i] = static_cast<float>((2.0 * u - 1.0) * bound);
  }
}

}  // namespace

const char* entry_kind_name(EntryKind kind) {
  switch (kind) {
    case EntryKind::ConvWeight: return "conv_weight";
    case EntryKind::LinearWeight: return "linear_weight";
    case EntryKind::Bias: return "bias";
    case EntryKind::BnWeight: return "bn_weight";
    case EntryKind::BnBias: return "bn_bias";
    case EntryKind::RunningMean: return "bn_running_mean";
    case EntryKind::RunningVar: return "bn_running_var";
    case EntryKind::NumBatchesTracked: return "bn_num_batches_tracked";
  }
  return "?";
}

bool StateEntry::is_parameter() const {
  return kind != EntryKind::RunningMean && kind != EntryKind::RunningVar && kind != EntryKind::NumBatchesTracked;
}

Tensor StateEntry::to_torch() const { return to_torch_layout(value_); }

Tensor StateEntry::grad_to_torch() const {
  PIX_CHECK(grad.defined(), "'", key, "' is a buffer and has no gradient");
  return to_torch_layout(grad);
}

Tensor StateEntry::to_torch_layout(const Tensor& engine) const {
  if (kind != EntryKind::ConvWeight) return engine.to(Device::cpu()).reshape(torch_shape);
  // OHWI -> OIHW
  const Tensor src = engine.to(Device::cpu());
  const int64_t o = src.size(0), kh = src.size(1), kw = src.size(2), c = src.size(3);
  Tensor out = Tensor::empty(torch_shape, DType::F32);
  for (int64_t a = 0; a < o; ++a)
    for (int64_t h = 0; h < kh; ++h)
      for (int64_t w = 0; w < kw; ++w)
        for (int64_t i = 0; i < c; ++i)
          out.data<float>()[((a * c + i) * kh + h) * kw + w] = src.data<float>()[((a * kh + h) * kw + w) * c + i];
  return out;
}

void StateEntry::from_torch(const Tensor& torch) { mutable_value().copy_from(from_torch_layout(torch)); }

Tensor StateEntry::from_torch_layout(const Tensor& torch) const {
  PIX_CHECK(torch.shape() == torch_shape, "'", key, "' has shape ", shape_str(torch.shape()), ", the model expects ",
            shape_str(torch_shape));
  PIX_CHECK(torch.dtype() == value_.dtype(), "'", key, "' is ", dtype_name(torch.dtype()), ", the model expects ",
            dtype_name(value_.dtype()));
  const Tensor src = torch.to(Device::cpu());
  if (kind != EntryKind::ConvWeight) return src.reshape(value_.shape());
  // OIHW -> OHWI
  const int64_t o = torch_shape[0], c = torch_shape[1], kh = torch_shape[2], kw = torch_shape[3];
  Tensor host = Tensor::empty(value_.shape(), DType::F32);
  for (int64_t a = 0; a < o; ++a)
    for (int64_t i = 0; i < c; ++i)
      for (int64_t h = 0; h < kh; ++h)
        for (int64_t w = 0; w < kw; ++w)
          host.data<float>()[((a * kh + h) * kw + w) * c + i] = src.data<float>()[((a * c + i) * kh + h) * kw + w];
  return host;
}

StateEntry* StateDict::add(const std::string& key, EntryKind kind, Shape torch_shape, Shape engine_shape,
                           bool parameter) {
  PIX_CHECK(find(key) == nullptr, "duplicate state-dict key '", key, "'");
  auto entry = std::make_unique<StateEntry>();
  entry->key = key;
  entry->kind = kind;
  entry->torch_shape = std::move(torch_shape);
  const DType dtype = kind == EntryKind::NumBatchesTracked ? DType::I64 : DType::F32;
  entry->mutable_value() = Tensor::zeros(engine_shape, dtype);
  if (parameter) entry->grad = Tensor::zeros(engine_shape, DType::F32);
  entries_.push_back(std::move(entry));
  return entries_.back().get();
}

StateEntry* StateDict::conv_weight(const std::string& key, int64_t out, int64_t in, int kernel) {
  StateEntry* e = add(key, EntryKind::ConvWeight, {out, in, kernel, kernel}, {out, kernel, kernel, in}, true);
  xavier_uniform(e->mutable_value(), key, seed_, in * kernel * kernel, out * kernel * kernel);
  return e;
}

StateEntry* StateDict::linear_weight(const std::string& key, int64_t out, int64_t in, bool as_1x1_conv) {
  StateEntry* e = add(key, EntryKind::LinearWeight, as_1x1_conv ? Shape{out, in, 1, 1} : Shape{out, in}, {out, in}, true);
  xavier_uniform(e->mutable_value(), key, seed_, in, out);
  return e;
}

StateEntry* StateDict::bias(const std::string& key, int64_t size) {
  return add(key, EntryKind::Bias, {size}, {size}, true);
}

StateDict::BnEntries StateDict::batchnorm(const std::string& prefix, int64_t channels) {
  BnEntries bn{};
  bn.weight = add(prefix + ".weight", EntryKind::BnWeight, {channels}, {channels}, true);
  bn.bias = add(prefix + ".bias", EntryKind::BnBias, {channels}, {channels}, true);
  bn.running_mean = add(prefix + ".running_mean", EntryKind::RunningMean, {channels}, {channels}, false);
  bn.running_var = add(prefix + ".running_var", EntryKind::RunningVar, {channels}, {channels}, false);
  bn.num_batches_tracked = add(prefix + ".num_batches_tracked", EntryKind::NumBatchesTracked, {}, {}, false);
  fill(bn.weight->mutable_value(), 1.f);
  fill(bn.running_var->mutable_value(), 1.f);
  return bn;
}

StateEntry* StateDict::find(const std::string& key) const {
  for (const auto& e : entries_)
    if (e->key == key) return e.get();
  return nullptr;
}

int64_t StateDict::parameter_count() const {
  int64_t total = 0;
  for (const auto& e : entries_)
    if (e->is_parameter()) total += e->value().numel();
  return total;
}

void StateDict::to(Device device) {
  for (const auto& e : entries_) {
    if (e->kind == EntryKind::NumBatchesTracked) continue;
    if (e->value().device() != device) e->mutable_value() = e->value().to(device);
    if (e->grad.defined() && e->grad.device() != device) e->grad = e->grad.to(device);
  }
}

void StateDict::zero_grad() {
  // f32 gradients on a CUDA device are zeroed together, a launch per 24 (ops/cuda/optimizer_kernels.h).
  std::vector<cuda::TensorSlots> on_device;
  int device = -1;
  for (const auto& e : entries_) {
    if (!e->grad.defined()) continue;
    const Device where = e->grad.device();
    if (where.is_cuda() && e->grad.dtype() == DType::F32 && (device < 0 || device == where.index)) {
      device = where.index;
      on_device.push_back({e->grad.data<float>(), nullptr, nullptr, nullptr, e->grad.numel(), 0.f});
      continue;
    }
    e->grad.zero_();
  }
  if (!on_device.empty()) PIX_CUDA_CALL(cuda::zero_tensors(device, on_device));
}

}  // namespace pix::nn
