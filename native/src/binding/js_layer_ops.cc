// The network's layer ops exposed to JavaScript, one call each, for the backend-agreement tests
// (CUDA against the CPU on the same inputs) and for tools: convolution, BatchNorm, pooling, the
// residual join, linear, dropout and the layout transposes. Backward calls return fresh gradients
// (zero-initialised where the engine accumulates), so JS gets the plain gradient.
// Not here: the PiX op (js_ops.cc) and the losses and Mixup (js_train_ops.cc).
#include <napi.h>

#include <cmath>
#include <string>

#include "binding/errors.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "ops/add_relu.h"
#include "ops/batchnorm.h"
#include "ops/conv2d.h"
#include "ops/dropout.h"
#include "ops/global_avg_pool.h"
#include "ops/layout.h"
#include "ops/linear.h"
#include "ops/maxpool.h"

namespace pix::binding {
namespace {

Napi::Object options_at(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() > index && info[index].IsObject()) return info[index].As<Napi::Object>();
  return Napi::Object::New(info.Env());
}

int int_field(const Napi::Object& obj, const char* key, int fallback, int min, const char* fn) {
  const double v = number_field(obj, key, fallback, fn);
  PIX_CHECK(v == std::floor(v) && v >= min && v <= 1 << 20, fn, ": ", key, " must be an integer >= ", min, ", got ", v);
  return static_cast<int>(v);
}

Tensor zeros_like(const Tensor& t) { return Tensor::zeros(t.shape(), t.dtype(), t.device()); }

void set_if(Napi::Object& out, const char* key, const Tensor& t) {
  if (t.defined()) out.Set(key, JsTensor::Wrap(out.Env(), t));
}

// { kernel = 1, stride = 1, pad = 0, reference = false, algorithm = 'auto' | 'gemm' | 'winograd' }
ConvParams conv_params(const Napi::Object& o, const char* fn, ConvKernel* kernel) {
  ConvParams p;
  p.kernel = int_field(o, "kernel", 1, 1, fn);
  p.stride = int_field(o, "stride", 1, 1, fn);
  p.pad = int_field(o, "pad", 0, 0, fn);
  const std::string algorithm = string_field(o, "algorithm", "auto", fn);
  PIX_CHECK(algorithm == "auto" || algorithm == "gemm" || algorithm == "winograd", fn,
            ": algorithm must be 'auto', 'gemm' or 'winograd', got '", algorithm, "'");
  *kernel = bool_field(o, "reference", false, fn) ? ConvKernel::Reference
            : algorithm == "gemm"                 ? ConvKernel::Gemm
            : algorithm == "winograd"             ? ConvKernel::Winograd
                                                  : ConvKernel::Fast;
  return p;
}

// conv2dForward(x (N,H,W,C), w (O,KH,KW,C), params & { bias?, residual?, relu?, mean? }) -> y (N,P,Q,O);
// bias, residual, relu or mean given: the CPU's conv with an epilogue (ops/conv2d.h); mean (N,O) is
// overwritten in place with y's per-image average.
Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "conv2dForward";
    ConvKernel kernel;
    const Napi::Object o = options_at(info, 2);
    const ConvParams p = conv_params(o, fn, &kernel);
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& w = JsTensor::FromValue(info[1], fn, "w");
    if (o.Get("bias").IsUndefined() && o.Get("residual").IsUndefined() && o.Get("relu").IsUndefined() &&
        o.Get("mean").IsUndefined())
      return JsTensor::Wrap(info.Env(), conv2d_forward(x, w, p, kernel));
    ConvEpilogue epilogue;
    if (!o.Get("bias").IsUndefined()) epilogue.bias = JsTensor::FromValue(o.Get("bias"), fn, "bias");
    if (!o.Get("residual").IsUndefined()) epilogue.residual = JsTensor::FromValue(o.Get("residual"), fn, "residual");
    if (!o.Get("mean").IsUndefined()) epilogue.mean = JsTensor::FromValue(o.Get("mean"), fn, "mean");  // shares memory
    epilogue.relu = bool_field(o, "relu", false, fn);
    return JsTensor::Wrap(info.Env(), conv2d_forward(x, w, p, epilogue, kernel));
  });
}

