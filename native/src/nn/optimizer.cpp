#include "nn/optimizer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cuda/optimizer_kernels.h"

namespace pix::nn {
namespace {

// Elements per parallel_for chunk in the element-wise updates: big enough to amortise a dispatch.
constexpr int64_t kGrain = 1 << 15;
// Norms are summed in double over fixed blocks whose partials are added in block order, so a norm
// (and so every update that depends on one) is the same for any thread count.
constexpr int64_t kSumBlock = 1 << 14;
// LAMB's first pass works in runs of this many elements, held in a stack buffer.
constexpr int64_t kRun = 256;
// The element loops (sgd_elements, adamw_elements, lamb_*) are plain functions of scalars and
// pointers, without branches, so that they vectorize: floats read through a lambda's captures may
// alias the stores, and a loop-invariant branch left SGD's loop scalar at twice the time.

// body(begin, end) returns one block's K partial sums; the block-ordered totals come back.
template <size_t K, typename Body>
std::array<double, K> blocked_sums(int64_t n, const Body& body) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<std::array<double, K>> partial(static_cast<size_t>(blocks));
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) partial[b] = body(b * kSumBlock, std::min(n, (b + 1) * kSumBlock));
  });
  std::array<double, K> total{};
  for (const auto& p : partial)
    for (size_t k = 0; k < K; ++k) total[k] += p[k];
  return total;
}

// Sum of x*x in double. Four accumulators in a fixed pattern let the adds overlap (and vectorize)
// while the result stays the same on every run.
double sum_squares(const float* x, int64_t n) {
  double s[4] = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += static_cast<double>(x[i + k]) * x[i + k];
  for (; i < n; ++i) s[0] += static_cast<double>(x[i]) * x[i];
  return (s[0] + s[1]) + (s[2] + s[3]);
}

// Each parameter's sum of squares, added in parameter order (CPU parameters).
double global_grad_norm(const std::vector<StateEntry*>& params) {
  double sum = 0;
  for (const StateEntry* e : params) {
    const float* g = e->grad.data<float>();
    sum += blocked_sums<1>(e->grad.numel(), [g](int64_t begin, int64_t end) {
      return std::array<double, 1>{sum_squares(g + begin, end - begin)};
    })[0];
  }
  return std::sqrt(sum);
}

void scale_grads(const std::vector<StateEntry*>& params, float factor) {
  for (StateEntry* e : params) {
    float* g = e->grad.data<float>();
    parallel_for(e->grad.numel(), kGrain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) g[i] *= factor;
    });
  }
}

// The gradients as one multi-tensor list.
std::vector<cuda::TensorSlots> gradient_list(const std::vector<StateEntry*>& params) {
  std::vector<cuda::TensorSlots> grads;
  for (StateEntry* e : params) {
    cuda::TensorSlots s;
    s.x = e->grad.data<float>();
    s.n = e->grad.numel();
    grads.push_back(s);
  }
  return grads;
}

void check_hyperparameter(double value, const char* name) {
  PIX_CHECK(std::isfinite(value) && value >= 0, "optimizer step: ", name, " must be a non-negative number, got ",
            value);
}

}  // namespace

bool uses_weight_decay(const StateEntry& entry) {
  return entry.is_parameter() && entry.torch_shape.size() > 1;
}

// ---- the common part: norms, clipping, step count, slots and their export --------------------------

Optimizer::Optimizer(StateDict& state, std::vector<std::string> slot_names)
    : slot_names_(std::move(slot_names)), slots_(slot_names_.size()) {
  for (const auto& e : state.entries())
    if (e->is_parameter()) parameters_.push_back(e.get());
  for (auto& s : slots_) s.resize(parameters_.size());
}

double Optimizer::step(const StepParams& p) {
  check_hyperparameter(p.lr, "lr");
  check_hyperparameter(p.weight_decay, "weight decay");
  check_hyperparameter(p.clip_grad, "clip_grad");
  const Device device = parameters_.empty() ? Device::cpu() : parameters_[0]->value().device();
  for (const StateEntry* e : parameters_)
    PIX_CHECK(e->value().device() == device, "optimizer: parameters on ", device.str(), " and ", e->value().device().str(),
              "; move the whole model to one device");
  if (device.is_cuda()) return step_on_device(p, device);
  const double norm = global_grad_norm(parameters_);
  GradNorm current{norm, nullptr};
  if (p.clip_grad > 0) {
    const double coef = p.clip_grad / (norm + 1e-6);  // torch.nn.utils.clip_grad_norm_
    if (coef < 1) {
      scale_grads(parameters_, static_cast<float>(coef));
      current.host = norm * coef;
    }
  }
  ++steps_;
  update(p.lr, p.weight_decay, current);
  return norm;
}

