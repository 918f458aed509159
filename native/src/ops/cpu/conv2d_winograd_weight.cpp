// The weight gradient of a 3x3 stride-1 pad-1 convolution by Winograd F(4x4, 3x3) on the CPU
// (ops/cpu/conv2d_winograd.h). The forward computes each 4x4 output tile as A^T [U (.) V] A with
// U = G g G^T and V = B^T d B; its adjoint in g, summed over the tiles, is
//   dw = G^T [ sum over tiles of (A e A^T) (.) V ] G     (e: the tile's 4x4 output gradient, 0 outside)
// so the 36 sums are 36 matrix products, (O x tiles) times (tiles x C), on the engine's SGEMM:
// 36 * O * C multiply-adds per tile against the implicit GEMM's 144 (9 per pixel of the tile).
// The transformed inputs V and output gradients H are written out for a chunk of tiles at a time
// (H: [36][tiles][O], V: [36][tiles][C]), bounded in bytes, and the products accumulate over chunks.
//
// (For stride 1 and pad 1 the output is H x W, so the output gradient is indexed with x's sides.)
//
// Accuracy: the transforms round and grow values as the forward's do, and the products sum over all
// the tiles (and 36 * 4 = 144 input positions per weight fold into 36 sums first). Against the
// double-precision direct sum: about 1e-6 of dw's scale on ResNet-50's layers, as the forward.
#include <algorithm>
#include <cstdint>

#include "core/cpu_features.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/cpu/conv2d_winograd.h"
#include "ops/cpu/conv2d_winograd_transforms.h"
#include "ops/gemm.h"

namespace pix::cpu {
namespace {

using namespace winograd;

// Bytes of V and H together per chunk of tiles: ResNet-50's layers at batch 16 fit in one chunk,
// and a large batch never needs more than this next to its activations.
constexpr int64_t kChunkBytes = int64_t{64} << 20;

struct Geometry {
  int64_t n, h, w, c, o;
  int64_t tiles_h, tiles_w, tiles;
};

// V[xi][i][c] = (B^T d B)[xi] for tiles t0 + i, i in [begin, end): d the 6x6 input window of the
// tile's 4x4 outputs (rows 4ty - 1 .. 4ty + 4), zero where it leaves the image.
PIX_INLINE void transform_inputs(const Geometry& g, const float* x, int64_t t0, int64_t chunk, int64_t begin,
                                 int64_t end, float* v) {
  for (int64_t i = begin; i < end; ++i) {
    const int64_t t = t0 + i;
    const int64_t n = t / (g.tiles_h * g.tiles_w), h0 = t / g.tiles_w % g.tiles_h * 4 - 1, w0 = t % g.tiles_w * 4 - 1;
    const bool inside = h0 >= 0 && w0 >= 0 && h0 + 6 <= g.h && w0 + 6 <= g.w;
    const int64_t corner = ((n * g.h + h0) * g.w + w0) * g.c;  // may lie outside x: not read then
    for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, g.c - c0));
      Vec d[36];
      for (int r = 0; r < 6; ++r)
        for (int s = 0; s < 6; ++s) {
          const bool in_image = inside || (h0 + r >= 0 && h0 + r < g.h && w0 + s >= 0 && w0 + s < g.w);
          d[6 * r + s] = in_image ? load(x + corner + (r * g.w + s) * g.c + c0, lanes) : Vec{};
        }
      Vec out[36];
      input_transform(d, out);
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) store(v + (xi * chunk + i) * g.c + c0, out[xi], lanes);
    }
  }
}

// H[xi][i][o] = (A e A^T)[xi] for tiles t0 + i: e the tile's 4x4 output gradient, zero past the
// output's edge (those outputs do not exist, so nothing flows from them).
PIX_INLINE void transform_grads(const Geometry& g, const float* dy, int64_t t0, int64_t chunk, int64_t begin,
                                int64_t end, float* h) {
  for (int64_t i = begin; i < end; ++i) {
    const int64_t t = t0 + i;
    const int64_t n = t / (g.tiles_h * g.tiles_w), p0 = t / g.tiles_w % g.tiles_h * 4, q0 = t % g.tiles_w * 4;
    const int64_t corner = ((n * g.h + p0) * g.w + q0) * g.o;
    for (int64_t o0 = 0; o0 < g.o; o0 += kLanes) {
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, g.o - o0));
      Vec e[16];
      for (int r = 0; r < 4; ++r)
        for (int s = 0; s < 4; ++s)
          e[4 * r + s] = p0 + r < g.h && q0 + s < g.w ? load(dy + corner + (r * g.w + s) * g.o + o0, lanes) : Vec{};
      Vec out[36];
      grad_output_transform(e, out);
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) store(h + (xi * chunk + i) * g.o + o0, out[xi], lanes);
    }
  }
}

