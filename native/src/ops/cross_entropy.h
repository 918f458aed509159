// Softmax cross-entropy on logits (N,K) against soft targets (N,K) (rows summing to 1: one-hot,
// label-smoothed or mixed), averaged over the batch. The backward is fused: dlogits = (softmax -
// target) / N, computed from the logits in one pass.
#pragma once

#include "core/tensor.h"

namespace pix {

// Returns the mean loss; writes dlogits (N,K) when it is defined.
double cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits);

}  // namespace pix
