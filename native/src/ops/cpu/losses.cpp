// The losses of ops/losses.h on the CPU: one pass per row of logits, sums in double. Arguments
// arrive checked (ops/losses.cpp).
#include <algorithm>
#include <cmath>

#include "ops/losses.h"

namespace pix::cpu {
namespace {

// log(sum_k exp(z[k])), shifted by the row maximum so that exp cannot overflow.
double log_sum_exp(const float* z, int64_t k) {
  const double max = *std::max_element(z, z + k);
  double sum = 0;
  for (int64_t j = 0; j < k; ++j) sum += std::exp(z[j] - max);
  return std::log(sum) + max;
}

double sigmoid(double z) {
  if (z >= 0) return 1 / (1 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1 + e);
}

}  // namespace

Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing) {
  const int64_t n = labels.size(0);
  // timm mixup_target: off = s/K and on = 1 - s + off in double, then stored as f32.
  const double off = smoothing / static_cast<double>(num_classes);
  const float off_value = static_cast<float>(off);
  const float on_value = static_cast<float>(1.0 - smoothing + off);
  Tensor targets = Tensor::empty({n, num_classes}, DType::F32);
  float* t = targets.data<float>();
  std::fill(t, t + targets.numel(), off_value);
  for (int64_t i = 0; i < n; ++i) t[i * num_classes + labels.data<int64_t>()[i]] = on_value;
  return targets;
}

double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits) {
  const int64_t n = logits.size(0), k = logits.size(1);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* z = logits.data<float>() + i * k;
    const float* t = targets.data<float>() + i * k;
    const double lse = log_sum_exp(z, k);
    double t_sum = 0;
    for (int64_t j = 0; j < k; ++j) {
      total += t[j] * (lse - z[j]);
      t_sum += t[j];
    }
    if (!dlogits.defined()) continue;
    float* d = dlogits.data<float>() + i * k;
    for (int64_t j = 0; j < k; ++j) d[j] = static_cast<float>((std::exp(z[j] - lse) * t_sum - t[j]) / n);
  }
  return total / static_cast<double>(n);
}

double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits) {
  const int64_t n = logits.size(0), k = logits.size(1);
  const double confidence = 1 - smoothing, off = smoothing / static_cast<double>(k);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* z = logits.data<float>() + i * k;
    const int64_t y = labels.data<int64_t>()[i];
    const double lse = log_sum_exp(z, k);
    double z_sum = 0;
    for (int64_t j = 0; j < k; ++j) z_sum += z[j];
    // -log p[y] = lse - z[y]; mean_k -log p[k] = lse - mean_k z[k].
    total += confidence * (lse - z[y]) + smoothing * (lse - z_sum / static_cast<double>(k));
    if (!dlogits.defined()) continue;
    float* d = dlogits.data<float>() + i * k;
    for (int64_t j = 0; j < k; ++j)
      d[j] = static_cast<float>((std::exp(z[j] - lse) - off - (j == y ? confidence : 0.0)) / n);
  }
  return total / static_cast<double>(n);
}

double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits) {
  const bool binarize = params.target_threshold.has_value();
  const float threshold = binarize ? static_cast<float>(*params.target_threshold) : 0.f;
  const int64_t count = logits.numel();
  const float* z = logits.data<float>();
  const float* t = targets.data<float>();
  double total = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double target = binarize ? (t[i] > threshold ? 1.0 : 0.0) : t[i];
    total += std::max<double>(z[i], 0) - z[i] * target + std::log1p(std::exp(-std::abs(static_cast<double>(z[i]))));
    if (dlogits.defined()) dlogits.data<float>()[i] = static_cast<float>((sigmoid(z[i]) - target) / count);
  }
  return total / static_cast<double>(count);
}

}  // namespace pix::cpu
