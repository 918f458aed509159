// PiX dispatcher: checks every argument once, in the caller's terms, then calls the backend.
#include "ops/pix.h"

#include <cmath>

#include "core/cuda_dispatch.h"
#include "core/error.h"

namespace pix {

const char* layout_name(Layout layout) { return layout == Layout::NHWC ? "nhwc" : "nchw"; }

Layout parse_layout(const std::string& name) {
  if (name == "nhwc" || name == "NHWC") return Layout::NHWC;
  if (name == "nchw" || name == "NCHW") return Layout::NCHW;
  throw Error(concat("unknown layout '", name, "' (expected nhwc or nchw)"));
}

namespace {

DType gate_dtype_for(DType x_dtype) { return x_dtype == DType::F64 ? DType::F64 : DType::F32; }

PixShape check_forward_args(const char* op, const Tensor& x, const Tensor& p, const PixParams& params) {
  PIX_CHECK(params.zeta >= 1, op, ": zeta must be >= 1, got ", params.zeta);
  PIX_CHECK(std::isfinite(params.tau), op, ": tau must be a finite number");
  PIX_CHECK(x.defined(), op, ": input x is undefined");
  PIX_CHECK(p.defined(), op, ": gate p is undefined");
  PIX_CHECK(x.dim() == 4, op, ": x must be 4-D ", params.layout == Layout::NHWC ? "(N,H,W,C)" : "(N,C,H,W)",
            ", got shape ", shape_str(x.shape()));
  const Device device = x.device();
  if (device.is_cpu()) {
    PIX_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::F64, op, ": on the CPU x must be f32 or f64, got ",
              dtype_name(x.dtype()));
  } else {
    PIX_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16, op, ": on CUDA x must be f32 or bf16, got ",
              dtype_name(x.dtype()));
  }
  PixShape s{};
  s.n = x.size(0);
  s.c = params.layout == Layout::NHWC ? x.size(3) : x.size(1);
  s.hw = params.layout == Layout::NHWC ? x.size(1) * x.size(2) : x.size(2) * x.size(3);
  s.k = (s.c + params.zeta - 1) / params.zeta;
  PIX_CHECK(s.c >= 1, op, ": x has no channels (shape ", shape_str(x.shape()), ", layout ",
            layout_name(params.layout), ")");

  const bool gate_2d = p.dim() == 2 && p.size(0) == s.n && p.size(1) == s.k;
  const bool gate_4d = p.dim() == 4 && p.size(0) == s.n && p.size(1) == s.k && p.size(2) == 1 && p.size(3) == 1;
  PIX_CHECK(gate_2d || gate_4d, op, ": gate p has shape ", shape_str(p.shape()), " but x ", shape_str(x.shape()),
            " with zeta ", params.zeta, " needs (", s.n, ",", s.k, ") or (", s.n, ",", s.k, ",1,1)");
  PIX_CHECK(p.dtype() == gate_dtype_for(x.dtype()), op, ": gate p must be ", dtype_name(gate_dtype_for(x.dtype())),
            " for ", dtype_name(x.dtype()), " input, got ", dtype_name(p.dtype()));
  PIX_CHECK(p.device() == device, op, ": gate p is on ", p.device().str(), " but x is on ", device.str());
  return s;
}

Shape output_shape(const Tensor& x, const PixParams& params, const PixShape& s) {
  return params.layout == Layout::NHWC ? Shape{s.n, x.size(1), x.size(2), s.k} : Shape{s.n, s.k, x.size(2), x.size(3)};
}

void check_same(const char* op, const char* name, const Tensor& t, const Shape& shape, DType dtype, Device device) {
  PIX_CHECK(t.shape() == shape, op, ": ", name, " must have shape ", shape_str(shape), ", got ", shape_str(t.shape()));
  PIX_CHECK(t.dtype() == dtype, op, ": ", name, " must be ", dtype_name(dtype), ", got ", dtype_name(t.dtype()));
  PIX_CHECK(t.device() == device, op, ": ", name, " is on ", t.device().str(), " but x is on ", device.str());
}

void check_kernel(const char* op, const Tensor& x, PixKernel kernel) {
  PIX_CHECK(kernel == PixKernel::Fast || x.device().is_cpu(), op, ": the reference kernel runs on the CPU only");
}

}  // namespace

Tensor pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, PixKernel kernel) {
  const PixShape s = check_forward_args("pix_forward", x, p, params);
  check_kernel("pix_forward", x, kernel);
  Tensor y = Tensor::empty(output_shape(x, params, s), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  if (kernel == PixKernel::Reference) {
    cpu::pix_forward_reference(x, p, params, s, y);
  } else if (x.device().is_cpu()) {
    cpu::pix_forward(x, p, params, s, y);
  } else {
    PIX_CUDA_CALL(cuda::pix_forward(x, p, params, s, y));
  }
  return y;
}

void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params, Tensor& dx,
                  Tensor& dp, PixKernel kernel) {
  const char* op = "pix_backward";
  const PixShape s = check_forward_args(op, x, p, params);
  check_kernel(op, x, kernel);
  PIX_CHECK(dy.defined(), op, ": output gradient dy is undefined");
  check_same(op, "dy", dy, output_shape(x, params, s), x.dtype(), x.device());
  if (dx.defined()) check_same(op, "dx", dx, x.shape(), x.dtype(), x.device());
  if (dp.defined()) check_same(op, "dp", dp, p.shape(), p.dtype(), x.device());
  if (!dx.defined() && !dp.defined()) return;
  if (x.numel() == 0) return;
  Tensor* dx_out = dx.defined() ? &dx : nullptr;
  Tensor* dp_out = dp.defined() ? &dp : nullptr;
  if (kernel == PixKernel::Reference) {
    cpu::pix_backward_reference(x, p, dy, params, s, dx_out, dp_out);
  } else if (x.device().is_cpu()) {
    cpu::pix_backward(x, p, dy, params, s, dx_out, dp_out);
  } else {
    PIX_CUDA_CALL(cuda::pix_backward(x, p, dy, params, s, dx_out, dp_out));
  }
}

}  // namespace pix
