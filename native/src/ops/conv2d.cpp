// conv2d dispatcher: shape and dtype checks in the caller's terms, then the backend.
#include "ops/conv2d.h"

#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/device_check.h"

namespace pix {
namespace {

const char* kernel_name(ConvKernel kernel) {
  switch (kernel) {
    case ConvKernel::Reference: return "reference";
    case ConvKernel::Gemm: return "gemm";
    case ConvKernel::Winograd: return "winograd";
    default: return "fast";
  }
}

}  // namespace

ConvShape conv_shape(const Tensor& x, const Tensor& w, const ConvParams& params) {
  PIX_CHECK(x.defined() && w.defined(), "conv2d: input or weight is undefined");
  PIX_CHECK(x.dim() == 4, "conv2d: x must be (N,H,W,C), got ", shape_str(x.shape()));
  PIX_CHECK(w.dim() == 4 && w.size(1) == params.kernel && w.size(2) == params.kernel, "conv2d: weight ",
            shape_str(w.shape()), " does not match a ", params.kernel, "x", params.kernel, " kernel (O,KH,KW,C)");
  PIX_CHECK(w.size(3) == x.size(3), "conv2d: weight expects ", w.size(3), " input channels, x has ", x.size(3));
  PIX_CHECK(params.stride >= 1 && params.pad >= 0, "conv2d: stride must be >= 1 and pad >= 0");
  check_activation_dtype("conv2d", "x", x);
  // f32 (the backends cast it to x's dtype), or on CUDA already in x's dtype: a cast the caller keeps
  // (nn::Conv's, made once per version of the weight).
  if (!(x.device().is_cuda() && w.dtype() == x.dtype())) check_f32("conv2d", "weight", w);
  check_same_device("conv2d", {"x", &x}, {{"weight", &w}});
  ConvShape s{};
  s.n = x.size(0), s.h = x.size(1), s.w = x.size(2), s.c = x.size(3);
  s.o = w.size(0);
  s.kernel = params.kernel, s.stride = params.stride, s.pad = params.pad;
  PIX_CHECK(s.h + 2 * s.pad >= s.kernel && s.w + 2 * s.pad >= s.kernel, "conv2d: input ", s.h, "x", s.w,
            " is smaller than the ", s.kernel, "x", s.kernel, " kernel");
  s.p = (s.h + 2 * s.pad - s.kernel) / s.stride + 1;
  s.q = (s.w + 2 * s.pad - s.kernel) / s.stride + 1;
  return s;
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const ConvParams& params, ConvKernel kernel) {
  const ConvShape s = conv_shape(x, w, params);
  PIX_CHECK(kernel == ConvKernel::Fast || x.device().is_cpu(), "conv2d: the ", kernel_name(kernel),
            " kernel runs on the CPU only");
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.o}, x.dtype(), x.device());
  if (kernel == ConvKernel::Reference)
    cpu::conv2d_forward_reference(x, w, s, ConvEpilogue{}, y);
  else if (x.device().is_cpu())
    cpu::conv2d_forward(x, w, s, ConvEpilogue{}, y, kernel);
  else
    PIX_CUDA_CALL(cuda::conv2d_forward(x, w, s, y));
  return y;
}

Tensor conv2d_forward(const Tensor& x, const Tensor& w, const ConvParams& params, const ConvEpilogue& epilogue,
                      ConvKernel kernel) {
  const ConvShape s = conv_shape(x, w, params);
  PIX_CHECK(kernel == ConvKernel::Fast || x.device().is_cpu(), "conv2d: the ", kernel_name(kernel),
            " kernel runs on the CPU only");
  const Shape y_shape{s.n, s.p, s.q, s.o};
  if (epilogue.bias.defined()) {
    if (!(x.device().is_cuda() && epilogue.bias.dtype() == x.dtype())) check_f32("conv2d", "bias", epilogue.bias);
    PIX_CHECK(epilogue.bias.shape() == Shape({s.o}), "conv2d: bias must be (", s.o, "), got ",
              shape_str(epilogue.bias.shape()));
  }
  if (epilogue.residual.defined())
    PIX_CHECK(epilogue.residual.shape() == y_shape && epilogue.residual.dtype() == x.dtype(), "conv2d: residual must be ",
              dtype_name(x.dtype()), " ", shape_str(y_shape), " like the output, got ", dtype_name(epilogue.residual.dtype()),
              " ", shape_str(epilogue.residual.shape()));
  if (epilogue.mean.defined()) {
    check_f32("conv2d", "mean", epilogue.mean);
    PIX_CHECK(epilogue.mean.shape() == Shape({s.n, s.o}), "conv2d: mean must be (", s.n, ",", s.o, "), got ",
              shape_str(epilogue.mean.shape()));
  }
  check_same_device("conv2d", {"x", &x},
                    {{"bias", &epilogue.bias}, {"residual", &epilogue.residual}, {"mean", &epilogue.mean}});
  Tensor y = Tensor::empty(y_shape, x.dtype(), x.device());
  if (kernel == ConvKernel::Reference)
    cpu::conv2d_forward_reference(x, w, s, epilogue, y);
  else if (x.device().is_cpu())
    cpu::conv2d_forward(x, w, s, epilogue, y, kernel);
  else
    PIX_CUDA_CALL(cuda::conv2d_forward(x, w, s, epilogue, y));
  return y;
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvParams& params, Tensor& dx,
                     Tensor& dw, ConvKernel kernel, GradWrite dx_write) {
  const ConvShape s = conv_shape(x, w, params);
  PIX_CHECK(kernel == ConvKernel::Fast || x.device().is_cpu(), "conv2d_backward: the ", kernel_name(kernel),
            " kernel runs on the CPU only");
  PIX_CHECK(dy.shape() == Shape({s.n, s.p, s.q, s.o}) && dy.dtype() == x.dtype(), "conv2d_backward: dy must be ",
            dtype_name(x.dtype()), " ", shape_str({s.n, s.p, s.q, s.o}), ", got ", dtype_name(dy.dtype()), " ",
            shape_str(dy.shape()));
  PIX_CHECK(dw.defined() && dw.shape() == w.shape() && dw.dtype() == DType::F32,
            "conv2d_backward: dw must be f32 with the weight's shape");
  PIX_CHECK(!dx.defined() || (dx.shape() == x.shape() && dx.dtype() == x.dtype()),
            "conv2d_backward: dx must have x's shape and dtype");
  check_same_device("conv2d_backward", {"x", &x}, {{"dy", &dy}, {"dx", &dx}, {"dw", &dw}});
  Tensor* dx_out = dx.defined() ? &dx : nullptr;
  if (kernel == ConvKernel::Reference) {
    if (dx_out && dx_write == GradWrite::Overwrite) dx_out->zero_();
    cpu::conv2d_backward_reference(x, w, dy, s, dx_out, dw);
  } else if (x.device().is_cpu()) {
    cpu::conv2d_backward(x, w, dy, s, dx_out, dw, dx_write, kernel);
  } else {
    PIX_CUDA_CALL(cuda::conv2d_backward(x, w, dy, s, dx_out, dw, dx_write));
  }
}

}  // namespace pix
