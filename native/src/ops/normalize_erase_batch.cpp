// normalize_erase_batch's dispatcher (ops/normalize_erase_batch.h): the batch, the statistics and
// every box are checked here, so both backends meet only valid arguments and fail alike.
#include "ops/normalize_erase_batch.h"

#include <cmath>
#include <limits>

#include "core/cuda_dispatch.h"
#include "core/error.h"

namespace pix {

Tensor normalize_erase_batch(const Tensor& x, const NormalizeEraseBatchParams& params) {
  const char* op = "normalize_erase_batch";
  PIX_CHECK(x.defined() && x.dim() == 4 && x.size(3) == 3, op, ": x must be (N,H,W,3), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(x.dtype() == DType::U8, op, ": x must be u8 (8-bit pixels), got ", dtype_name(x.dtype()));
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2);
  PIX_CHECK(h <= std::numeric_limits<int>::max() && w <= std::numeric_limits<int>::max(), op, ": images of ", h, "x", w,
            " are too large");
  for (int c = 0; c < 3; ++c)
    PIX_CHECK(std::isfinite(params.mean[c]) && std::isfinite(params.std[c]) && params.std[c] != 0.0f, op,
              ": mean and std must be finite and std non-zero, got mean[", c, "] = ", params.mean[c], ", std[", c,
              "] = ", params.std[c]);
  PIX_CHECK(params.erase.empty() || static_cast<int64_t>(params.erase.size()) == n, op, ": erase has ",
            params.erase.size(), " entries for a batch of ", n, " (one per sample, or none)");
  for (size_t i = 0; i < params.erase.size(); ++i) {
    const std::string where = concat(op, ": sample ", i);
    for (const image::EraseBox& box : params.erase[i].boxes)
      image::check_erase_box(box, static_cast<int>(w), static_cast<int>(h), where.c_str());
  }
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  if (x.device().is_cpu()) {
    cpu::normalize_erase_batch(x, y, params);
  } else {
    PIX_CUDA_CALL(cuda::normalize_erase_batch(x, y, params));
  }
  return y;
}

}  // namespace pix
