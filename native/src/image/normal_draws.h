// RandomErasing's N(0,1) noise as a pure function of (seed, index), compiled for the host and the
// device so that the CPU's normalize_erase and the CUDA normalize_erase_batch kernel fill boxes with
// the very same floats. Box-Muller in double precision over counter-based uniform pairs: pair k
// gives value 2k (the cosine) and 2k + 1 (the sine).
//
// Bit-identity between backends needs every double operation to round the same way on both, and
// libm's log/sin/cos (glibc) and CUDA's (within 1-2 ulp, not correctly rounded) do not. So the
// logarithm (an atanh series) and the sine and cosine (Taylor series on an octant of a turn, reduced
// exactly from the uniform's integer bits) are written out here from +, -, *, / and sqrt, which IEEE
// rounds identically everywhere; on the device through the _rn intrinsics, which nvcc never
// contracts into fused multiply-adds (the host side is compiled with -ffp-contract=off).
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

// Series with coefficients from their definitions (1/n, 1/n!), rounded once at compile time; the
// terms are kept until they fall below 2^-60 of the sum, so each function is within a few ulp of
// the exact value, which is far below the float the noise is rounded to. What matters for the
// backends is that both evaluate the same operations in the same order.

// c[0] + z (c[1] + z (c[2] + ... + z c[N-1])), by Horner's rule from the innermost term.
template <int N>
PIX_HOST_DEVICE inline double horner(double z, const double (&c)[N]) {
  double sum = c[N - 1];
#ifdef __CUDA_ARCH__
#pragma unroll
#endif
  for (int i = N - 2; i >= 0; --i) sum = add(c[i], mul(z, sum));
  return sum;
}

// log(x) for a normal, positive, finite x: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), and
// log(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (m - 1) / (m + 1), |s| < 0.1716.
PIX_HOST_DEVICE inline double log_positive(double x) {
  constexpr double kLn2 = 0.69314718055994530942;
  const uint64_t bits = bits_of(x);
  int k = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const uint64_t mantissa = bits & 0xfffffffffffffull;
  const bool halve = mantissa > 0x6a09e667f3bccull;  // past sqrt(2)'s mantissa: take m / 2, k + 1
  if (halve) ++k;
  const double m = from_bits(mantissa | ((halve ? 1022ull : 1023ull) << 52));
  const double s = div(sub(m, 1.0), add(m, 1.0)), z = mul(s, s);
  // s^2 < 0.0295: 12 terms (to s^23 / 23) reach 2^-60.
  const double odd_reciprocals[] = {1.0 / 3,  1.0 / 5,  1.0 / 7,  1.0 / 9,  1.0 / 11, 1.0 / 13,
                                    1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23};
  const double log_m = mul(2.0, add(s, mul(mul(s, z), horner(z, odd_reciprocals))));
  return add(mul(static_cast<double>(k), kLn2), log_m);
}

// sin(x) and cos(x) for x in [0, pi/4] by their Taylor series: x^2 < 0.617, so the terms to
// x^21 / 21! and x^20 / 20! reach 2^-60.
PIX_HOST_DEVICE inline double sin_kernel(double x) {
  const double z = mul(x, x);
  const double terms[] = {-1.0 / 6.0,  // -1/3!
                          1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0, 1.0 / 6227020800.0,
                          -1.0 / 1307674368000.0, 1.0 / 355687428096000.0, -1.0 / 121645100408832000.0,
                          1.0 / 51090942171709440000.0};  // 1/21!
  return add(x, mul(mul(x, z), horner(z, terms)));
}

PIX_HOST_DEVICE inline double cos_kernel(double x) {
  const double z = mul(x, x);
  const double terms[] = {1.0 / 24.0,  // 1/4!
                          -1.0 / 720.0, 1.0 / 40320.0, -1.0 / 3628800.0, 1.0 / 479001600.0, -1.0 / 87178291200.0,
                          1.0 / 20922789888000.0, -1.0 / 6402373705728000.0,
                          1.0 / 2432902008176640000.0};  // 1/20!
  return add(sub(1.0, mul(0.5, z)), mul(mul(z, z), horner(z, terms)));
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
