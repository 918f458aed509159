// cuDNN, loaded at run time, like cuBLAS (ops/cuda/cublas.h): the engine is compiled without
// cuDNN's headers or libraries and opens libcudnn.so.9 with dlopen the first time a convolution or
// `pix info` asks: through the dynamic loader's path, then $CUDNN_ROOT/lib, $CUDNN_ROOT/lib64 and
// the CUDA toolkit's directories. cuDNN 9's libcudnn is a thin front that opens its sub-libraries
// (graph, ops, cnn, engines) by soname; they are opened first from the directory where libcudnn was
// found, so a cuDNN outside the loader's path works too. Where cuDNN is missing, convolutions run
// the project's own im2col + cuda::gemm path (ops/cuda/conv2d.cu) and `pix info` says why.
//
// PIX_CUDNN (read once, at the first load): unset or "1" searches as above; "0" never loads it (the
// own path everywhere, for A/B comparisons); anything else is the path of the libcudnn to load.
//
// The CUDA emulator's build (a CPU test build) opens only its own stand-in
// (cuda_emulator/cudnn_emulator.cpp), known by its marker symbol, since a real cuDNN would be handed
// host memory.
//
// The declarations below are our own copy of the part of cuDNN's C API the engine uses: the
// convolution calls of the "legacy" API (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h of cuDNN 9, where
// they are deprecated but kept), checked against cuDNN 9.6's headers. Handles and descriptors are
// opaque pointers, enums plain ints. They live in pix::cuda::cudnn under our own names, so they
// never clash with cudnn.h should another file include it.
#pragma once

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <cstddef>
#include <mutex>
#include <string>

#include "core/cuda/vendor_library.h"

namespace pix::cuda::cudnn {

struct Context;                                // struct cudnnContext
using Handle = Context*;                       // cudnnHandle_t
struct TensorStruct;
using TensorDescriptor = TensorStruct*;        // cudnnTensorDescriptor_t
struct FilterStruct;
using FilterDescriptor = FilterStruct*;        // cudnnFilterDescriptor_t
struct ConvolutionStruct;
using ConvolutionDescriptor = ConvolutionStruct*;  // cudnnConvolutionDescriptor_t
struct ActivationStruct;
using ActivationDescriptor = ActivationStruct*;    // cudnnActivationDescriptor_t

// cudnnStatus_t: the categories (cuDNN 9 adds specific codes within each thousand).
enum Status : int {
  kSuccess = 0,
  kNotInitialized = 1001,
  kBadParam = 2000,
  kNotSupported = 3000,
  kInternalError = 4000,
  kExecutionFailed = 5000,
};
inline int status_category(Status s) { return static_cast<int>(s) / 1000 * 1000; }

enum DataType : int { kFloat = 0, kBFloat16 = 9 };                     // cudnnDataType_t
enum TensorFormat : int { kNchw = 0, kNhwc = 1 };                      // cudnnTensorFormat_t
// cudnnMathType_t. kDefaultMath lets f32 convolutions use TF32 tensor cores on Ampere and later;
// kFmaMath forbids it; kTensorOpMath is what bf16 wants.
enum MathType : int { kDefaultMath = 0, kTensorOpMath = 1, kFmaMath = 3 };
enum ConvolutionMode : int { kConvolution = 0, kCrossCorrelation = 1 };  // cudnnConvolutionMode_t
enum Determinism : int { kNonDeterministic = 0, kDeterministic = 1 };    // cudnnDeterminism_t
enum ActivationMode : int { kActivationRelu = 1, kActivationIdentity = 5 };  // cudnnActivationMode_t
enum NanPropagation : int { kNotPropagateNan = 0, kPropagateNan = 1 };      // cudnnNanPropagation_t
// cudnnConvolutionFwdAlgo_t's IMPLICIT_PRECOMP_GEMM: the one algorithm the fused call takes with
// an identity activation.
constexpr int kFwdAlgoImplicitPrecompGemm = 1;

// cudnnConvolutionFwdAlgoPerf_t, ...BwdDataAlgoPerf_t and ...BwdFilterAlgoPerf_t share this
// layout; `algo` is the direction's algorithm enum (forward 0-7, backward data 0-5, backward
// filter 0-6).
struct AlgoPerf {
  int algo;
  Status status;
  float time;     // milliseconds, from a Find call; -1 from the heuristics
  size_t memory;  // workspace bytes
  Determinism determinism;
  MathType math_type;
  int reserved[3];
};
static_assert(sizeof(AlgoPerf) == 48, "cuDNN's algorithm-performance struct is 48 bytes on LP64");

// The entry points, resolved from the loaded library. Those marked optional may be null; the
// others must all be present or loading fails naming the missing one.
struct Api {
  size_t (*GetVersion)();                                    // cudnnGetVersion: 90600 for 9.6.0
  const char* (*GetErrorString)(Status status);              // cudnnGetErrorString
  void (*GetLastErrorString)(char* message, size_t bytes);   // cudnnGetLastErrorString, optional
  Status (*Create)(Handle* handle);                          // cudnnCreate
  Status (*Destroy)(Handle handle);                          // cudnnDestroy
  Status (*SetStream)(Handle handle, cudaStream_t stream);   // cudnnSetStream

