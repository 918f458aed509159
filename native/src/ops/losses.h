// Classification losses on logits z (N,K) (K classes), as the official training script picks them
// (SPEC §4): soft-target cross-entropy after mixup, label-smoothing cross-entropy without it, and
// binary cross-entropy with logits under --bce_loss. Each returns the mean loss and writes (does not
// accumulate) dlogits = d loss / d z (N,K) when dlogits is defined: the loss is where the backward
// starts, so there is nothing to add to. Sums run in double, f32 only; every tensor of a call on
// one device (the CPU or CUDA), and fresh tensors are made on that device.
//
// Targets t (N,K) are f32; labels y (N) are i64 class indices in [0, K).
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"

namespace pix {

// timm's one-hot with label smoothing s in [0, 1): 1 - s + s/K on the class, s/K elsewhere, so a
// row sums to 1. Returns t (N,K) f32 on the labels' device.
Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing);

// timm SoftTargetCrossEntropy: mean over N of sum_k -t[n,k] * log_softmax(z)[n,k].
// dlogits = (softmax(z) * sum_k t[n,k] - t) / N, exact for rows that do not sum to 1.
double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits);

// timm LabelSmoothingCrossEntropy (torch's cross_entropy when smoothing = 0): mean over N of
// (1 - s) * -log p[n,y] + s * mean_k -log p[n,k], with p = softmax(z). Equal to the soft-target loss
// against smooth_one_hot(y, K, s), without building the targets.
double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits);

struct BceParams {
  // timm BinaryCrossEntropy's target_threshold (--bce_target_thresh): targets above it become 1,
  // the others 0. The comparison is in f32, as torch compares an f32 tensor with a Python float.
  std::optional<double> target_threshold;
};

// torch binary_cross_entropy_with_logits(z, t), mean over all N*K elements:
// max(z,0) - z*t + log(1 + exp(-|z|)); dlogits = (sigmoid(z) - t) / (N*K).
double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits);

// ---- backends (same signatures; arguments already validated, labels in range) ----
namespace cpu {
Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing);
double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits);
double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits);
double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits);
}  // namespace cpu
namespace cuda {
Tensor smooth_one_hot(const Tensor& labels, int64_t num_classes, double smoothing);
double soft_target_cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits);
double label_smoothing_cross_entropy(const Tensor& logits, const Tensor& labels, double smoothing, Tensor& dlogits);
double binary_cross_entropy(const Tensor& logits, const Tensor& targets, const BceParams& params, Tensor& dlogits);
}  // namespace cuda

}  // namespace pix