// conv2dBackward(x, w, dy, params & { dx = true }) -> { dx?, dw }
Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "conv2dBackward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& w = JsTensor::FromValue(info[1], fn, "w");
    const Tensor& dy = JsTensor::FromValue(info[2], fn, "dy");
    const Napi::Object o = options_at(info, 3);
    ConvKernel kernel;
    const ConvParams p = conv_params(o, fn, &kernel);
    Tensor dx = bool_field(o, "dx", true, fn) ? zeros_like(x) : Tensor();
    Tensor dw = zeros_like(w);
    conv2d_backward(x, w, dy, p, dx, dw, kernel);
    Napi::Object out = Napi::Object::New(info.Env());
    set_if(out, "dx", dx);
    set_if(out, "dw", dw);
    return out;
  });
}

BatchNormParams bn_params(const Napi::Object& o, const char* fn) {
  BatchNormParams p;
  p.eps = static_cast<float>(number_field(o, "eps", p.eps, fn));
  p.momentum = static_cast<float>(number_field(o, "momentum", p.momentum, fn));
  p.relu = bool_field(o, "relu", false, fn);
  return p;
}

// batchnormForward(x, gamma, beta, runningMean, runningVar, { train = true, relu, eps, momentum,
// residual?, pooled? }) -> { y, mean?, invstd?, pooled? }; training updates runningMean and
// runningVar in place. residual: the residual join fused in (y = relu(bn(x) + residual)); pooled:
// with it, y's global average pool (N,C).
Napi::Value BatchnormForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "batchnormForward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& gamma = JsTensor::FromValue(info[1], fn, "gamma");
    const Tensor& beta = JsTensor::FromValue(info[2], fn, "beta");
    Tensor running_mean = JsTensor::FromValue(info[3], fn, "runningMean");  // shares the caller's memory
    Tensor running_var = JsTensor::FromValue(info[4], fn, "runningVar");
    const Napi::Object o = options_at(info, 5);
    const BatchNormParams p = bn_params(o, fn);
    BatchNormJoin join;
    Tensor pooled;
    if (!o.Get("residual").IsUndefined()) join.residual = JsTensor::FromValue(o.Get("residual"), fn, "residual");
    if (bool_field(o, "pooled", false, fn)) join.mean = &pooled;
    Napi::Object out = Napi::Object::New(info.Env());
    if (!bool_field(o, "train", true, fn)) {
      set_if(out, "y", batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, p, join));
    } else {
      BatchNormSaved saved;
      set_if(out, "y", batchnorm_forward_train(x, gamma, beta, running_mean, running_var, p, saved, join));
      set_if(out, "mean", saved.mean);
      set_if(out, "invstd", saved.invstd);
    }
    set_if(out, "pooled", pooled);
    return out;
  });
}

// batchnormBackward(x, y, dy, gamma, mean, invstd, { relu, join }) -> { dx, dgamma, dbeta, dresidual? };
// join: the forward had a residual join, whose shortcut gradient comes back as dresidual.
Napi::Value BatchnormBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "batchnormBackward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& y = JsTensor::FromValue(info[1], fn, "y");
    const Tensor& dy = JsTensor::FromValue(info[2], fn, "dy");
    const Tensor& gamma = JsTensor::FromValue(info[3], fn, "gamma");
    BatchNormSaved saved{JsTensor::FromValue(info[4], fn, "mean"), JsTensor::FromValue(info[5], fn, "invstd")};
    const Napi::Object o = options_at(info, 6);
    const BatchNormParams p = bn_params(o, fn);
    Tensor dx = zeros_like(x), dgamma = zeros_like(gamma), dbeta = zeros_like(gamma);
    Tensor dresidual = bool_field(o, "join", false, fn) ? Tensor::empty(x.shape(), x.dtype(), x.device()) : Tensor();
    batchnorm_backward(x, y, dy, gamma, saved, p, dx, dgamma, dbeta, GradWrite::Accumulate,
                       dresidual.defined() ? &dresidual : nullptr);
    Napi::Object out = Napi::Object::New(info.Env());
    set_if(out, "dresidual", dresidual);
    set_if(out, "dx", dx);
    set_if(out, "dgamma", dgamma);
    set_if(out, "dbeta", dbeta);
    return out;
  });
}

