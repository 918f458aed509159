// RandomErasing's N(0,1) noise as a pure function of (seed, index), compiled for the host and the
// device so that the CPU's normalize_erase and the CUDA normalize_erase_batch kernel fill boxes with
// the very same floats. Box-Muller in double precision over counter-based uniform pairs: pair k
// gives value 2k (the cosine) and 2k + 1 (the sine).
//
// Bit-identity between backends needs every double operation to round the same way on both, and
// libm's log/sin/cos (glibc) and CUDA's (within 1-2 ulp, not correctly rounded) do not. So the
// logarithm (fdlibm's __ieee754_log) and the sine and cosine (fdlibm's kernels on an octant of a
// turn, reduced exactly from the uniform's integer bits) are written out here from +, -, *, / and
// sqrt, which IEEE rounds identically everywhere; on the device through the _rn intrinsics, which
// nvcc never contracts into fused multiply-adds (the host side is compiled with -ffp-contract=off).
// Not here: where the boxes go (the caller's per-sample random stream).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/random.h"

namespace pix::image {
namespace normal_draws_detail {

#ifdef __CUDA_ARCH__
__device__ inline double add(double a, double b) { return __dadd_rn(a, b); }
__device__ inline double sub(double a, double b) { return __dsub_rn(a, b); }
__device__ inline double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ inline double div(double a, double b) { return __ddiv_rn(a, b); }
__device__ inline double root(double a) { return __dsqrt_rn(a); }
__device__ inline uint64_t bits_of(double a) { return static_cast<uint64_t>(__double_as_longlong(a)); }
__device__ inline double from_bits(uint64_t b) { return __longlong_as_double(static_cast<long long>(b)); }
#else
inline double add(double a, double b) { return a + b; }
inline double sub(double a, double b) { return a - b; }
inline double mul(double a, double b) { return a * b; }
inline double div(double a, double b) { return a / b; }
inline double root(double a) { return std::sqrt(a); }
inline uint64_t bits_of(double a) {
  uint64_t b;
  std::memcpy(&b, &a, sizeof b);
  return b;
}
inline double from_bits(uint64_t b) {
  double a;
  std::memcpy(&a, &b, sizeof a);
  return a;
}
#endif

// log(x) for a normal, positive, finite x (fdlibm e_log.c: x = 2^k (1 + f) with 1 + f in
// [sqrt(2)/2, sqrt(2)), log(1 + f) = f - f^2/2 + s (f^2/2 + R(s^2)), s = f / (2 + f)); < 1 ulp.
PIX_HOST_DEVICE inline double log_positive(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01, kLg3 = 2.857142874366239149e-01,
                   kLg4 = 2.222219843214978396e-01, kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                   kLg7 = 1.479819860511658591e-01;
  const uint64_t bits = bits_of(x);
  int k = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const uint64_t mantissa = bits & 0xfffffffffffffull;
  // 1 + f = the mantissa with exponent 0, or half of it (k one more) where it would pass sqrt(2).
  const bool halve = mantissa > 0x6a09e667f3bccull;  // sqrt(2)'s mantissa bits
  if (halve) ++k;
  const double m = from_bits(mantissa | ((halve ? 1022ull : 1023ull) << 52));
  const double f = sub(m, 1.0);  // exact (Sterbenz)
  const double s = div(f, add(2.0, f)), z = mul(s, s), w = mul(z, z);
  const double t1 = mul(w, add(kLg2, mul(w, add(kLg4, mul(w, kLg6)))));
  const double t2 = mul(z, add(kLg1, mul(w, add(kLg3, mul(w, add(kLg5, mul(w, kLg7)))))));
  const double r = add(t2, t1), hfsq = mul(mul(0.5, f), f), dk = static_cast<double>(k);
  return sub(mul(dk, kLn2Hi), sub(sub(hfsq, add(mul(s, add(hfsq, r)), mul(dk, kLn2Lo))), f));
}

// sin(x) and cos(x) for x in [0, pi/4] (fdlibm k_sin.c and k_cos.c with no tail); < 1 ulp.
PIX_HOST_DEVICE inline double sin_kernel(double x) {
  constexpr double kS1 = -1.66666666666666324348e-01, kS2 = 8.33333333332248946124e-03, kS3 = -1.98412698298579493134e-04,
                   kS4 = 2.75573137070700676789e-06, kS5 = -2.50507602534068634195e-08, kS6 = 1.58969099521155010221e-10;
  const double z = mul(x, x), v = mul(z, x);
  const double r = add(kS2, mul(z, add(kS3, mul(z, add(kS4, mul(z, add(kS5, mul(z, kS6))))))));
  return add(x, mul(v, add(kS1, mul(z, r))));
}

PIX_HOST_DEVICE inline double cos_kernel(double x) {
  constexpr double kC1 = 4.16666666666666019037e-02, kC2 = -1.38888888888741095749e-03, kC3 = 2.48015872894767294178e-05,
                   kC4 = -2.75573143513906633035e-07, kC5 = 2.08757232129817482790e-09, kC6 = -1.13596475577881948265e-11;
  const double z = mul(x, x);
  const double r = mul(z, add(kC1, mul(z, add(kC2, mul(z, add(kC3, mul(z, add(kC4, mul(z, add(kC5, mul(z, kC6)))))))))));
  const double hz = mul(0.5, z), w = sub(1.0, hz);
  return add(w, add(sub(sub(1.0, w), hz), mul(z, r)));
}

}  // namespace normal_draws_detail

struct NormalPair {
  float cosine, sine;
};

// Values 2 * pair and 2 * pair + 1 of the stream `seed`.
PIX_HOST_DEVICE inline NormalPair normal_pair(uint64_t seed, uint64_t pair) {
  using namespace normal_draws_detail;
  const uint64_t key = splitmix64(seed ^ splitmix64(pair));
  // u1 in (0, 1], away from 0 so the logarithm is finite.
  const double u1 = mul(static_cast<double>((splitmix64(key) >> 11) + 1), 0x1.0p-53);
  const double radius = root(mul(-2.0, log_positive(u1)));
  // The angle 2 pi u2, u2 = j / 2^53: octant j >> 50 and the exact fraction t of it; odd octants
  // measure back from their end (1 - t, also exact), so the kernels only see [0, pi/4].
  const uint64_t j = splitmix64(key + 1) >> 11;
  const unsigned octant = static_cast<unsigned>(j >> 50);
  const uint64_t within = j & ((1ull << 50) - 1);
  const uint64_t steps = (octant & 1u) ? (1ull << 50) - within : within;
  const double x = mul(mul(static_cast<double>(steps), 0x1.0p-50), 0.78539816339744830962);  // * pi/4
  const double s = sin_kernel(x), c = cos_kernel(x);
  double sine, cosine;
  switch (octant) {
    case 0: sine = s; cosine = c; break;     // x
    case 1: sine = c; cosine = s; break;     // pi/2 - x
    case 2: sine = c; cosine = -s; break;    // pi/2 + x
    case 3: sine = s; cosine = -c; break;    // pi - x
    case 4: sine = -s; cosine = -c; break;   // pi + x
    case 5: sine = -c; cosine = -s; break;   // 3 pi/2 - x
    case 6: sine = -c; cosine = s; break;    // 3 pi/2 + x
    default: sine = -s; cosine = c; break;   // 2 pi - x
  }
  return {static_cast<float>(mul(radius, cosine)), static_cast<float>(mul(radius, sine))};
}

// Value `index` of the stream `seed`.
PIX_HOST_DEVICE inline float normal_value(uint64_t seed, uint64_t index) {
  const NormalPair p = normal_pair(seed, index / 2);
  return index % 2 == 0 ? p.cosine : p.sine;
}

}  // namespace pix::image
