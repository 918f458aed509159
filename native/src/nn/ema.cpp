#include "nn/ema.h"

#include <map>

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cuda/optimizer_kernels.h"

namespace pix::nn {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per parallel_for chunk, as the optimizers use

Tensor clone(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  out.copy_from(t);
  return out;
}

}  // namespace

ModelEma::ModelEma(const StateDict& model, double decay) : decay_(decay) {
  PIX_CHECK(decay >= 0 && decay <= 1, "ModelEma: decay must be in [0, 1], got ", decay);
  for (const auto& e : model.entries()) {
    StateEntry copy;
    copy.key = e->key;
    copy.kind = e->kind;
    copy.torch_shape = e->torch_shape;
    copy.mutable_value() = clone(e->value());
    entries_.push_back(std::move(copy));
  }
}

void ModelEma::check_same_model(const StateDict& model, const char* fn) const {
  const auto& theirs = model.entries();
  PIX_CHECK(theirs.size() == entries_.size(), fn, ": the model has ", theirs.size(), " state entries, the average ",
            entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i)
    PIX_CHECK(theirs[i]->key == entries_[i].key && theirs[i]->value().shape() == entries_[i].value().shape(), fn,
              ": the model's entry ", i, " is '", theirs[i]->key, "' ", shape_str(theirs[i]->value().shape()),
              ", the average's '", entries_[i].key, "' ", shape_str(entries_[i].value().shape()));
}

void ModelEma::update(const StateDict& model) {
  check_same_model(model, "ModelEma.update");
  // Scalars rounded to f32 once, as torch does for `ema * decay + (1 - decay) * w` on f32 tensors.
  const float d = static_cast<float>(decay_), c = static_cast<float>(1 - decay_);
  // The CUDA entries (all on the model's one device) go in multi-tensor launches after the loop.
  std::vector<cuda::TensorSlots> on_device;
  int device = -1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Tensor& w = model.entries()[i]->value();
    Tensor& e = entries_[i].mutable_value();
    if (e.dtype() != DType::F32) {
      e.copy_from(w);
      continue;
    }
    PIX_CHECK(e.device() == w.device(), "ModelEma.update: the average of '", entries_[i].key, "' is on ",
              e.device().str(), " but the model's is on ", w.device().str(), "; make the average after moving the model");
    float* ep = e.data<float>();
    const float* wp = w.data<float>();
    if (e.device().is_cuda()) {
      PIX_CHECK(device < 0 || device == e.device().index, "ModelEma.update: the model has entries on cuda:", device,
                " and ", e.device().str());
      device = e.device().index;
      on_device.push_back({ep, wp, nullptr, nullptr, e.numel(), 0.f});
      continue;
    }
    parallel_for(e.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) ep[j] = ep[j] * d + c * wp[j];
    });
  }
  if (!on_device.empty()) PIX_CUDA_CALL(cuda::ema_update(device, d, c, on_device));
}

void ModelEma::copy_to(StateDict& model) const {
  check_same_model(model, "ModelEma.copy_to");
  for (size_t i = 0; i < entries_.size(); ++i) model.entries()[i]->mutable_value().copy_from(entries_[i].value());
}

NamedTensors ModelEma::export_state() const {
  NamedTensors out;
  for (const auto& e : entries_) out.emplace_back(e.key, e.to_torch());
  return out;
}

void ModelEma::import_state(const NamedTensors& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, tensor] : state)
    PIX_CHECK(given.emplace(name, &tensor).second, "EMA state: '", name, "' appears twice");
  // Converted and checked in full before any is kept, so a failed import changes nothing.
  std::vector<Tensor> values;
  for (const auto& e : entries_) {
    const auto it = given.find(e.key);
    PIX_CHECK(it != given.end(), "EMA state: '", e.key, "' is missing");
    Tensor value = Tensor::empty(e.value().shape(), e.value().dtype(), e.value().device());
    value.copy_from(e.from_torch_layout(*it->second));
    values.push_back(std::move(value));
    given.erase(it);
  }
  PIX_CHECK(given.empty(), "EMA state: '", given.begin()->first, "' is not a key of the model");
  for (size_t i = 0; i < entries_.size(); ++i) entries_[i].mutable_value() = std::move(values[i]);
}

}  // namespace pix::nn
