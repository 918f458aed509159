// Convolutions on cuDNN (ops/cuda/cudnn.h), the fast path behind cuda::conv2d_forward and
// cuda::conv2d_backward (ops/cuda/conv2d.cu). NHWC activations and OHWI weights are cuDNN's NHWC
// tensors and KRSC filters as they are: nothing is transposed.
//
// Each direction (forward, backward data, backward filter) of each shape gets its algorithm once,
// cached with its descriptors for the process (a "plan"):
//  - by cuDNN's heuristics (cudnnGet*Algorithm_v7), the default: the same choice every run;
//  - or by timing every algorithm on the first call (cudnnFind*AlgorithmEx) when benchmark is set
//    (PIX_CUDNN_BENCHMARK=1): the fastest, though two runs may then choose differently.
// Only deterministic algorithms are taken unless deterministic is cleared
// (PIX_CUDNN_DETERMINISTIC=0), so a run repeats bit for bit and a resumed run matches an
// uninterrupted one. f32 convolutions may use TF32 only where cuda::gemm may (gemm_tf32()); bf16
// ones use tensor cores and sum in f32. Workspaces come from the caching allocator, at most
// workspace_limit bytes (PIX_CUDNN_WORKSPACE_MIB, default 1024).
//
// Evaluation's convolutions, with BatchNorm folded into their weights (nn::ConvBn::infer), end in
// one fused call, cudnnConvolutionBiasActivationForward: y = relu?(conv(x, w) + bias (+ residual))
// is written once, where separate kernels would write y and read it back. Its algorithm is the
// forward's own when cuDNN runs the fused call with it, else IMPLICIT_PRECOMP_GEMM; which one, or
// why cuDNN refused, is decided on the first call of each shape and kept in its plan.
//
// Each call returns false, having queued nothing, when cuDNN is not to run it: not loaded, switched
// off (backend Own, PIX_CUDNN=0; the fused call alone: fused off, PIX_CUDNN_FUSED=0), a size past
// cuDNN's 32-bit arguments, or no algorithm that fits the settings. The caller then runs the own im2col + cuda::gemm path. A cuDNN call that fails
// after an algorithm was chosen throws, naming the call, the shape and cuDNN's message.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ops/conv2d.h"

namespace pix::cuda {

enum class ConvBackend { Auto, Own };  // Auto: cuDNN wherever it runs; Own: never

struct ConvSettings {
  ConvBackend backend = ConvBackend::Auto;
  bool benchmark = false;
  bool deterministic = true;
  size_t workspace_limit = size_t{1024} << 20;
  bool fused = true;
};
// The process-wide settings (first read from the environment). Setting them forgets every plan,
// since the choices depend on them.
ConvSettings conv_settings();
void set_conv_settings(const ConvSettings& settings);

// y = conv(x, w): x, w and y in one dtype (w already cast to x's).
bool cudnn_conv_forward(const Tensor& x, const Tensor& w, const ConvShape& s, Tensor& y);
// y = relu?(conv(x, w) + bias (+ z)): bias (O) and z (like y, not y's memory; may be undefined) in
// x's dtype, as cuDNN's fused call takes them.
bool cudnn_conv_bias_act_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& z, bool relu,
                                 const ConvShape& s, Tensor& y);
// dx = (overwrite ? 0 : dx) + conv_transpose(dy, w): dy, w and dx in one dtype.
bool cudnn_conv_backward_data(const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor& dx, bool overwrite);
// dw = beta * dw + (dy correlated with x): x, dy and dw in one dtype.
bool cudnn_conv_backward_filter(const Tensor& x, const Tensor& dy, const ConvShape& s, Tensor& dw, float beta);

// The plans made so far, for tests and benchmark reports: each shape's choice per direction.
struct ConvChoiceInfo {
  bool decided = false;  // the direction has run at least once
  bool usable = false;   // it runs on cuDNN (else on the own path)
  int algo = -1;         // cuDNN's algorithm enum of the direction
  size_t workspace = 0;  // bytes
  int math = 0;          // cudnnMathType_t it runs with
  std::string refusal;   // a fused call cuDNN refused: its status and message, per algorithm tried
};
struct ConvPlanInfo {
  int device = 0;
  ConvShape shape{};
  DType dtype = DType::F32;
  bool tf32 = false;
  ConvChoiceInfo forward, backward_data, backward_filter;
  ConvChoiceInfo fused_relu, fused_identity;  // the fused forward with ReLU, and without (bias only)
};
std::vector<ConvPlanInfo> conv_plans();

// What the convolutions run on, for `pix info`: loads cuDNN if not yet tried.
struct ConvPathInfo {
  bool cudnn_loaded = false;  // libcudnn is loaded and has every symbol the engine needs
  bool on_cudnn = false;      // convolutions go to cuDNN (loaded, backend Auto, no device failed)
  std::string description;    // "cudnn 9.19.0 (heuristics, deterministic)" or "own im2col + gemm (<why>)"
  std::string library_path;   // the file loaded, when loaded
};
ConvPathInfo conv_path_info();

}  // namespace pix::cuda