PoolParams pool_params(const Napi::Object& o, const char* fn) {
  PoolParams p;
  p.kernel = int_field(o, "kernel", p.kernel, 1, fn);
  p.stride = int_field(o, "stride", p.stride, 1, fn);
  p.pad = int_field(o, "pad", p.pad, 0, fn);
  return p;
}

// maxpoolForward(x, { kernel = 3, stride = 2, pad = 1 }) -> y
Napi::Value MaxpoolForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "maxpoolForward";
    return JsTensor::Wrap(info.Env(),
                          maxpool_forward(JsTensor::FromValue(info[0], fn, "x"), pool_params(options_at(info, 1), fn)));
  });
}

// maxpoolBackward(x, dy, params) -> dx
Napi::Value MaxpoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "maxpoolBackward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    Tensor dx = Tensor::empty(x.shape(), x.dtype(), x.device());
    maxpool_backward(x, JsTensor::FromValue(info[1], fn, "dy"), pool_params(options_at(info, 2), fn), dx);
    return JsTensor::Wrap(info.Env(), dx);
  });
}

// globalAvgPoolForward(x) -> y (N,C) f32
Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return JsTensor::Wrap(info.Env(), global_avg_pool_forward(JsTensor::FromValue(info[0], "globalAvgPoolForward", "x")));
  });
}

// globalAvgPoolBackward(x, dy) -> dx (x's shape, dtype and device)
Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "globalAvgPoolBackward";
    Tensor dx = zeros_like(JsTensor::FromValue(info[0], fn, "x"));
    global_avg_pool_backward(JsTensor::FromValue(info[1], fn, "dy"), dx);
    return JsTensor::Wrap(info.Env(), dx);
  });
}

// addReluForward(a, b) -> max(0, a + b); addReluForward(a, b, { mean: true }) -> { y, mean }, mean
// (N,C) f32 the global average pool of y, taken in the same pass (NHWC a and b).
Napi::Value AddReluForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "addReluForward";
    const Tensor& a = JsTensor::FromValue(info[0], fn, "a");
    const Tensor& b = JsTensor::FromValue(info[1], fn, "b");
    if (!bool_field(options_at(info, 2), "mean", false, fn)) return JsTensor::Wrap(info.Env(), add_relu_forward(a, b));
    Tensor mean;
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("y", JsTensor::Wrap(info.Env(), add_relu_forward(a, b, &mean)));
    out.Set("mean", JsTensor::Wrap(info.Env(), mean));
    return out;
  });
}

// addReluBackward(y, dy) -> { da, db } (equal: the join passes one gradient to both)
Napi::Value AddReluBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "addReluBackward";
    const Tensor& y = JsTensor::FromValue(info[0], fn, "y");
    Tensor da = zeros_like(y), db = zeros_like(y);
    add_relu_backward(y, JsTensor::FromValue(info[1], fn, "dy"), da, db, GradWrite::Overwrite, GradWrite::Accumulate);
    Napi::Object out = Napi::Object::New(info.Env());
    set_if(out, "da", da);
    set_if(out, "db", db);
    return out;
  });
}

// linearForward(x (N,C), w (O,C), b (O)?) -> y (N,O)
Napi::Value LinearForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "linearForward";
    const Tensor b = info.Length() > 2 && !info[2].IsUndefined() ? JsTensor::FromValue(info[2], fn, "b") : Tensor();
    return JsTensor::Wrap(info.Env(),
                          linear_forward(JsTensor::FromValue(info[0], fn, "x"), JsTensor::FromValue(info[1], fn, "w"), b));
  });
}

