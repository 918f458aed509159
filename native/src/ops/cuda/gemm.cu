// The project's own CUDA matrix product: a shared-memory tiled kernel, f32 FMA on f32 or bf16
// operands, the always-available fallback behind cuda::gemm (ops/cuda/gemm.h).
//
// Each block computes a kTile x kTile tile of C from kDepth-deep slices of op(A) and op(B) staged
// in shared memory as f32; each of its 16x16 threads owns a 4x4 grid of outputs spaced 16 apart,
// so shared-memory reads are conflict-free and C stores coalesce. Loads are bounds-checked (any
// M, N, K, leading dimension and transposition).
// Fast path, later: cuBLAS/cuBLASLt (tensor cores, TF32/bf16) under PIX_HAVE_CUBLAS, and
// split-K for the weight gradient (M = O and N = KH*KW*C small, K = N*P*Q huge).
#include "ops/cuda/gemm.h"
#include "ops/cuda/launch.cuh"

namespace pix::cuda {
namespace {

constexpr int kTile = 64;              // C tile side per block
constexpr int kDepth = 16;             // k-slice staged per iteration
constexpr int kSide = 16;              // threads per block side (16x16 = 256)
constexpr int kPerThread = kTile / kSide;  // outputs per thread per side (4)
constexpr unsigned kMaxGridY = 65535;

struct GemmArgs {
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldc;
  float alpha, beta;
};

template <typename TAB, typename TC>
__global__ void __launch_bounds__(kSide* kSide) gemm_tiled(const TAB* __restrict__ a, const TAB* __restrict__ b,
                                                           TC* __restrict__ c, GemmArgs g) {
  __shared__ float as[kDepth][kTile];  // as[kk][mm] = op(A)[m0 + mm][k0 + kk]
  __shared__ float bs[kDepth][kTile];  // bs[kk][nn] = op(B)[k0 + kk][n0 + nn]
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kSide + tx;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * kTile, n0 = static_cast<int64_t>(blockIdx.x) * kTile;
  float acc[kPerThread][kPerThread] = {};
  for (int64_t k0 = 0; k0 < g.k; k0 += kDepth) {
    for (int e = tid; e < kDepth * kTile; e += kSide * kSide) {
      // Consecutive threads take consecutive elements along the dimension contiguous in memory.
      const int along = e % kTile, depth = e / kTile;
      const int64_t m = m0 + along, kk = k0 + depth;
      const bool a_in = m < g.m && kk < g.k;
      as[depth][along] = a_in ? to_float(g.trans_a ? a[kk * g.lda + m] : a[m * g.lda + kk]) : 0.f;
      const int64_t n = n0 + along;
      const bool b_in = n < g.n && kk < g.k;
      bs[depth][along] = b_in ? to_float(g.trans_b ? b[n * g.ldb + kk] : b[kk * g.ldb + n]) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kDepth; ++kk) {
      float av[kPerThread], bv[kPerThread];
#pragma unroll
      for (int i = 0; i < kPerThread; ++i) av[i] = as[kk][ty + i * kSide], bv[i] = bs[kk][tx + i * kSide];
#pragma unroll
      for (int i = 0; i < kPerThread; ++i)
#pragma unroll
        for (int j = 0; j < kPerThread; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < kPerThread; ++i) {
    const int64_t m = m0 + ty + i * kSide;
    if (m >= g.m) continue;
#pragma unroll
    for (int j = 0; j < kPerThread; ++j) {
      const int64_t n = n0 + tx + j * kSide;
      if (n >= g.n) continue;
      TC* out = c + m * g.ldc + n;
      const float v = g.alpha * acc[i][j];
      *out = from_float<TC>(g.beta == 0.f ? v : v + g.beta * to_float(*out));
    }
  }
}

template <typename TAB, typename TC>
void launch(const GemmArgs& g, const void* a, const void* b, void* c, cudaStream_t st) {
  const dim3 block(kSide, kSide);
  const dim3 grid(static_cast<unsigned>((g.n + kTile - 1) / kTile), static_cast<unsigned>((g.m + kTile - 1) / kTile));
  gemm_tiled<TAB, TC><<<grid, block, 0, st>>>(static_cast<const TAB*>(a), static_cast<const TAB*>(b),
                                               static_cast<TC*>(c), g);
}

// C = beta * C (alpha == 0 or k == 0 reads neither A nor B, as in BLAS).
template <typename TC>
__global__ void scale_c(TC* c, int64_t m, int64_t n, int64_t ldc, float beta) {
  PIX_GRID_STRIDE(i, m * n) {
    TC* out = c + (i / n) * ldc + i % n;
    *out = from_float<TC>(beta == 0.f ? 0.f : beta * to_float(*out));
  }
}

}  // namespace

void gemm(int device, const GemmParams& p, DType ab_dtype, const void* a, const void* b, DType c_dtype, void* c) {
  PIX_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0, "cuda gemm: negative size (", p.m, ",", p.n, ",", p.k, ")");
  PIX_CHECK((p.m + kTile - 1) / kTile <= kMaxGridY, "cuda gemm: M = ", p.m, " is more rows than one launch covers");
  if (p.m == 0 || p.n == 0) return;
  set_device(device);
  cudaStream_t st = stream(device);
  const GemmArgs g{p.trans_a, p.trans_b, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta};
  if (p.k == 0 || p.alpha == 0.f) {
    with_activation_type(c_dtype, "cuda gemm (C)", [&](auto zero) {
      using TC = decltype(zero);
      scale_c<TC><<<grid_for(p.m * p.n), kThreads, 0, st>>>(static_cast<TC*>(c), p.m, p.n, p.ldc, p.beta);
    });
    PIX_CUDA_CHECK_LAUNCH("cuda gemm (scale C)");
    return;
  }
  with_activation_type(ab_dtype, "cuda gemm (A, B)", [&](auto ab_zero) {
    using TAB = decltype(ab_zero);
    with_activation_type(c_dtype, "cuda gemm (C)", [&](auto c_zero) {
      using TC = decltype(c_zero);
      launch<TAB, TC>(g, a, b, c, st);
    });
  });
  PIX_CUDA_CHECK_LAUNCH("cuda gemm");
}

}  // namespace pix::cuda
