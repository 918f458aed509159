// Single-precision matrix multiply, the workhorse of convolutions and the classifier on the CPU.
//
//   C (M,N) = alpha * op(A) * op(B) + beta * C,   row-major,
//   op(A) is (M,K): A stored (M,K) with lda >= K, or, when trans_a, stored (K,M) with lda >= M;
//   op(B) is (K,N): B stored (K,N) with ldb >= N, or, when trans_b, stored (N,K) with ldb >= K.
// beta = 0 overwrites C without reading it (C may hold NaN garbage); alpha = 0 or k = 0 reads
// neither A nor B (C = beta * C), as in BLAS.
//
// epilogue: applied to each element of C after the product, while its tile is still in registers:
//   C = relu?(alpha * op(A) * op(B) + beta * C + bias[j] + residual[i * ldr + j]),
// each part only where set. It is how a convolution with folded BatchNorm ends (ops/conv2d.h):
// the output is written once instead of being re-read by a bias, a residual and a ReLU pass.
//
// precision = BF16: A and B stay f32 in memory and are rounded to bf16 (to nearest even; denormals
// become zero, as vcvtne2ps2bf16 does) while they are packed; the products of the rounded values are
// exact in f32 and summed in f32, and C stays f32. CPUs with AVX512_BF16 multiply pairs of k with
// vdpbf16ps at twice the f32 rate; on any other CPU the f32 kernels multiply the same rounded values,
// so BF16 gives the same approximation everywhere, at f32 speed there.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/cpu_features.h"
#include "core/precision.h"
#include "core/tensor.h"

namespace pix {

// B's packed panels kept between products with the same B: inference with fixed weights, where
// packing B again for every image costs a fifth of a batch-1 forward. The product fills it on first
// use, one entry per packing layout (which follows M, the thread count, the precision and the SIMD
// level; a few kept, the oldest dropped), and reads the panels from it afterwards. Its owner names
// the B it is for with track() before each product; B's values must not change in place.
class GemmPackedB {
 public:
  // The panels are for b at `version` from now on: another tensor, or another version of it (a
  // weight updated in place counts its writes), drops them. Holding b keeps its memory from being
  // reused by a new B while panels packed from it are kept.
  void track(const Tensor& b, uint64_t version = 0);
  void clear();  // drops the panels and b
  // For the product: the panels under `key`, `bytes` long, made by `pack` when missing. The tensor
  // keeps them alive while in use, whatever another thread's product drops meanwhile.
  Tensor panels(const std::string& key, size_t bytes, const std::function<void(void*)>& pack);

 private:
  static constexpr size_t kMaxEntries = 4;
  std::mutex mutex_;
  Tensor b_;
  uint64_t version_ = 0;
  std::vector<std::pair<std::string, Tensor>> entries_;
};

struct GemmEpilogue {
  const float* bias = nullptr;      // (N), added to every row of C
  const float* residual = nullptr;  // (M, N) with row stride ldr; must not overlap C
  int64_t ldr = 0;
  bool relu = false;
  // Column sums of the finished C per group of group_rows consecutive rows, added into
  // sums[(i / group_rows) * n + j] (zeroed by the caller): a convolution's global average pool per
  // image taken on the way out, so the next PiX gate and the head need no pass of their own.
  float* sums = nullptr;
  int64_t group_rows = 0;
  bool active() const { return bias != nullptr || residual != nullptr || relu || sums != nullptr; }
};

// A as the im2col matrix of a convolution (ops/conv2d.h), never written out: row i is output pixel i
// of (N,P,Q); its K = KH*KW*C values are the input pixels of that window in (kh, kw, c) order, zero
// where the window leaves the image. The packing gathers A's panels straight from x, so a
// convolution's forward reads x instead of writing and re-reading a column matrix 9x (3x3) its size.
struct GemmWindows {
  const float* x = nullptr;  // (N,H,W,C); null: A is the stored matrix `a`
  int64_t h = 0, w = 0, c = 0, p = 0, q = 0;
  int kernel = 1, stride = 1, pad = 0;
  int64_t k_offset = 0;  // A's column 0 is window column k_offset (a slice of K)
};

struct GemmParams {
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.f;
  float beta = 0.f;
  int64_t lda = 0, ldb = 0, ldc = 0;
  ComputePrecision precision = ComputePrecision::F32;
  GemmEpilogue epilogue;
  GemmPackedB* packed_b = nullptr;  // B's panels kept between calls (B unchanged meanwhile); null: packed each call
  GemmWindows windows;  // with windows.x set, `a` is not read (pass null), trans_a must be false, lda unused
};

// Threaded over the engine's pool, dispatched at run time to the best SIMD kernel the CPU has.
void sgemm(const GemmParams& params, const float* a, const float* b, float* c);

namespace cpu {
// The plain triple loop (double accumulation) that the fast kernels are tested against; with BF16
// it rounds each element of A and B as the packing does. The epilogue is added in double too.
void sgemm_reference(const GemmParams& params, const float* a, const float* b, float* c);
// sgemm on the micro-kernel of one SIMD level, which the host CPU must have: tests check each level.
// BF16 runs on vdpbf16ps at the AVX-512 level when the CPU has AVX512_BF16, else on the level's f32
// kernel over rounded values.
void sgemm_simd(const GemmParams& params, SimdLevel level, const float* a, const float* b, float* c);
}  // namespace cpu

}  // namespace pix
