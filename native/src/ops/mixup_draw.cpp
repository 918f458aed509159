// The Mixup/CutMix draw (ops/mixup.h), on the host for every device. It mirrors timm/data/mixup.py
// (Mixup._params_per_batch, rand_bbox, rand_bbox_minmax, cutmix_bbox_and_lam) decision for
// decision; only the source of randomness differs: numpy's global stream there, a counter-based
// stream keyed by (seed, step) here.
#include "ops/mixup.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/random.h"

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

}  // namespace pix
