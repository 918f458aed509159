// cuda::gemm (ops/cuda/gemm.h): cuBLAS when it is loaded, else the project's own kernel below.
//
// The own kernel: a shared-memory tiled kernel, f32 FMA on f32 or bf16 operands, the
// always-available fallback. Each block computes a kTile x kTile tile of C from kDepth-deep slices
// of op(A) and op(B) staged in shared memory as f32; each of its 16x16 threads owns a 4x4 grid of
// outputs spaced 16 apart, so shared-memory reads are conflict-free and C stores coalesce. Loads
// are bounds-checked (any M, N, K, leading dimension and transposition).
//
// cuBLAS is column-major: one cublasGemmEx computes C^T = op(B)^T op(A)^T, which is the row-major C
// (cublas::column_major in ops/cuda/cublas.h).
// Later: split-K for the weight gradient on the own kernel (M = O and N = KH*KW*C small,
// K = N*P*Q huge), cuBLASLt epilogues.
#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>

#include "ops/cuda/cublas.h"
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

// ---- cuBLAS ----

std::atomic<GemmBackend> g_backend{GemmBackend::Auto};

std::atomic<bool>& tf32_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("PIX_TF32");
    return env != nullptr && std::string(env) == "1";
  }()};
  return flag;
}

cudaDataType_t cuda_type(DType dtype) { return dtype == DType::BF16 ? CUDA_R_16BF : CUDA_R_32F; }

bool fits_int(int64_t v) { return v <= INT_MAX; }

// The product on cuBLAS; false (nothing queued) when cuBLAS is not to be used for it.
bool gemm_cublas(int device, const GemmParams& p, DType ab_dtype, const void* a, const void* b, DType c_dtype,
                 void* c) {
  if (g_backend.load(std::memory_order_relaxed) != GemmBackend::Auto) return false;
  // cublasGemmEx takes bf16 x bf16 -> bf16 or f32, and f32 x f32 -> f32 (compute 32F); not f32 -> bf16.
  if (ab_dtype == DType::F32 && c_dtype == DType::BF16) return false;
  const cublas::Api* api = cublas::api();
  if (api == nullptr) return false;
  if (!fits_int(p.m) || !fits_int(p.n) || !fits_int(p.k) || !fits_int(p.lda) || !fits_int(p.ldb) || !fits_int(p.ldc))
    return false;  // the own kernel takes 64-bit sizes
  cublas::Handle handle = cublas::handle(device);
  if (handle == nullptr) return false;  // creation failed on this device: gemm_path_info() says why
  const cublas::ComputeType compute = ab_dtype == DType::F32 && tf32_flag().load(std::memory_order_relaxed)
                                          ? cublas::kCompute32FFastTF32
                                          : cublas::kCompute32F;
  const float alpha = p.alpha, beta = p.beta;  // host scalars of the compute type (f32)
  cublas::Status status;
  {
    std::lock_guard<std::mutex> lock(cublas::handle_mutex(device));
    const cublas::ColumnMajorGemm g = cublas::column_major(p.trans_a, p.trans_b, p.m, p.n, p.k, p.lda, p.ldb, p.ldc);
    status = api->GemmEx(handle, g.trans_first, g.trans_second, g.m, g.n, g.k, &alpha, b, cuda_type(ab_dtype),
                         g.ld_first, a, cuda_type(ab_dtype), g.ld_second, &beta, c, cuda_type(c_dtype), g.ldc, compute,
                         cublas::kGemmDefault);
  }
  PIX_CHECK(status == cublas::kSuccess, "cuda gemm: cublasGemmEx failed (", cublas::status_string(status), ") for M=",
            p.m, " N=", p.n, " K=", p.k, " lda=", p.lda, " ldb=", p.ldb, " ldc=", p.ldc, p.trans_a ? " A^T" : "",
            p.trans_b ? " B^T" : "", ", ", dtype_name(ab_dtype), " x ", dtype_name(c_dtype),
            "; PIX_CUBLAS=0 runs the own kernel instead");
  return true;
}

}  // namespace

void gemm(int device, const GemmParams& p, DType ab_dtype, const void* a, const void* b, DType c_dtype, void* c) {
  PIX_CHECK(p.m >= 0 && p.n >= 0 && p.k >= 0, "cuda gemm: negative size (", p.m, ",", p.n, ",", p.k, ")");
  if (p.m == 0 || p.n == 0) return;
  PIX_CHECK(p.ldc >= p.n, "cuda gemm: ldc = ", p.ldc, " is less than N = ", p.n);
  set_device(device);
  cudaStream_t st = stream(device);
  if (p.k == 0 || p.alpha == 0.f) {
    with_activation_type(c_dtype, "cuda gemm (C)", [&](auto zero) {
      using TC = decltype(zero);
      scale_c<TC><<<grid_for(p.m * p.n), kThreads, 0, st>>>(static_cast<TC*>(c), p.m, p.n, p.ldc, p.beta);
    });
    PIX_CUDA_CHECK_LAUNCH("cuda gemm (scale C)");
    return;
  }
  PIX_CHECK(p.lda >= (p.trans_a ? p.m : p.k) && p.ldb >= (p.trans_b ? p.k : p.n), "cuda gemm: lda = ", p.lda,
            " or ldb = ", p.ldb, " is less than the row length of ", p.trans_a ? "A stored (K,M)" : "A stored (M,K)",
            " or ", p.trans_b ? "B stored (N,K)" : "B stored (K,N)", " (M=", p.m, " N=", p.n, " K=", p.k, ")");
  with_activation_type(ab_dtype, "cuda gemm (A, B)", [](auto) {});
  with_activation_type(c_dtype, "cuda gemm (C)", [](auto) {});
  if (gemm_cublas(device, p, ab_dtype, a, b, c_dtype, c)) return;
  PIX_CHECK((p.m + kTile - 1) / kTile <= kMaxGridY, "cuda gemm: M = ", p.m, " is more rows than one launch covers");
  const GemmArgs g{p.trans_a, p.trans_b, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta};
  with_activation_type(ab_dtype, "cuda gemm (A, B)", [&](auto ab_zero) {
    using TAB = decltype(ab_zero);
    with_activation_type(c_dtype, "cuda gemm (C)", [&](auto c_zero) {
      using TC = decltype(c_zero);
      launch<TAB, TC>(g, a, b, c, st);
    });
  });
  PIX_CUDA_CHECK_LAUNCH("cuda gemm");
}

void set_gemm_backend(GemmBackend backend) { g_backend.store(backend); }

GemmBackend gemm_backend() { return g_backend.load(); }

void set_gemm_tf32(bool allowed) { tf32_flag().store(allowed); }

bool gemm_tf32() { return tf32_flag().load(); }

GemmPathInfo gemm_path_info() {
  GemmPathInfo info;
  const cublas::LibraryStatus lib = cublas::library_status();
  info.cublas_loaded = lib.available;
  info.library_path = lib.path;
  const std::string failure = lib.available ? cublas::first_device_failure() : "";
  if (!lib.available) {
    info.description = concat("own kernel (", lib.reason, ")");
  } else if (gemm_backend() == GemmBackend::Own) {
    info.description = concat("own kernel (set to 'own' in this process; cuBLAS ", lib.version, " is loaded)");
  } else if (!failure.empty()) {
    info.description = concat("own kernel (", failure, ")");
  } else {
    info.on_cublas = true;
    info.description = concat("cublas ", lib.version.empty() ? "(version not yet read)" : lib.version);
  }
  return info;
}

}  // namespace pix::cuda