// linearBackward(x, w, dy, { bias = true }) -> { dx, dw, db? }
Napi::Value LinearBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "linearBackward";
    const Tensor& x = JsTensor::FromValue(info[0], fn, "x");
    const Tensor& w = JsTensor::FromValue(info[1], fn, "w");
    Tensor dx = zeros_like(x), dw = zeros_like(w);
    Tensor db = bool_field(options_at(info, 3), "bias", true, fn)
                    ? Tensor::zeros({w.size(0)}, DType::F32, w.device())
                    : Tensor();
    linear_backward(x, w, JsTensor::FromValue(info[2], fn, "dy"), dx, dw, db);
    Napi::Object out = Napi::Object::New(info.Env());
    set_if(out, "dx", dx);
    set_if(out, "dw", dw);
    set_if(out, "db", db);
    return out;
  });
}

// dropoutForward(x, p, seed) -> { y, mask }
Napi::Value DropoutForward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "dropoutForward";
    if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber())
      throw ArgumentError{concat(fn, ": p and seed must be numbers")};
    const double seed = info[2].As<Napi::Number>().DoubleValue();
    PIX_CHECK(seed >= 0 && seed == std::floor(seed) && seed <= 9007199254740991.0, fn,
              ": seed must be a non-negative integer, got ", seed);
    Tensor mask;
    const Tensor y = dropout_forward(JsTensor::FromValue(info[0], fn, "x"),
                                     static_cast<float>(info[1].As<Napi::Number>().DoubleValue()),
                                     static_cast<uint64_t>(seed), mask);
    Napi::Object out = Napi::Object::New(info.Env());
    set_if(out, "y", y);
    set_if(out, "mask", mask);
    return out;
  });
}

// dropoutBackward(dy, mask) -> dx
Napi::Value DropoutBackward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const char* fn = "dropoutBackward";
    const Tensor& dy = JsTensor::FromValue(info[0], fn, "dy");
    Tensor dx = zeros_like(dy);
    dropout_backward(dy, JsTensor::FromValue(info[1], fn, "mask"), dx);
    return JsTensor::Wrap(info.Env(), dx);
  });
}

Napi::Value NchwToNhwc(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return JsTensor::Wrap(info.Env(), nchw_to_nhwc(JsTensor::FromValue(info[0], "nchwToNhwc", "x")));
  });
}

Napi::Value NhwcToNchw(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    return JsTensor::Wrap(info.Env(), nhwc_to_nchw(JsTensor::FromValue(info[0], "nhwcToNchw", "x")));
  });
}

}  // namespace

void InitLayerOps(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dForward", Napi::Function::New<Conv2dForward>(env, "conv2dForward"));
  exports.Set("conv2dBackward", Napi::Function::New<Conv2dBackward>(env, "conv2dBackward"));
  exports.Set("batchnormForward", Napi::Function::New<BatchnormForward>(env, "batchnormForward"));
  exports.Set("batchnormBackward", Napi::Function::New<BatchnormBackward>(env, "batchnormBackward"));
  exports.Set("maxpoolForward", Napi::Function::New<MaxpoolForward>(env, "maxpoolForward"));
  exports.Set("maxpoolBackward", Napi::Function::New<MaxpoolBackward>(env, "maxpoolBackward"));
  exports.Set("globalAvgPoolForward", Napi::Function::New<GlobalAvgPoolForward>(env, "globalAvgPoolForward"));
  exports.Set("globalAvgPoolBackward", Napi::Function::New<GlobalAvgPoolBackward>(env, "globalAvgPoolBackward"));
  exports.Set("addReluForward", Napi::Function::New<AddReluForward>(env, "addReluForward"));
  exports.Set("addReluBackward", Napi::Function::New<AddReluBackward>(env, "addReluBackward"));
  exports.Set("linearForward", Napi::Function::New<LinearForward>(env, "linearForward"));
  exports.Set("linearBackward", Napi::Function::New<LinearBackward>(env, "linearBackward"));
  exports.Set("dropoutForward", Napi::Function::New<DropoutForward>(env, "dropoutForward"));
  exports.Set("dropoutBackward", Napi::Function::New<DropoutBackward>(env, "dropoutBackward"));
  exports.Set("nchwToNhwc", Napi::Function::New<NchwToNhwc>(env, "nchwToNhwc"));
  exports.Set("nhwcToNchw", Napi::Function::New<NhwcToNchw>(env, "nhwcToNchw"));
}

}  // namespace pix::binding
