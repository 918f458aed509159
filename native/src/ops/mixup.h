// Mixup/CutMix as timm's Mixup in 'batch' mode (the recipe's mode): one lambda per batch, every
// image mixed with its partner in the flipped batch (sample n with N-1-n). The random draw
// (mixup_draw) is kept apart from the deterministic application (mixup_apply, mixup_targets), which
// equals timm's exactly for the same (lam, cutmix, box), so tests drive it with given parameters.
// The draw runs on the host; the application and the targets run on the device of their tensors
// (the CPU or CUDA, f32). Not here: timm's 'pair' and 'elem' modes (per-sample parameters), which
// the recipe does not use.
//
// The draw cannot follow numpy's stream; it follows timm's distributions and decisions step by step
// from a counter-based stream keyed by (seed, step) (see mixup.cpp), so a run is reproducible and a
// resumed run draws what the uninterrupted one would have drawn.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "core/tensor.h"

namespace pix {

// timm Mixup's constructor arguments, with its defaults.
struct MixupConfig {
  double mixup_alpha = 1.0;  // mixup is active when > 0
  double cutmix_alpha = 0.0;  // cutmix is active when > 0
  // Box sides as fractions [min, max) of the image sides, instead of a square from lambda; timm then
  // forces cutmix_alpha to 1 (a box is always cut) and always corrects lambda to the box area.
  std::optional<std::pair<double, double>> cutmix_minmax;
  double prob = 1.0;         // probability that a batch is mixed at all
  double switch_prob = 0.5;  // probability of cutmix rather than mixup when both are active
  bool correct_lam = true;   // lambda = 1 - box area / image area (a box clipped at the border is smaller)
};

// Rows [y0, y1) and columns [x0, x1) of the image; empty when y0 == y1 or x0 == x1.
struct MixupBox {
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};

// One batch's parameters. lam = 1 means the batch is left as it is.
struct MixupParams {
  double lam = 1.0;
  bool cutmix = false;
  MixupBox box;  // used only when cutmix
};

// timm Mixup._params_per_batch, then cutmix_bbox_and_lam for images of height x width when cutmix
// was chosen. The same (config, image size, seed, step) always gives the same parameters.
MixupParams mixup_draw(const MixupConfig& config, int64_t height, int64_t width, uint64_t seed, uint64_t step);

// timm Mixup._mix_batch on images x (N,H,W,C) f32, in place, N even (as timm asserts):
// mixup: x[n] = lam * x[n] + (1 - lam) * x[N-1-n], in f32 as torch computes it;
// cutmix: the box of x[n] is replaced by the box of x[N-1-n].
void mixup_apply(Tensor& x, const MixupParams& params);

// timm mixup_target: t (N,K) f32 = lam * smooth_one_hot(y) + (1 - lam) * smooth_one_hot(flip(y)),
// on the labels' device.
Tensor mixup_targets(const Tensor& labels, int64_t num_classes, double smoothing, double lam);

// ---- backends (same signatures; arguments already validated) ----
// mixup_apply: as above, with lam < 1 or cutmix set. mix_flipped_rows: t[n] = lam * rows[n] +
// (1 - lam) * rows[N-1-n] for rows (N,K), any N, a fresh tensor (the blend of mixup_targets).
namespace cpu {
void mixup_apply(Tensor& x, const MixupParams& params);
Tensor mix_flipped_rows(const Tensor& rows, double lam);
}  // namespace cpu
namespace cuda {
void mixup_apply(Tensor& x, const MixupParams& params);
Tensor mix_flipped_rows(const Tensor& rows, double lam);
}  // namespace cuda

}  // namespace pix
