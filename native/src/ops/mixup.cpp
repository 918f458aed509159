// Mixup/CutMix dispatcher (ops/mixup.h): the batch, the parameters and the box are checked here,
// then the backend of the tensor's device runs. The draw lives in mixup_draw.cpp.
#include "ops/mixup.h"

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/losses.h"

namespace pix {
namespace {

void check_lam(const char* op, double lam) {
  PIX_CHECK(lam >= 0 && lam <= 1, op, ": lam must be in [0, 1], got ", lam);
}

}  // namespace

void mixup_apply(Tensor& x, const MixupParams& params) {
  const char* op = "mixup_apply";
  PIX_CHECK(x.defined() && x.dim() == 4, op, ": x must be 4-D (N,H,W,C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(x.dtype() == DType::F32, op, ": x must be f32 on ", x.device().is_cpu() ? "the cpu" : x.device().str(),
            ", got ", dtype_name(x.dtype()));
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2);
  PIX_CHECK(n % 2 == 0, op, ": the batch size must be even (sample n is mixed with sample N-1-n), got N = ", n);
  check_lam(op, params.lam);
  const MixupBox& b = params.box;
  if (params.cutmix)
    PIX_CHECK(0 <= b.y0 && b.y0 <= b.y1 && b.y1 <= h && 0 <= b.x0 && b.x0 <= b.x1 && b.x1 <= w, op, ": box rows [",
              b.y0, ", ", b.y1, ") and columns [", b.x0, ", ", b.x1, ") do not lie in the ", h, "x", w, " image");
  // Without cutmix, lam = 1 leaves the batch as it is (timm returns early; blending would also turn
  // an inf in the partner into NaN).
  if (!params.cutmix && params.lam == 1.0) return;
  if (x.device().is_cpu()) return cpu::mixup_apply(x, params);
  PIX_CUDA_CALL(return cuda::mixup_apply(x, params));
}

Tensor mixup_targets(const Tensor& labels, int64_t num_classes, double smoothing, double lam) {
  check_lam("mixup_targets", lam);
  // Flipping the labels flips the rows of their one-hot targets: one smoothed table serves both.
  const Tensor one_hot = smooth_one_hot(labels, num_classes, smoothing);
  if (one_hot.device().is_cpu()) return cpu::mix_flipped_rows(one_hot, lam);
  PIX_CUDA_CALL(return cuda::mix_flipped_rows(one_hot, lam));
}

}  // namespace pix