// The same step on a CUDA device, queued whole: the norm, the clipping and LAMB's divisor are
// computed there and read there, and the host reads the norm back once, after the updates.
double Optimizer::step_on_device(const StepParams& p, Device device) {
  Tensor state = Tensor::empty({static_cast<int64_t>(sizeof(cuda::GradNormState) / sizeof(double))}, DType::F64, device);
  auto* norm = reinterpret_cast<cuda::GradNormState*>(state.data<double>());
  const auto grads = gradient_list(parameters_);
  PIX_CUDA_CALL(cuda::grad_norm(device.index, grads, p.clip_grad, max_grad_norm(), norm));
  if (p.clip_grad > 0) PIX_CUDA_CALL(cuda::scale_gradients(device.index, grads, norm));
  ++steps_;
  update(p.lr, p.weight_decay, GradNorm{0, norm});
  return state.to(Device::cpu()).data<double>()[0];
}

std::vector<cuda::TensorSlots> Optimizer::device_parameters(const std::function<float(const StateEntry&)>& per_tensor) {
  std::vector<cuda::TensorSlots> params;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    StateEntry& e = *parameters_[i];
    params.push_back({e.mutable_value().data<float>(), e.grad.data<float>(), slots_.size() > 0 ? slot(0, i) : nullptr,
                      slots_.size() > 1 ? slot(1, i) : nullptr, e.value().numel(), per_tensor(e)});
  }
  return params;
}

float* Optimizer::slot(size_t s, size_t i) {
  Tensor& t = slots_[s][i];
  const Tensor& value = parameters_[i]->value();
  if (!t.defined()) t = Tensor::zeros(value.shape(), DType::F32, value.device());
  // A model moved after the slots were made: they follow it.
  if (t.device() != value.device()) t = t.to(value.device());
  return t.data<float>();
}

NamedTensors Optimizer::export_state() const {
  NamedTensors out;
  for (size_t i = 0; i < parameters_.size(); ++i)
    for (size_t s = 0; s < slots_.size(); ++s)
      if (slots_[s][i].defined())
        out.emplace_back(slot_names_[s] + "." + parameters_[i]->key, parameters_[i]->to_torch_layout(slots_[s][i]));
  Tensor step = Tensor::empty({}, DType::I64);
  *step.data<int64_t>() = steps_;
  out.emplace_back("step", step);
  return out;
}

void Optimizer::import_state(const NamedTensors& state) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, tensor] : state)
    PIX_CHECK(given.emplace(name, &tensor).second, "optimizer state: '", name, "' appears twice");
  const auto step_it = given.find("step");
  PIX_CHECK(step_it != given.end(), "optimizer state: 'step' is missing");
  const Tensor& step = *step_it->second;
  PIX_CHECK(step.dtype() == DType::I64 && step.numel() == 1, "optimizer state: 'step' must be one i64 value");
  const int64_t steps = *step.to(Device::cpu()).data<int64_t>();
  PIX_CHECK(steps >= 0, "optimizer state: 'step' must be >= 0, got ", steps);
  given.erase(step_it);

  // Every slot of every parameter after the first step, none before.
  std::map<std::string, std::pair<size_t, size_t>> expected;  // name -> (slot, parameter)
  for (size_t s = 0; steps > 0 && s < slots_.size(); ++s)
    for (size_t i = 0; i < parameters_.size(); ++i) expected[slot_names_[s] + "." + parameters_[i]->key] = {s, i};
  const auto kept = [&] {
    std::string list;
    for (const auto& n : slot_names_) list += (list.empty() ? "" : ", ") + n;
    return list.empty() ? "only the step" : list;
  };
  for (const auto& entry : given)
    PIX_CHECK(expected.count(entry.first), "optimizer state: '", entry.first,
              "' is not a state of this optimizer at step ", steps, " (it keeps: ", kept(), ")");
  // All converted before any is kept, so a failed import leaves the optimizer as it was.
  std::vector<std::vector<Tensor>> slots(slots_.size(), std::vector<Tensor>(parameters_.size()));
  for (const auto& [name, where] : expected) {
    const auto it = given.find(name);
    PIX_CHECK(it != given.end(), "optimizer state: '", name, "' is missing (step ", steps, ")");
    const StateEntry& e = *parameters_[where.second];
    Tensor& t = slots[where.first][where.second];
    t = Tensor::empty(e.value().shape(), DType::F32, e.value().device());
    t.copy_from(e.from_torch_layout(*it->second));
  }
  slots_ = std::move(slots);
  steps_ = steps;
}

// ---- SGD ------------------------------------------------------------------------------------------

