#include "nn/optimizer.h"

#include "core/thread_pool.h"

namespace pix::nn {

bool uses_weight_decay(const StateEntry& entry) {
  return entry.is_parameter() && entry.torch_shape.size() > 1;
}

void Sgd::step(StateDict& state, float lr, float weight_decay) {
  for (const auto& entry : state.entries()) {
    if (!entry->is_parameter()) continue;
    const float wd = uses_weight_decay(*entry) ? weight_decay : 0.f;
    auto [it, fresh] = momentum_.try_emplace(entry.get());
    if (fresh) it->second = Tensor::zeros(entry->value.shape(), DType::F32);
    float* w = entry->value.data<float>();
    const float* g = entry->grad.data<float>();
    float* buf = it->second.data<float>();
    const float mu = params_.momentum;
    const bool first = fresh;  // torch initialises the buffer with the first gradient
    const bool nesterov = params_.nesterov;
    parallel_for(entry->value.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float d = g[i] + wd * w[i];
        buf[i] = first ? d : mu * buf[i] + d;
        w[i] -= lr * (nesterov ? d + mu * buf[i] : buf[i]);
      }
    });
  }
}

}  // namespace pix::nn