// dw[o][3x3][c] += G^T M[.][o][c] G for output channels [begin, end); M is [36][O][C].
PIX_INLINE void transform_products(const Geometry& g, const float* m, int64_t begin, int64_t end, float* dw) {
  for (int64_t o = begin; o < end; ++o)
    for (int64_t c0 = 0; c0 < g.c; c0 += kLanes) {
      const int lanes = static_cast<int>(std::min<int64_t>(kLanes, g.c - c0));
      Vec products[36];
#pragma GCC unroll 36
      for (int xi = 0; xi < 36; ++xi) products[xi] = load(m + (xi * g.o + o) * g.c + c0, lanes);
      Vec grad[9];
      weight_grad_transform(products, grad);
      float* row = dw + o * 9 * g.c + c0;
#pragma GCC unroll 9
      for (int k = 0; k < 9; ++k) store(row + k * g.c, load(row + k * g.c, lanes) + grad[k], lanes);
    }
}

// ---- One body per SIMD level (the transforms compile to that level's vectors) ------------------

struct Body {
  void (*inputs)(const Geometry&, const float*, int64_t, int64_t, int64_t, int64_t, float*);
  void (*grads)(const Geometry&, const float*, int64_t, int64_t, int64_t, int64_t, float*);
  void (*products)(const Geometry&, const float*, int64_t, int64_t, float*);
};

#define PIX_WINOGRAD_WEIGHT_BODY(NAME, ATTRIBUTES)                                                            \
  ATTRIBUTES void NAME##_inputs(const Geometry& g, const float* x, int64_t t0, int64_t chunk, int64_t begin,   \
                                int64_t end, float* v) {                                                      \
    transform_inputs(g, x, t0, chunk, begin, end, v);                                                         \
  }                                                                                                           \
  ATTRIBUTES void NAME##_grads(const Geometry& g, const float* dy, int64_t t0, int64_t chunk, int64_t begin,  \
                               int64_t end, float* h) {                                                       \
    transform_grads(g, dy, t0, chunk, begin, end, h);                                                         \
  }                                                                                                           \
  ATTRIBUTES void NAME##_products(const Geometry& g, const float* m, int64_t begin, int64_t end, float* dw) { \
    transform_products(g, m, begin, end, dw);                                                                 \
  }                                                                                                           \
  constexpr Body NAME##_body{NAME##_inputs, NAME##_grads, NAME##_products};

PIX_SIMD_BODIES(PIX_WINOGRAD_WEIGHT_BODY)

}  // namespace

void conv2d_backward_weight_winograd(const Tensor& x, const Tensor& dy, const ConvShape& s, Tensor& dw) {
  PIX_CHECK(winograd_applies(s), "conv2d_backward: the Winograd kernel computes 3x3 stride-1 pad-1 convolutions only");
  Geometry g;
  g.n = s.n, g.h = s.h, g.w = s.w, g.c = s.c, g.o = s.o;
  g.tiles_h = (s.h + 3) / 4, g.tiles_w = (s.w + 3) / 4;
  g.tiles = g.n * g.tiles_h * g.tiles_w;
  if (g.tiles == 0 || g.o == 0) return;
  const Body& body = host_body();
  const int64_t tile_bytes = 36 * (g.c + g.o) * static_cast<int64_t>(sizeof(float));
  const int64_t chunk = std::clamp<int64_t>(kChunkBytes / tile_bytes, 1, g.tiles);
  // From the engine's allocator, which keeps freed blocks for the next step's call.
  const Tensor v = Tensor::empty({36 * chunk * g.c}, DType::F32);
  const Tensor h = Tensor::empty({36 * chunk * g.o}, DType::F32);
  const Tensor m = Tensor::empty({36 * g.o * g.c}, DType::F32);
  const float* xs = x.data<float>();
  const float* dys = dy.data<float>();
  float* vs = v.data<float>();
  float* hs = h.data<float>();
  float* ms = m.data<float>();
  for (int64_t t0 = 0; t0 < g.tiles; t0 += chunk) {
    const int64_t count = std::min(chunk, g.tiles - t0);
    parallel_for(count, 8, [&](int64_t begin, int64_t end) { body.inputs(g, xs, t0, chunk, begin, end, vs); });
    parallel_for(count, 8, [&](int64_t begin, int64_t end) { body.grads(g, dys, t0, chunk, begin, end, hs); });
    GemmParams product;  // M[xi] (O x C) (+)= H[xi]^T (O x tiles) V[xi] (tiles x C)
    product.trans_a = true;
    product.m = g.o, product.n = g.c, product.k = count;
    product.lda = g.o, product.ldb = g.c, product.ldc = g.c;
    product.beta = t0 == 0 ? 0.f : 1.f;
    for (int64_t xi = 0; xi < 36; ++xi) sgemm(product, hs + xi * chunk * g.o, vs + xi * chunk * g.c, ms + xi * g.o * g.c);
  }
  float* dws = dw.data<float>();
  parallel_for(g.o, 1, [&](int64_t begin, int64_t end) { body.products(g, ms, begin, end, dws); });
}

}  // namespace pix::cpu
