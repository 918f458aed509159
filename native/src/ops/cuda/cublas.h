// cuBLAS, loaded at run time: the engine is compiled without cuBLAS's headers or libraries (CI's
// toolkit has neither) and opens libcublas with dlopen the first time cuda::gemm or `pix info`
// asks, trying libcublas.so.13, .so.12 and .so through the dynamic loader's path (LD_LIBRARY_PATH,
// ld.so.cache), then $CUDA_HOME/lib64 and /usr/local/cuda/lib64 (core/dynamic_library.h). Where it
// is missing, cuda::gemm runs the project's own kernel and `pix info` says why.
//
// PIX_CUBLAS (read once, at the first load): unset or "1" searches as above; "0" never loads it (the
// own kernel everywhere, for A/B comparisons); anything else is the path of the libcublas to load.
//
// The declarations below are our own copy of the part of cuBLAS's stable v2 C ABI the engine uses,
// checked against cublas_api.h (cuBLAS 11-13): the handle is an opaque pointer, the enums plain
// ints, cudaDataType_t and cudaStream_t come from the toolkit's runtime headers (library_types.h is
// in every toolkit, cuBLAS or not). They live in pix::cuda::cublas under our own names, so they
// never clash with cublas_v2.h should another file include it.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include "core/cuda/vendor_library.h"

namespace pix::cuda::cublas {

struct Context;            // struct cublasContext
using Handle = Context*;   // cublasHandle_t

// cublasStatus_t
enum Status : int {
  kSuccess = 0,
  kNotInitialized = 1,
  kAllocFailed = 3,
  kInvalidValue = 7,
  kArchMismatch = 8,
  kMappingError = 11,
  kExecutionFailed = 13,
  kInternalError = 14,
  kNotSupported = 15,
  kLicenseError = 16,
};
// cublasOperation_t
enum Operation : int { kOpN = 0, kOpT = 1 };
// cublasComputeType_t: the two the engine uses.
enum ComputeType : int {
  kCompute32F = 68,          // CUBLAS_COMPUTE_32F: f32 accumulation, no down-conversion of f32 inputs
  kCompute32FFastTF32 = 77,  // CUBLAS_COMPUTE_32F_FAST_TF32: f32 inputs may be rounded to TF32
};
// cublasGemmAlgo_t
enum GemmAlgo : int { kGemmDefault = -1 };
// cublasMath_t flags
enum Math : int {
  kDefaultMath = 0,
  // Split-K partial sums stay f32 even when C is bf16: the "products summed in f32" of ops/cuda/gemm.h.
  kDisallowReducedPrecisionReduction = 16,
};

// The entry points, resolved from the loaded library. Those marked optional may be null; the
// others must all be present or loading fails naming the missing one.
struct Api {
  Status (*Create)(Handle* handle);                                   // cublasCreate_v2
  Status (*Destroy)(Handle handle);                                   // cublasDestroy_v2
  Status (*SetStream)(Handle handle, cudaStream_t stream);            // cublasSetStream_v2
  Status (*SetWorkspace)(Handle handle, void* workspace, size_t bytes);  // cublasSetWorkspace_v2
  Status (*SetMathMode)(Handle handle, int mode);                     // cublasSetMathMode (cublasMath_t)
  Status (*GetVersion)(Handle handle, int* version);                  // cublasGetVersion_v2
  const char* (*GetStatusString)(Status status);                      // cublasGetStatusString
  const char* (*GetStatusName)(Status status);                        // cublasGetStatusName, optional
  Status (*GetProperty)(libraryPropertyType type, int* value);        // cublasGetProperty, optional
  Status (*GemmEx)(Handle handle, Operation transa, Operation transb, int m, int n, int k, const void* alpha,
                   const void* a, cudaDataType_t a_type, int lda, const void* b, cudaDataType_t b_type, int ldb,
                   const void* beta, void* c, cudaDataType_t c_type, int ldc, ComputeType compute, GemmAlgo algo);
  Status (*GemmStridedBatchedEx)(Handle handle, Operation transa, Operation transb, int m, int n, int k,
                                 const void* alpha, const void* a, cudaDataType_t a_type, int lda,
                                 long long stride_a, const void* b, cudaDataType_t b_type, int ldb,
                                 long long stride_b, const void* beta, void* c, cudaDataType_t c_type, int ldc,
                                 long long stride_c, int batch_count, ComputeType compute, GemmAlgo algo);
};

// What loading gave, without throwing: for `pix info` and for cuda::gemm's choice. The first call
// loads (once per process, success or not); later calls only read.
using LibraryStatus = ::pix::cuda::LibraryStatus;
LibraryStatus library_status();

// The loaded entry points, or null when cuBLAS is not available.
const Api* api();

// The handle of `device`, created on its first use and kept for the process: bound to the
// device's engine stream, with a workspace from the caching allocator (so CUDA graph capture works)
// and f32 split-K reductions. Null when creation failed; first_device_failure() then says why,
// and later calls return null at once. The caller makes `device` current first.
Handle handle(int device);
std::string first_device_failure();  // the lowest-numbered device's, "" while none

// A handle is used by one host thread at a time: hold this around each call on handle(device).
std::mutex& handle_mutex(int device);

// "CUBLAS_STATUS_NOT_SUPPORTED: the functionality requested is not supported" or "status 15".
std::string status_string(Status status);

// The row-major product of ops/gemm.h as one column-major cublasGemmEx call. Read column-major,
// the row-major C (M,N) with row stride ldc is C^T (N,M) with leading dimension ldc, and
// C^T = op(B)^T op(A)^T: so m' = N, n' = M, the first operand is B (op N when stored (K,N), which
// read column-major already is B^T; op T when stored (N,K)), the second is A likewise, and every
// leading dimension stays as it is. Sizes must fit in int (the caller checks).
struct ColumnMajorGemm {
  Operation trans_first, trans_second;  // of B, then of A
  int m, n, k;
  int ld_first, ld_second, ldc;         // ldb, lda, ldc
};
inline ColumnMajorGemm column_major(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, int64_t lda,
                                    int64_t ldb, int64_t ldc) {
  return {trans_b ? kOpT : kOpN, trans_a ? kOpT : kOpN, static_cast<int>(n), static_cast<int>(m),
          static_cast<int>(k), static_cast<int>(ldb), static_cast<int>(lda), static_cast<int>(ldc)};
}

}  // namespace pix::cuda::cublas
