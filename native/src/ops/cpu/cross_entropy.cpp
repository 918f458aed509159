#include <cmath>

#include "core/error.h"
#include "ops/cross_entropy.h"

namespace pix {

double cross_entropy(const Tensor& logits, const Tensor& targets, Tensor& dlogits) {
  PIX_CHECK(logits.dim() == 2 && logits.dtype() == DType::F32, "cross_entropy: logits must be f32 (N,K), got ",
            shape_str(logits.shape()));
  PIX_CHECK(targets.shape() == logits.shape() && targets.dtype() == DType::F32, "cross_entropy: targets must be f32 ",
            shape_str(logits.shape()), ", got ", shape_str(targets.shape()));
  PIX_CHECK(!dlogits.defined() || dlogits.shape() == logits.shape(), "cross_entropy: dlogits must match the logits");
  const int64_t n = logits.size(0), k = logits.size(1);
  const float* z = logits.data<float>();
  const float* t = targets.data<float>();
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* zi = z + i * k;
    double max = zi[0];
    for (int64_t j = 1; j < k; ++j) max = std::max(max, static_cast<double>(zi[j]));
    double sum = 0;
    for (int64_t j = 0; j < k; ++j) sum += std::exp(zi[j] - max);
    const double log_sum = std::log(sum) + max;
    for (int64_t j = 0; j < k; ++j) {
      total += t[i * k + j] * (log_sum - zi[j]);
      if (dlogits.defined())
        dlogits.data<float>()[i * k + j] = static_cast<float>((std::exp(zi[j] - log_sum) - t[i * k + j]) / n);
    }
  }
  return total / static_cast<double>(n);
}

}  // namespace pix