  Status (*CreateTensorDescriptor)(TensorDescriptor* desc);
  Status (*SetTensor4dDescriptor)(TensorDescriptor desc, TensorFormat format, DataType type, int n, int c, int h,
                                  int w);
  Status (*DestroyTensorDescriptor)(TensorDescriptor desc);
  Status (*CreateFilterDescriptor)(FilterDescriptor* desc);
  // Note the order: data type before format, unlike the tensor's. NHWC filters are (K, R, S, C):
  // the engine's OHWI.
  Status (*SetFilter4dDescriptor)(FilterDescriptor desc, DataType type, TensorFormat format, int k, int c, int h,
                                  int w);
  Status (*DestroyFilterDescriptor)(FilterDescriptor desc);
  Status (*CreateConvolutionDescriptor)(ConvolutionDescriptor* desc);
  Status (*SetConvolution2dDescriptor)(ConvolutionDescriptor desc, int pad_h, int pad_w, int stride_h, int stride_w,
                                       int dilation_h, int dilation_w, ConvolutionMode mode, DataType compute);
  Status (*SetConvolutionMathType)(ConvolutionDescriptor desc, MathType math);
  Status (*DestroyConvolutionDescriptor)(ConvolutionDescriptor desc);

  // Forward: y = alpha * conv(x, w) + beta * y.
  Status (*GetConvolutionForwardAlgorithm_v7)(Handle handle, TensorDescriptor x, FilterDescriptor w,
                                              ConvolutionDescriptor conv, TensorDescriptor y, int requested,
                                              int* returned, AlgoPerf* results);
  Status (*FindConvolutionForwardAlgorithmEx)(Handle handle, TensorDescriptor x_desc, const void* x,
                                              FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv,
                                              TensorDescriptor y_desc, void* y, int requested, int* returned,
                                              AlgoPerf* results, void* workspace, size_t workspace_bytes);
  Status (*GetConvolutionForwardWorkspaceSize)(Handle handle, TensorDescriptor x, FilterDescriptor w,
                                               ConvolutionDescriptor conv, TensorDescriptor y, int algo,
                                               size_t* bytes);
  Status (*ConvolutionForward)(Handle handle, const void* alpha, TensorDescriptor x_desc, const void* x,
                               FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv, int algo,
                               void* workspace, size_t workspace_bytes, const void* beta, TensorDescriptor y_desc,
                               void* y);

  // The fused forward (optional: a cuDNN without it runs evaluation's epilogue as a kernel of the
  // engine's): y = act(alpha1 * conv(x, w) + alpha2 * z + bias), bias (1,K,1,1). The activation is
  // ReLU, or identity with kFwdAlgoImplicitPrecompGemm only.
  Status (*CreateActivationDescriptor)(ActivationDescriptor* desc);
  Status (*SetActivationDescriptor)(ActivationDescriptor desc, ActivationMode mode, NanPropagation nan, double coef);
  Status (*DestroyActivationDescriptor)(ActivationDescriptor desc);
  Status (*ConvolutionBiasActivationForward)(Handle handle, const void* alpha1, TensorDescriptor x_desc, const void* x,
                                             FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv,
                                             int algo, void* workspace, size_t workspace_bytes, const void* alpha2,
                                             TensorDescriptor z_desc, const void* z, TensorDescriptor bias_desc,
                                             const void* bias, ActivationDescriptor act, TensorDescriptor y_desc,
                                             void* y);