namespace {

struct SgdScalars {
  float wd, neg_lr;
  float mu;       // momentum; 0 on the first step, where torch starts the buffer at d (b = 0*0 + d)
  float kd, kb;   // the step is kd*d + kb*b: (1, mu) with Nesterov, (0, 1) without, both exact
};

// n elements: d = g + wd*w; b = mu*b + d; w -= lr * (nesterov ? d + mu*b : b). Without branches,
// which would keep the loop from vectorizing.
void sgd_elements(SgdScalars s, const float* g, float* w, float* buf, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float d = g[j] + s.wd * w[j];
    const float b = buf[j] * s.mu + d;
    buf[j] = b;
    w[j] += s.neg_lr * (s.kd * d + s.kb * b);
  }
}

// Momentum 0: no buffer, w -= lr * d.
void sgd_plain_elements(float wd, float neg_lr, const float* g, float* w, int64_t n) {
  for (int64_t j = 0; j < n; ++j) w[j] += neg_lr * (g[j] + wd * w[j]);
}

}  // namespace

Sgd::Sgd(StateDict& state, SgdParams params)
    : Optimizer(state, params.momentum > 0 ? std::vector<std::string>{"momentum_buffer"} : std::vector<std::string>{}),
      config_(params) {}

void Sgd::update(double lr, double weight_decay, const GradNorm& norm) {
  const float mu = static_cast<float>(config_.momentum);
  SgdScalars s;
  s.neg_lr = static_cast<float>(-lr);
  s.mu = step_count() == 1 ? 0.f : mu;
  s.kd = config_.nesterov ? 1.f : 0.f;
  s.kb = config_.nesterov ? mu : 1.f;
  if (norm.device) {
    const auto params = device_parameters([&](const StateEntry& e) { return uses_weight_decay(e) ? static_cast<float>(weight_decay) : 0.f; });
    PIX_CUDA_CALL(cuda::sgd_update(device_index(), {s.neg_lr, s.mu, s.kd, s.kb}, params));
    return;
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    StateEntry& e = *parameters_[i];
    s.wd = uses_weight_decay(e) ? static_cast<float>(weight_decay) : 0.f;
    float* w = e.mutable_value().data<float>();
    const float* g = e.grad.data<float>();
    if (config_.momentum == 0) {
      parallel_for(e.value().numel(), kGrain, [=](int64_t begin, int64_t end) {
        sgd_plain_elements(s.wd, s.neg_lr, g + begin, w + begin, end - begin);
      });
      continue;
    }
    float* buf = slot(0, i);
    parallel_for(e.value().numel(), kGrain, [=](int64_t begin, int64_t end) {
      sgd_elements(s, g + begin, w + begin, buf + begin, end - begin);
    });
  }
}

// ---- AdamW ----------------------------------------------------------------------------------------

namespace {

struct AdamScalars {
  float b1, c1, b2, c2;  // beta1, 1 - beta1, beta2, 1 - beta2
  float eps;
  float neg_step;        // -lr / (1 - beta1^t)
  float bc2_sqrt;        // sqrt(1 - beta2^t)
  float decay;           // 1 - lr*wd
};

// n elements of torch's single-tensor AdamW, in its order of operations.
void adamw_elements(AdamScalars s, const float* g, float* w, float* m, float* v, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float mj = m[j] * s.b1 + s.c1 * g[j];
    const float vj = v[j] * s.b2 + s.c2 * g[j] * g[j];
    m[j] = mj;
    v[j] = vj;
    w[j] = w[j] * s.decay + s.neg_step * (mj / (std::sqrt(vj) / s.bc2_sqrt + s.eps));
  }
}

}  // namespace

AdamW::AdamW(StateDict& state, AdamParams params) : Optimizer(state, {"exp_avg", "exp_avg_sq"}), config_(params) {}

void AdamW::update(double lr, double weight_decay, const GradNorm& norm) {
  const double t = static_cast<double>(step_count());
  AdamScalars s;
  s.b1 = static_cast<float>(config_.beta1);
  s.c1 = static_cast<float>(1 - config_.beta1);
  s.b2 = static_cast<float>(config_.beta2);
  s.c2 = static_cast<float>(1 - config_.beta2);
  s.eps = static_cast<float>(config_.eps);
  s.neg_step = static_cast<float>(-lr / (1 - std::pow(config_.beta1, t)));
  s.bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(config_.beta2, t)));
  const auto decay = [&](const StateEntry& e) { return static_cast<float>(1 - lr * (uses_weight_decay(e) ? weight_decay : 0)); };
  if (norm.device) {
    const auto params = device_parameters(decay);
    PIX_CUDA_CALL(cuda::adamw_update(device_index(), {s.b1, s.c1, s.b2, s.c2, s.eps, s.neg_step, s.bc2_sqrt}, params));
    return;
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    StateEntry& e = *parameters_[i];
    s.decay = decay(e);
    float* w = e.mutable_value().data<float>();
    const float* g = e.grad.data<float>();
    float* m = slot(0, i);
    float* v = slot(1, i);
    parallel_for(e.value().numel(), kGrain, [=](int64_t begin, int64_t end) {
      adamw_elements(s, g + begin, w + begin, m + begin, v + begin, end - begin);
    });
  }
}

