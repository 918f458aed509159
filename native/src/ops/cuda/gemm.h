// Matrix products on a CUDA device, for convolution and linear: the row-major contract of
// ops/gemm.h (C (M,N) = alpha * op(A) op(B) + beta * C, beta = 0 never reads C), with A and B
// of one dtype (f32 or bf16) and C f32 or bf16; products are summed in f32.
//
// Two implementations behind the one call:
//  - cuBLAS (cublasGemmEx), when libcublas loads at run time (ops/cuda/cublas.h): tensor cores for
//    bf16, f32 SIMT for f32 unless TF32 is allowed (set_gemm_tf32 / PIX_TF32=1: f32 operands are
//    then rounded to TF32, ~1e-3 relative, the "f32 (TF32 allowed)" mode);
//  - the project's own tiled kernel (gemm.cu), everywhere else: without libcublas, with
//    PIX_CUBLAS=0, after set_gemm_backend(Own), for a size past cuBLAS's 32-bit arguments, and
//    for f32 operands into a bf16 C (a combination cublasGemmEx does not take).
// GemmParams::precision and the epilogue are the CPU's; CUDA callers leave them at their defaults
// (bf16 on CUDA means bf16 operands, not rounded f32 ones).
// Plain C++ (no CUDA headers), so dispatchers, bindings and other .cu files can call it.
// Not here: cuBLASLt epilogues (bias, ReLU), batched or strided-batched products.
#pragma once

#include <string>

#include "core/dtype.h"
#include "ops/gemm.h"

namespace pix::cuda {

// Runs on `device`'s engine stream. Pointers are device pointers of the given dtypes. Leading
// dimensions follow ops/gemm.h (lda >= K, or >= M when trans_a; likewise ldb; ldc >= N).
void gemm(int device, const GemmParams& params, DType ab_dtype, const void* a, const void* b, DType c_dtype, void* c);

// Process-wide choice of implementation, for A/B tests and benchmarks. Auto (the default) takes
// cuBLAS whenever it is loaded; Own always runs the own kernel.
enum class GemmBackend { Auto, Own };
void set_gemm_backend(GemmBackend backend);
GemmBackend gemm_backend();

// Whether f32 products may use TF32 tensor cores on cuBLAS (no effect on the own kernel, nor on
// bf16). Off unless PIX_TF32=1 was set when the process started, or set_gemm_tf32(true).
void set_gemm_tf32(bool allowed);
bool gemm_tf32();

// What cuda::gemm runs on, for `pix info`: loads cuBLAS if not yet tried (no CUDA context needed).
struct GemmPathInfo {
  bool cublas_loaded = false;  // libcublas is loaded and has every symbol the engine needs
  bool on_cublas = false;      // products go to cuBLAS (loaded, backend Auto, no device failed)
  std::string description;     // "cublas 13.0.2" or "own kernel (<why>)"
  std::string library_path;    // the file loaded, when loaded
};
GemmPathInfo gemm_path_info();

}  // namespace pix::cuda
