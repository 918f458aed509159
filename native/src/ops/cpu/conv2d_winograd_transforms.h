// Winograd F(4x4, 3x3) transforms on the CPU, shared by the convolution (conv2d_winograd.cpp: y and
// dx) and its weight gradient (conv2d_winograd_weight.cpp: dw). Interpolation points 0, 1, -1, 2, -1/2
// and infinity (see conv2d_winograd.cpp for why these). Each works on 16 channels at a time (a GCC/Clang
// vector) and is always inlined, so it is compiled for the SIMD level of the function that calls it.
// Forward, per 6x6 input tile d and 3x3 weights g:  y (4x4) = A^T [ (G g G^T) (.) (B^T d B) ] A.
// Its adjoints give the weight gradient from the output gradient e (4x4) of the tile:
//   dg (3x3) = G^T [ (A e A^T) (.) (B^T d B) ] G, summed over tiles.
#pragma once

#include <cstring>

#include "core/simd_bodies.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"  // vectors passed between always-inline functions only
#endif

namespace pix::cpu::winograd {

constexpr int kLanes = 16;        // channels per vector
using Vec = float __attribute__((vector_size(kLanes * sizeof(float))));

PIX_INLINE Vec load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
// The first `lanes` floats at p, zeros after.
PIX_INLINE Vec load(const float* p, int lanes) {
  if (lanes == kLanes) return load(p);
  Vec v = {};
  std::memcpy(&v, p, static_cast<size_t>(lanes) * sizeof(float));
  return v;
}
PIX_INLINE void store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }
PIX_INLINE void store(float* p, const Vec& v, int lanes) {
  if (lanes == kLanes)
    store(p, v);
  else
    std::memcpy(p, &v, static_cast<size_t>(lanes) * sizeof(float));
}

// ---- The transforms: points 0, 1, -1, 2, -1/2, infinity --------------------------------------
// One dimension each; the 2-D transforms apply them to the columns, then to the rows.

// B^T d (6 -> 6).
PIX_INLINE void input_1d(const Vec& d0, const Vec& d1, const Vec& d2, const Vec& d3, const Vec& d4, const Vec& d5,
                         Vec& r0, Vec& r1, Vec& r2, Vec& r3, Vec& r4, Vec& r5) {
  const Vec t13 = d1 - d3, t42 = d4 - d2;
  r0 = (d0 + d4) - 2.f * d2 + 1.5f * t13;
  r1 = (d4 - d1) - 2.5f * d2 - 0.5f * d3;
  r2 = (d4 + d1) + 0.5f * d2 - 2.5f * d3;
  r3 = t42 - 0.5f * t13;
  r4 = t42 + 2.f * t13;
  r5 = (d5 + d1) - 2.f * d3 - 1.5f * t42;
}

// A^T m (6 -> 4).
PIX_INLINE void output_1d(const Vec& m0, const Vec& m1, const Vec& m2, const Vec& m3, const Vec& m4, const Vec& m5,
                          Vec& o0, Vec& o1, Vec& o2, Vec& o3) {
  const Vec s12 = m1 + m2, d12 = m1 - m2;
  o0 = (m0 + s12) + (m3 + m4);
  o1 = d12 + 2.f * m3 - 0.5f * m4;
  o2 = s12 + 4.f * m3 + 0.25f * m4;
  o3 = (d12 + m5) + 8.f * m3 - 0.125f * m4;
}

// G (6 x 3).
constexpr float kG[6][3] = {
    {1.f, 0.f, 0.f},
    {-1.f / 3, -1.f / 3, -1.f / 3},
    {1.f / 3, -1.f / 3, 1.f / 3},
    {1.f / 15, 2.f / 15, 4.f / 15},
    {-16.f / 15, 8.f / 15, -4.f / 15},
    {0.f, 0.f, 1.f},
};

// v (36, row-major 6x6) = B^T d B for d (36, row-major 6x6).
PIX_INLINE void input_transform(const Vec (&d)[36], Vec (&v)[36]) {
  Vec t[36];
#pragma GCC unroll 6
  for (int s = 0; s < 6; ++s)  // columns: t = B^T d
    input_1d(d[s], d[6 + s], d[12 + s], d[18 + s], d[24 + s], d[30 + s], t[s], t[6 + s], t[12 + s], t[18 + s],
             t[24 + s], t[30 + s]);
#pragma GCC unroll 6
  for (int a = 0; a < 6; ++a) {  // rows: v = t B
    const Vec* r = t + 6 * a;
    input_1d(r[0], r[1], r[2], r[3], r[4], r[5], v[6 * a], v[6 * a + 1], v[6 * a + 2], v[6 * a + 3], v[6 * a + 4],
             v[6 * a + 5]);
  }
}

