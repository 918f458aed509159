// Loss dispatcher (ops/losses.h): shapes, dtypes, devices, labels and parameters are checked here,
// once for both backends, then the backend named by the logits' (or labels') device runs.
#include "ops/losses.h"

#include <cmath>
#include <string>

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/device_check.h"

namespace pix {
namespace {

// "the cpu" or "cuda:N", for messages such as "targets must be f32 on the cpu, got f64".
std::string where(const Tensor& t) { return t.device().is_cpu() ? std::string("the cpu") : t.device().str(); }

void check_logits(const char* op, const Tensor& logits, const Tensor& dlogits) {
  PIX_CHECK(logits.defined(), op, ": logits are undefined");
  PIX_CHECK(logits.dim() == 2 && logits.size(0) >= 1 && logits.size(1) >= 1, op,
            ": logits must be (N,K) with N, K >= 1, got shape ", shape_str(logits.shape()));
  PIX_CHECK(logits.dtype() == DType::F32, op, ": logits must be f32, got ", dtype_name(logits.dtype()));
  if (!dlogits.defined()) return;
  PIX_CHECK(dlogits.shape() == logits.shape() && dlogits.dtype() == DType::F32 && dlogits.device() == logits.device(),
            op, ": dlogits must be f32 ", shape_str(logits.shape()), " on ", logits.device().str(),
            " like the logits, got ", dtype_name(dlogits.dtype()), " ", shape_str(dlogits.shape()), " on ",
            dlogits.device().str());
}

void check_targets(const char* op, const Tensor& logits, const Tensor& targets) {
  PIX_CHECK(targets.defined(), op, ": targets are undefined");
  PIX_CHECK(targets.shape() == logits.shape(), op, ": targets have shape ", shape_str(targets.shape()),
            " but the logits ", shape_str(logits.shape()));
  PIX_CHECK(targets.dtype() == DType::F32, op, ": targets must be f32 on ", where(targets), ", got ",
            dtype_name(targets.dtype()));
  check_same_device(op, {"logits", &logits}, {{"targets", &targets}});
}

// Labels are read on the host: a CUDA call copies its N labels back once (the loss itself comes
// back to the host anyway), so an out-of-range label is named here rather than read out of bounds.
void check_labels(const char* op, const Tensor& labels, int64_t n, int64_t k) {
  PIX_CHECK(labels.defined(), op, ": labels are undefined");
  PIX_CHECK(labels.dtype() == DType::I64, op, ": labels must be i64 on ", where(labels), ", got ",
            dtype_name(labels.dtype()));
  PIX_CHECK(labels.dim() == 1 && labels.size(0) == n, op, ": labels must have shape (", n, "), got ",
            shape_str(labels.shape()));
  const Tensor host = labels.device().is_cpu() ? labels : labels.to(Device::cpu());
  const int64_t* y = host.data<int64_t>();
  for (int64_t i = 0; i < n; ++i)
    PIX_CHECK(y[i] >= 0 && y[i] < k, op, ": labels[", i, "] = ", y[i], " is outside [0, ", k, ")");
}

void check_smoothing(const char* op, double smoothing) {
  PIX_CHECK(smoothing >= 0 && smoothing < 1, op, ": smoothing must be in [0, 1), got ", smoothing);
}

}  // namespace

Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing) {
  const char* op = "smooth_one_hot";
  PIX_CHECK(num_classes >= 1, op, ": num_classes must be >= 1, got ", num_classes);
  check_smoothing(op, smoothing);
  PIX_CHECK(labels.defined() && labels.dim() == 1, op, ": labels must be 1-D (N), got ",
            labels.defined() ? shape_str(labels.shape()) : "undefined");
  check_labels(op, labels, labels.size(0), num_classes);
  if (labels.device().is_cpu()) return cpu::smooth_one_hot(labels, num_classes, smoothing);
  PIX_CUDA_CALL(return cuda::smooth_one_hot(labels, num_classes, smoothing));
}

double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits) {
  const char* op = "soft_target_cross_entropy";
  check_logits(op, logits, dlogits);
  check_targets(op, logits, targets);
  if (logits.device().is_cpu()) return cpu::soft_target_cross_entropy(logits, targets, dlogits);
  PIX_CUDA_CALL(return cuda::soft_target_cross_entropy(logits, targets, dlogits));
}

double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits) {
  const char* op = "label_smoothing_cross_entropy";
  check_logits(op, logits, dlogits);
  check_smoothing(op, smoothing);
  check_same_device(op, {"logits", &logits}, {{"labels", &labels}});
  check_labels(op, labels, logits.size(0), logits.size(1));
  if (logits.device().is_cpu()) return cpu::label_smoothing_cross_entropy(logits, labels, smoothing, dlogits);
  PIX_CUDA_CALL(return cuda::label_smoothing_cross_entropy(logits, labels, smoothing, dlogits));
}

double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits) {
  const char* op = "binary_cross_entropy";
  check_logits(op, logits, dlogits);
  check_targets(op, logits, targets);
  PIX_CHECK(!params.target_threshold || std::isfinite(*params.target_threshold), op,
            ": target_threshold must be a finite number, got ", params.target_threshold.value_or(0.0));
  if (logits.device().is_cpu()) return cpu::binary_cross_entropy(logits, targets, params, dlogits);
  PIX_CUDA_CALL(return cuda::binary_cross_entropy(logits, targets, params, dlogits));
}

}  // namespace pix
