// The losses of ops/losses.h: one pass per row of logits, sums in double.
#include "ops/losses.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace pix {
namespace {

void check_logits(const char* op, const Tensor& logits, const Tensor& dlogits) {
  PIX_CHECK(logits.defined(), op, ": logits are undefined");
  PIX_CHECK(logits.dim() == 2 && logits.size(0) >= 1 && logits.size(1) >= 1, op,
            ": logits must be (N,K) with N, K >= 1, got shape ", shape_str(logits.shape()));
  PIX_CHECK(logits.dtype() == DType::F32, op, ": logits must be f32, got ", dtype_name(logits.dtype()));
  PIX_CHECK(logits.device().is_cpu(), op, ": logits must be on the cpu, got ", logits.device().str());
  if (!dlogits.defined()) return;
  PIX_CHECK(dlogits.shape() == logits.shape() && dlogits.dtype() == DType::F32 && dlogits.device().is_cpu(), op,
            ": dlogits must be f32 ", shape_str(logits.shape()), " on the cpu like the logits, got ",
            dtype_name(dlogits.dtype()), " ", shape_str(dlogits.shape()), " on ", dlogits.device().str());
}

void check_targets(const char* op, const Tensor& logits, const Tensor& targets) {
  PIX_CHECK(targets.defined(), op, ": targets are undefined");
  PIX_CHECK(targets.shape() == logits.shape(), op, ": targets have shape ", shape_str(targets.shape()),
            " but the logits ", shape_str(logits.shape()));
  PIX_CHECK(targets.dtype() == DType::F32 && targets.device().is_cpu(), op, ": targets must be f32 on the cpu, got ",
            dtype_name(targets.dtype()), " on ", targets.device().str());
}

void check_labels(const char* op, const Tensor& labels, int64_t n, int64_t k) {
  PIX_CHECK(labels.defined(), op, ": labels are undefined");
  PIX_CHECK(labels.dtype() == DType::I64 && labels.device().is_cpu(), op, ": labels must be i64 on the cpu, got ",
            dtype_name(labels.dtype()), " on ", labels.device().str());
  PIX_CHECK(labels.dim() == 1 && labels.size(0) == n, op, ": labels must have shape (", n, "), got ",
            shape_str(labels.shape()));
  const int64_t* y = labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    PIX_CHECK(y[i] >= 0 && y[i] < k, op, ": labels[", i, "] = ", y[i], " is outside [0, ", k, ")");
}

void check_smoothing(const char* op, double smoothing) {
  PIX_CHECK(smoothing >= 0 && smoothing < 1, op, ": smoothing must be in [0, 1), got ", smoothing);
}

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
  const char* op = "smooth_one_hot";
  PIX_CHECK(num_classes >= 1, op, ": num_classes must be >= 1, got ", num_classes);
  check_smoothing(op, smoothing);
  PIX_CHECK(labels.defined() && labels.dim() == 1, op, ": labels must be 1-D (N), got ",
            labels.defined() ? shape_str(labels.shape()) : "undefined");
  const int64_t n = labels.size(0);
  check_labels(op, labels, n, num_classes);
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
  const char* op = "soft_target_cross_entropy";
  check_logits(op, logits, dlogits);
  check_targets(op, logits, targets);
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
  const char* op = "label_smoothing_cross_entropy";
  check_logits(op, logits, dlogits);
  check_smoothing(op, smoothing);
  const int64_t n = logits.size(0), k = logits.size(1);
  check_labels(op, labels, n, k);
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
  const char* op = "binary_cross_entropy";
  check_logits(op, logits, dlogits);
  check_targets(op, logits, targets);
  const bool binarize = params.target_threshold.has_value();
  PIX_CHECK(!binarize || std::isfinite(*params.target_threshold), op, ": target_threshold must be a finite number, got ",
            binarize ? *params.target_threshold : 0.0);
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

}  // namespace pix