// y (16, row-major 4x4) = A^T m A for m (36, row-major 6x6).
PIX_INLINE void output_transform(const Vec (&m)[36], Vec (&y)[16]) {
  Vec t[24];
#pragma GCC unroll 6
  for (int s = 0; s < 6; ++s)  // columns: t (4x6) = A^T m
    output_1d(m[s], m[6 + s], m[12 + s], m[18 + s], m[24 + s], m[30 + s], t[s], t[6 + s], t[12 + s], t[18 + s]);
#pragma GCC unroll 4
  for (int a = 0; a < 4; ++a) {  // rows: y = t A
    const Vec* r = t + 6 * a;
    output_1d(r[0], r[1], r[2], r[3], r[4], r[5], y[4 * a], y[4 * a + 1], y[4 * a + 2], y[4 * a + 3]);
  }
}

// A e (4 -> 6): the output gradient of a tile's row or column at the interpolation points, the
// adjoint of output_1d (its columns are the polynomial 1, t, t^2, t^3 at 0, 1, -1, 2, -1/2, and the
// leading coefficient for infinity).
PIX_INLINE void grad_output_1d(const Vec& e0, const Vec& e1, const Vec& e2, const Vec& e3, Vec& r0, Vec& r1, Vec& r2,
                               Vec& r3, Vec& r4, Vec& r5) {
  const Vec even = e0 + e2, odd = e1 + e3;
  r0 = e0;
  r1 = even + odd;
  r2 = even - odd;
  r3 = (e0 + 4.f * e2) + 2.f * (e1 + 4.f * e3);
  r4 = (e0 + 0.25f * e2) - 0.5f * (e1 + 0.25f * e3);
  r5 = e3;
}

// G^T m (6 -> 3): the adjoint of the weight transform.
PIX_INLINE void weight_grad_1d(const Vec& m0, const Vec& m1, const Vec& m2, const Vec& m3, const Vec& m4, const Vec& m5,
                               Vec& g0, Vec& g1, Vec& g2) {
  g0 = kG[0][0] * m0 + kG[1][0] * m1 + kG[2][0] * m2 + kG[3][0] * m3 + kG[4][0] * m4;
  g1 = kG[1][1] * m1 + kG[2][1] * m2 + kG[3][1] * m3 + kG[4][1] * m4;
  g2 = kG[1][2] * m1 + kG[2][2] * m2 + kG[3][2] * m3 + kG[4][2] * m4 + kG[5][2] * m5;
}

// h (36, row-major 6x6) = A e A^T for e (16, row-major 4x4).
PIX_INLINE void grad_output_transform(const Vec (&e)[16], Vec (&h)[36]) {
  Vec t[24];
#pragma GCC unroll 4
  for (int s = 0; s < 4; ++s)  // columns: t (6x4) = A e
    grad_output_1d(e[s], e[4 + s], e[8 + s], e[12 + s], t[s], t[4 + s], t[8 + s], t[12 + s], t[16 + s], t[20 + s]);
#pragma GCC unroll 6
  for (int a = 0; a < 6; ++a) {  // rows: h = t A^T
    const Vec* r = t + 4 * a;
    grad_output_1d(r[0], r[1], r[2], r[3], h[6 * a], h[6 * a + 1], h[6 * a + 2], h[6 * a + 3], h[6 * a + 4],
                   h[6 * a + 5]);
  }
}

// g (9, row-major 3x3) = G^T m G for m (36, row-major 6x6).
PIX_INLINE void weight_grad_transform(const Vec (&m)[36], Vec (&g)[9]) {
  Vec t[18];
#pragma GCC unroll 6
  for (int s = 0; s < 6; ++s)  // columns: t (3x6) = G^T m
    weight_grad_1d(m[s], m[6 + s], m[12 + s], m[18 + s], m[24 + s], m[30 + s], t[s], t[6 + s], t[12 + s]);
#pragma GCC unroll 3
  for (int a = 0; a < 3; ++a) {  // rows: g = t G
    const Vec* r = t + 6 * a;
    weight_grad_1d(r[0], r[1], r[2], r[3], r[4], r[5], g[3 * a], g[3 * a + 1], g[3 * a + 2]);
  }
}

}  // namespace pix::cpu::winograd