// ---- LAMB -----------------------------------------------------------------------------------------

namespace {

// LAMB's scalars for one parameter and step, rounded to f32 as torch applies them to f32 tensors.
struct LambScalars {
  float clip;  // the global gradient norm clipping divisor, >= 1
  float b1, c1, b2, c2;  // beta1, 1 - beta1, beta2, 1 - beta2
  float bc1, bc2_sqrt;   // bias corrections 1 - beta1^t and sqrt(1 - beta2^t)
  float eps, wd;
};

// The update direction from the updated moments: (m/bc1) / (sqrt(v)/sqrt(bc2) + eps) + wd*w.
inline float lamb_direction(const LambScalars& s, float m, float v, float w) {
  return (m / s.bc1) / (std::sqrt(v) / s.bc2_sqrt + s.eps) + s.wd * w;
}

// n elements: the moments from the clipped gradients, and the direction into u.
void lamb_moments(LambScalars s, const float* g, const float* w, float* m, float* v, float* u, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float gj = g[j] / s.clip;
    m[j] = m[j] * s.b1 + s.c1 * gj;
    v[j] = v[j] * s.b2 + s.c2 * gj * gj;
    u[j] = lamb_direction(s, m[j], v[j], w[j]);
  }
}

// n elements: w -= lr * ratio * direction, the direction recomputed bit for bit rather than stored.
void lamb_step_weights(LambScalars s, float neg_lr, float ratio, const float* m, const float* v, float* w, int64_t n) {
  for (int64_t j = 0; j < n; ++j) w[j] += neg_lr * (lamb_direction(s, m[j], v[j], w[j]) * ratio);
}

}  // namespace

Lamb::Lamb(StateDict& state, AdamParams params, double max_grad_norm)
    : Optimizer(state, {"exp_avg", "exp_avg_sq"}), config_(params), max_grad_norm_(max_grad_norm) {}

void Lamb::update(double lr, double weight_decay, const GradNorm& norm) {
  const double t = static_cast<double>(step_count());
  LambScalars s;
  s.clip = static_cast<float>(norm.host > max_grad_norm_ ? norm.host / max_grad_norm_ : 1.0);
  s.b1 = static_cast<float>(config_.beta1);
  s.c1 = static_cast<float>(1 - config_.beta1);
  s.b2 = static_cast<float>(config_.beta2);
  s.c2 = static_cast<float>(1 - config_.beta2);
  s.bc1 = static_cast<float>(1 - std::pow(config_.beta1, t));
  s.bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(config_.beta2, t)));
  s.eps = static_cast<float>(config_.eps);
  const float neg_lr = static_cast<float>(-lr);
  const auto wd = [&](const StateEntry& e) { return uses_weight_decay(e) ? static_cast<float>(weight_decay) : 0.f; };
  if (norm.device) {  // the divisor comes from the device's norm
    const auto params = device_parameters(wd);
    PIX_CUDA_CALL(cuda::lamb_update(device_index(), {s.b1, s.c1, s.b2, s.c2, s.bc1, s.bc2_sqrt, s.eps, neg_lr}, params,
                                    norm.device));
    return;
  }
  for (size_t i = 0; i < parameters_.size(); ++i) {
    StateEntry& e = *parameters_[i];
    const int64_t n = e.value().numel();
    s.wd = wd(e);
    float* w = e.mutable_value().data<float>();
    const float* g = e.grad.data<float>();
    float* m = slot(0, i);
    float* v = slot(1, i);
    // Pass 1: moments, and the squared norms of w and of the direction for the trust ratio, in runs
    // whose directions wait in a stack buffer for the (double) sums.
    const auto sums = blocked_sums<2>(n, [=](int64_t begin, int64_t end) {
      double ww = 0, uu = 0;
      float u[kRun];
      for (int64_t r = begin; r < end; r += kRun) {
        const int64_t len = std::min(kRun, end - r);
        lamb_moments(s, g + r, w + r, m + r, v + r, u, len);
        ww += sum_squares(w + r, len);
        uu += sum_squares(u, len);
      }
      return std::array<double, 2>{ww, uu};
    });
    // Layer-wise adaptation only where there is weight decay (timm's default, always_adapt off).
    float ratio = 1.f;
    if (s.wd != 0.f && sums[0] > 0 && sums[1] > 0) ratio = static_cast<float>(std::sqrt(sums[0]) / std::sqrt(sums[1]));
    // Pass 2: the step.
    parallel_for(n, kGrain, [=](int64_t begin, int64_t end) {
      lamb_step_weights(s, neg_lr, ratio, m + begin, v + begin, w + begin, end - begin);
    });
  }
}

}  // namespace pix::nn
