// Mixup/CutMix (ops/mixup.h). The draw mirrors timm/data/mixup.py (Mixup._params_per_batch,
// rand_bbox, rand_bbox_minmax, cutmix_bbox_and_lam) decision for decision; only the source of
// randomness differs: numpy's global stream there, a counter-based stream keyed by (seed, step) here.
#include "ops/mixup.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/random.h"
#include "core/thread_pool.h"
#include "ops/losses.h"

namespace pix {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Draw i of (seed, step) is splitmix64(key + i), key = splitmix64(splitmix64(seed ^ fnv1a64("mixup"))
// + step): any step can be drawn without replaying the ones before it, and the "mixup" domain keeps
// the stream apart from other users of the same seed. Uniforms take the top 53 bits of a draw.
class MixupStream {
 public:
  MixupStream(uint64_t seed, uint64_t step) : key_(splitmix64(splitmix64(seed ^ fnv1a64("mixup")) + step)) {}

  double unit() { return unit_interval(bits()); }  // [0, 1)
  double open_unit() { return (static_cast<double>(bits() >> 11) + 0.5) * 0x1.0p-53; }  // (0, 1): safe for log

  // Uniform integer in [lo, hi), hi > lo: numpy's randint(lo, hi). unit() <= 1 - 2^-53, so the
  // product stays below hi - lo.
  int64_t integer(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(unit() * static_cast<double>(hi - lo)); }

  // Standard normal by Box-Muller (one of the pair; the other is not kept, for a simple stream).
  double normal() {
    const double radius = std::sqrt(-2 * std::log(open_unit()));
    return radius * std::cos(kTwoPi * unit());
  }

  // log of a Gamma(alpha, 1) draw, by Marsaglia & Tsang (2000). For alpha < 1 their boost
  // Gamma(alpha) = Gamma(alpha + 1) * U^(1/alpha) is taken in logs, so small alphas cannot
  // underflow to 0.
  double log_gamma(double alpha) {
    if (alpha < 1) return log_gamma(alpha + 1) + std::log(open_unit()) / alpha;
    const double d = alpha - 1.0 / 3, c = 1 / std::sqrt(9 * d);
    for (;;) {
      double x, v;
      do {
        x = normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      if (std::log(open_unit()) < 0.5 * x * x + d - d * v + d * std::log(v)) return std::log(d * v);
    }
  }

  // Beta(alpha, alpha) = X / (X + Y) with X, Y ~ Gamma(alpha, 1), from their logs.
  double beta(double alpha) {
    const double log_x = log_gamma(alpha), log_y = log_gamma(alpha);
    return 1 / (1 + std::exp(log_y - log_x));
  }

 private:
  uint64_t bits() { return splitmix64(key_ + counter_++); }

  uint64_t key_;
  uint64_t counter_ = 0;
};

void check_config(const MixupConfig& c) {
  const char* op = "mixup_draw";
  PIX_CHECK(std::isfinite(c.mixup_alpha) && c.mixup_alpha >= 0, op, ": mixup_alpha must be >= 0, got ", c.mixup_alpha);
  PIX_CHECK(std::isfinite(c.cutmix_alpha) && c.cutmix_alpha >= 0, op, ": cutmix_alpha must be >= 0, got ",
            c.cutmix_alpha);
  PIX_CHECK(c.prob >= 0 && c.prob <= 1, op, ": prob must be in [0, 1], got ", c.prob);
  PIX_CHECK(c.switch_prob >= 0 && c.switch_prob <= 1, op, ": switch_prob must be in [0, 1], got ", c.switch_prob);
  if (c.cutmix_minmax) {
    const auto [lo, hi] = *c.cutmix_minmax;
    PIX_CHECK(lo >= 0 && lo < hi && hi <= 1, op, ": cutmix_minmax must be [min, max] with 0 <= min < max <= 1, got [",
              lo, ", ", hi, "]");
  }
  PIX_CHECK(c.mixup_alpha > 0 || c.cutmix_alpha > 0 || c.cutmix_minmax, op,
            ": one of mixup_alpha > 0, cutmix_alpha > 0 or cutmix_minmax must be set");
}

// timm rand_bbox with margin 0: a square-ish box of sides int(side * sqrt(1 - lam)) centred on a
// uniform pixel, clipped to the image (so it can come out smaller than lam asked for).
MixupBox rand_bbox(MixupStream& rng, int64_t height, int64_t width, double lam) {
  const double ratio = std::sqrt(1 - lam);
  const auto cut_h = static_cast<int64_t>(static_cast<double>(height) * ratio);
  const auto cut_w = static_cast<int64_t>(static_cast<double>(width) * ratio);
  const int64_t cy = rng.integer(0, height);
  const int64_t cx = rng.integer(0, width);
  return {std::clamp<int64_t>(cy - cut_h / 2, 0, height), std::clamp<int64_t>(cy + cut_h / 2, 0, height),
          std::clamp<int64_t>(cx - cut_w / 2, 0, width), std::clamp<int64_t>(cx + cut_w / 2, 0, width)};
}

// timm rand_bbox_minmax: sides drawn in [int(side * min), int(side * max)), the corner uniformly
// where the box fits.
MixupBox rand_bbox_minmax(MixupStream& rng, int64_t height, int64_t width, std::pair<double, double> minmax) {
  const auto lo_h = static_cast<int64_t>(static_cast<double>(height) * minmax.first);
  const auto hi_h = static_cast<int64_t>(static_cast<double>(height) * minmax.second);
  const auto lo_w = static_cast<int64_t>(static_cast<double>(width) * minmax.first);
  const auto hi_w = static_cast<int64_t>(static_cast<double>(width) * minmax.second);
  PIX_CHECK(lo_h < hi_h && lo_w < hi_w, "mixup_draw: cutmix_minmax [", minmax.first, ", ", minmax.second,
            "] leaves no box side to draw for a ", height, "x", width, " image");
  const int64_t cut_h = rng.integer(lo_h, hi_h);
  const int64_t cut_w = rng.integer(lo_w, hi_w);
  const int64_t y0 = rng.integer(0, height - cut_h);
  const int64_t x0 = rng.integer(0, width - cut_w);
  return {y0, y0 + cut_h, x0, x0 + cut_w};
}

void check_lam(const char* op, double lam) {
  PIX_CHECK(lam >= 0 && lam <= 1, op, ": lam must be in [0, 1], got ", lam);
}

}  // namespace

MixupParams mixup_draw(const MixupConfig& config, int64_t height, int64_t width, uint64_t seed, uint64_t step) {
  check_config(config);
  PIX_CHECK(height >= 1 && width >= 1, "mixup_draw: the image size must be at least 1x1, got ", height, "x", width);
  // timm Mixup.__init__: cutmix_minmax forces cutmix_alpha = 1.
  const double cutmix_alpha = config.cutmix_minmax ? 1.0 : config.cutmix_alpha;
  MixupStream rng(seed, step);
  MixupParams params;
  if (!(rng.unit() < config.prob)) return params;
  double alpha = config.mixup_alpha;
  if (config.mixup_alpha > 0 && cutmix_alpha > 0) {
    params.cutmix = rng.unit() < config.switch_prob;
    if (params.cutmix) alpha = cutmix_alpha;
  } else if (cutmix_alpha > 0) {
    params.cutmix = true;
    alpha = cutmix_alpha;
  }
  params.lam = rng.beta(alpha);
  // timm _mix_batch leaves the batch untouched when lam is exactly 1, before drawing any box.
  if (params.lam == 1.0) return MixupParams{};
  if (params.cutmix) {
    params.box = config.cutmix_minmax ? rand_bbox_minmax(rng, height, width, *config.cutmix_minmax)
                                      : rand_bbox(rng, height, width, params.lam);
    if (config.correct_lam || config.cutmix_minmax) {
      const MixupBox& b = params.box;
      params.lam = 1.0 - static_cast<double>((b.y1 - b.y0) * (b.x1 - b.x0)) / static_cast<double>(height * width);
    }
  }
  return params;
}

void mixup_apply(Tensor& x, const MixupParams& params) {
  const char* op = "mixup_apply";
  PIX_CHECK(x.defined() && x.dim() == 4, op, ": x must be 4-D (N,H,W,C), got ",
            x.defined() ? shape_str(x.shape()) : "undefined");
  PIX_CHECK(x.dtype() == DType::F32 && x.device().is_cpu(), op, ": x must be f32 on the cpu, got ",
            dtype_name(x.dtype()), " on ", x.device().str());
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  PIX_CHECK(n % 2 == 0, op, ": the batch size must be even (sample n is mixed with sample N-1-n), got N = ", n);
  check_lam(op, params.lam);
  const MixupBox& b = params.box;
  if (params.cutmix)
    PIX_CHECK(0 <= b.y0 && b.y0 <= b.y1 && b.y1 <= h && 0 <= b.x0 && b.x0 <= b.x1 && b.x1 <= w, op, ": box rows [",
              b.y0, ", ", b.y1, ") and columns [", b.x0, ", ", b.x1, ") do not lie in the ", h, "x", w, " image");
  // Without cutmix, lam = 1 leaves the batch as it is (timm returns early; blending would also turn
  // an inf in the partner into NaN).
  if (!params.cutmix && params.lam == 1.0) return;

  const int64_t image = h * w * c;
  // torch multiplies an f32 tensor by a Python float in f32: both weights are rounded first.
  const float keep = static_cast<float>(params.lam), take = static_cast<float>(1.0 - params.lam);
  float* data = x.data<float>();
  // Each pair (n, N-1-n) is updated from its own two images only, so pairs run in parallel.
  parallel_for(n / 2, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* a = data + i * image;
      float* z = data + (n - 1 - i) * image;
      if (params.cutmix) {
        for (int64_t y = b.y0; y < b.y1; ++y)
          std::swap_ranges(a + (y * w + b.x0) * c, a + (y * w + b.x1) * c, z + (y * w + b.x0) * c);
        continue;
      }
      for (int64_t j = 0; j < image; ++j) {
        const float av = a[j], zv = z[j];
        a[j] = av * keep + zv * take;
        z[j] = zv * keep + av * take;
      }
    }
  });
}

Tensor mixup_targets(const Tensor& labels, int64_t num_classes, double smoothing, double lam) {
  check_lam("mixup_targets", lam);
  // Flipping the labels flips the rows of their one-hot targets: one smoothed table serves both.
  const Tensor one_hot = smooth_one_hot(labels, num_classes, smoothing);
  const int64_t n = one_hot.size(0);
  const float keep = static_cast<float>(lam), take = static_cast<float>(1.0 - lam);
  Tensor targets = Tensor::empty(one_hot.shape(), DType::F32);
  for (int64_t i = 0; i < n; ++i) {
    const float* own = one_hot.data<float>() + i * num_classes;
    const float* partner = one_hot.data<float>() + (n - 1 - i) * num_classes;
    float* t = targets.data<float>() + i * num_classes;
    for (int64_t k = 0; k < num_classes; ++k) t[k] = own[k] * keep + partner[k] * take;
  }
  return targets;
}

}  // namespace pix