  // Backward data: dx = alpha * conv_transpose(dy, w) + beta * dx.
  Status (*GetConvolutionBackwardDataAlgorithm_v7)(Handle handle, FilterDescriptor w, TensorDescriptor dy,
                                                   ConvolutionDescriptor conv, TensorDescriptor dx, int requested,
                                                   int* returned, AlgoPerf* results);
  Status (*FindConvolutionBackwardDataAlgorithmEx)(Handle handle, FilterDescriptor w_desc, const void* w,
                                                   TensorDescriptor dy_desc, const void* dy,
                                                   ConvolutionDescriptor conv, TensorDescriptor dx_desc, void* dx,
                                                   int requested, int* returned, AlgoPerf* results, void* workspace,
                                                   size_t workspace_bytes);
  Status (*GetConvolutionBackwardDataWorkspaceSize)(Handle handle, FilterDescriptor w, TensorDescriptor dy,
                                                    ConvolutionDescriptor conv, TensorDescriptor dx, int algo,
                                                    size_t* bytes);
  Status (*ConvolutionBackwardData)(Handle handle, const void* alpha, FilterDescriptor w_desc, const void* w,
                                    TensorDescriptor dy_desc, const void* dy, ConvolutionDescriptor conv, int algo,
                                    void* workspace, size_t workspace_bytes, const void* beta,
                                    TensorDescriptor dx_desc, void* dx);

  // Backward filter: dw = alpha * (dy correlated with x) + beta * dw.
  Status (*GetConvolutionBackwardFilterAlgorithm_v7)(Handle handle, TensorDescriptor x, TensorDescriptor dy,
                                                     ConvolutionDescriptor conv, FilterDescriptor dw, int requested,
                                                     int* returned, AlgoPerf* results);
  Status (*FindConvolutionBackwardFilterAlgorithmEx)(Handle handle, TensorDescriptor x_desc, const void* x,
                                                     TensorDescriptor dy_desc, const void* dy,
                                                     ConvolutionDescriptor conv, FilterDescriptor dw_desc, void* dw,
                                                     int requested, int* returned, AlgoPerf* results,
                                                     void* workspace, size_t workspace_bytes);
  Status (*GetConvolutionBackwardFilterWorkspaceSize)(Handle handle, TensorDescriptor x, TensorDescriptor dy,
                                                      ConvolutionDescriptor conv, FilterDescriptor dw, int algo,
                                                      size_t* bytes);
  Status (*ConvolutionBackwardFilter)(Handle handle, const void* alpha, TensorDescriptor x_desc, const void* x,
                                      TensorDescriptor dy_desc, const void* dy, ConvolutionDescriptor conv, int algo,
                                      void* workspace, size_t workspace_bytes, const void* beta,
                                      FilterDescriptor dw_desc, void* dw);
};

// The most algorithms any direction has (forward: 8), so one results array serves all three.
constexpr int kMaxAlgorithms = 8;

// What loading gave, without throwing: for `pix info` and for the convolutions' choice. The first
// call loads (once per process, success or not); later calls only read.
using LibraryStatus = ::pix::cuda::LibraryStatus;
LibraryStatus library_status();

// The loaded entry points, or null when cuDNN is not available.
const Api* api();

// The handle of `device`, created on its first use and kept for the process, bound to the device's
// engine stream. Null when creation failed; device_failure() then says why, and later calls return
// null at once. The caller makes `device` current first, and holds handle_mutex(device) around
// every call on the handle (a handle is used by one host thread at a time).
Handle handle(int device);
std::mutex& handle_mutex(int device);
std::string first_device_failure();  // the lowest-numbered device's, "" while none

// "CUDNN_STATUS_BAD_PARAM (cuDNN's last error message)" or "status 2000".
std::string status_string(Status status);

}  // namespace pix::cuda::cudnn
