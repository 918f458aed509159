// The JavaScript Optimizer and ModelEma classes (nn/optimizer.h, nn/ema.h). Each wraps one
// engine object bound to one model; steps and updates run synchronously on the JS thread (one pass over the parameters)
// and refuse a model whose forward or backward is still running.
//
// dispose() frees what the object owns (an optimizer's slots, an EMA's averages) at once; later
// calls throw. An optimizer also holds a share of its model (binding/js_model.cc), since its steps
// write the model's parameters in place: disposing the optimizer gives that share back and leaves
// the model as it was; disposing the model first leaves the optimizer working on the parameters it
// shares until it is disposed too.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>

#include "binding/errors.h"
#include "binding/js_model.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "nn/ema.h"
#include "nn/optimizer.h"

namespace pix::binding {
namespace {

void ensure_idle(const ModelHandle& handle, const char* fn) {
  PIX_CHECK(!handle.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
}

Napi::Object options_arg(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() > index && info[index].IsObject()) return info[index].As<Napi::Object>();
  return Napi::Object::New(info.Env());
}

Napi::Object to_record(Napi::Env env, const nn::NamedTensors& tensors) {
  Napi::Object out = Napi::Object::New(env);
  for (const auto& [name, tensor] : tensors) out.Set(name, JsTensor::Wrap(env, tensor));
  return out;
}

nn::NamedTensors from_record(const Napi::CallbackInfo& info, const char* fn) {
  const Napi::Object record = object_arg(info, 0, fn, "state");
  const Napi::Array names = record.GetPropertyNames();
  nn::NamedTensors out;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
    out.emplace_back(name, JsTensor::FromValue(record.Get(name), fn, name.c_str()));
  }
  return out;
}

class JsOptimizer : public Napi::ObjectWrap<JsOptimizer> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("Optimizer", DefineClass(env, "Optimizer",
                                         {InstanceMethod<&JsOptimizer::Step>("step"),
                                          InstanceMethod<&JsOptimizer::StateDict>("stateDict"),
                                          InstanceMethod<&JsOptimizer::LoadStateDict>("loadStateDict"),
                                          InstanceMethod<&JsOptimizer::Dispose>("dispose"),
                                          InstanceAccessor<&JsOptimizer::StepCount>("stepCount"),
                                          InstanceAccessor<&JsOptimizer::Type>("type")}));
  }

  // new Optimizer(model, { type, momentum = 0.9, nesterov = (type == 'sgd'), betas = [0.9, 0.999], eps = 1e-8 })
  // Options that do not apply to the type are ignored, as timm's create_optimizer does.
  explicit JsOptimizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsOptimizer>(info) {
    guarded(info.Env(), [&] {
      const char* fn = "new Optimizer";
      handle_ = model_from_value(info[0], fn);
      const Napi::Object o = object_arg(info, 1, fn, "options");
      type_ = string_field(o, "type", "", fn);
      nn::StateDict& state = handle_.model->state();
      if (type_ == "sgd" || type_ == "momentum") {
        nn::SgdParams p;
        p.momentum = number_field(o, "momentum", 0.9, fn);
        p.nesterov = bool_field(o, "nesterov", type_ == "sgd", fn);
        PIX_CHECK(p.momentum >= 0 && p.momentum < 1, fn, ": momentum must be in [0, 1), got ", p.momentum);
        PIX_CHECK(!p.nesterov || p.momentum > 0, fn, ": Nesterov momentum needs momentum > 0");
        optimizer_ = std::make_unique<nn::Sgd>(state, p);
      } else if (type_ == "adamw" || type_ == "lamb") {
        nn::AdamParams p;
        const Napi::Value betas = o.Get("betas");
        if (!betas.IsUndefined()) {
          const bool pair = betas.IsArray() && betas.As<Napi::Array>().Length() == 2 &&
                            betas.As<Napi::Array>().Get(0u).IsNumber() && betas.As<Napi::Array>().Get(1u).IsNumber();
          if (!pair) throw ArgumentError{concat(fn, ": 'betas' must be an array of two numbers")};
          p.beta1 = betas.As<Napi::Array>().Get(0u).As<Napi::Number>().DoubleValue();
          p.beta2 = betas.As<Napi::Array>().Get(1u).As<Napi::Number>().DoubleValue();
          PIX_CHECK(p.beta1 >= 0 && p.beta1 < 1 && p.beta2 >= 0 && p.beta2 < 1, fn, ": betas must be in [0, 1), got [",
                    p.beta1, ", ", p.beta2, "]");
        }
        p.eps = number_field(o, "eps", 1e-8, fn);
        PIX_CHECK(std::isfinite(p.eps) && p.eps >= 0, fn, ": eps must be a non-negative number, got ", p.eps);
        if (type_ == "adamw") optimizer_ = std::make_unique<nn::AdamW>(state, p);
        else optimizer_ = std::make_unique<nn::Lamb>(state, p);
      } else {
        PIX_CHECK(false, fn, ": unknown optimizer type '", type_, "' (valid: sgd, momentum, adamw, lamb)");
      }
    });
  }

 private:
  // The optimizer, for every method and accessor but dispose(); throws once it was disposed.
  nn::Optimizer& optimizer(const char* fn) const {
    PIX_CHECK(optimizer_ != nullptr, fn, ": the optimizer was disposed");
    return *optimizer_;
  }

  // step({ lr, weightDecay = 0, clipGrad? }) -> { gradNorm }: the global gradient norm before clipping.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "Optimizer.step";
      nn::Optimizer& live = optimizer(fn);
      ensure_idle(handle_, fn);
      const Napi::Object o = object_arg(info, 0, fn, "options");
      nn::StepParams p;
      p.lr = number_field(o, "lr", NAN, fn);
      p.weight_decay = number_field(o, "weightDecay", 0, fn);
      const Napi::Value clip = o.Get("clipGrad");
      if (!clip.IsNull()) p.clip_grad = number_field(o, "clipGrad", 0, fn);
      PIX_CHECK(!clip.IsNumber() || p.clip_grad > 0, fn, ": clipGrad must be a positive number (or null for none)");
      Napi::Object out = Napi::Object::New(info.Env());
      out.Set("gradNorm", live.step(p));
      return out;
    });
  }

  // { '<slot>.<param key>': Tensor, step: Tensor(i64) } in PyTorch layouts.
  Napi::Value StateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return to_record(info.Env(), optimizer("Optimizer.stateDict").export_state());
    });
  }

  Napi::Value LoadStateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "Optimizer.loadStateDict";
      optimizer(fn).import_state(from_record(info, fn));
      return info.Env().Undefined();
    });
  }

  Napi::Value StepCount(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(optimizer("Optimizer.stepCount").step_count()));
    });
  }
  Napi::Value Type(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      optimizer("Optimizer.type");
      return Napi::String::New(info.Env(), type_);
    });
  }

  // dispose(): the slots first (they point into the model's state), then the share of the model.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    optimizer_.reset();
    handle_ = ModelHandle();
    return info.Env().Undefined();
  }

  ModelHandle handle_;
  std::string type_;
  std::unique_ptr<nn::Optimizer> optimizer_;
};

class JsModelEma : public Napi::ObjectWrap<JsModelEma> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("ModelEma", DefineClass(env, "ModelEma",
                                        {InstanceMethod<&JsModelEma::Update>("update"),
                                         InstanceMethod<&JsModelEma::CopyTo>("copyTo"),
                                         InstanceMethod<&JsModelEma::StateDict>("stateDict"),
                                         InstanceMethod<&JsModelEma::LoadStateDict>("loadStateDict"),
                                         InstanceMethod<&JsModelEma::Dispose>("dispose"),
                                         InstanceAccessor<&JsModelEma::Decay>("decay")}));
  }

  // new ModelEma(model, { decay = 0.9999 }): starts as a copy of the model's state.
  explicit JsModelEma(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsModelEma>(info) {
    guarded(info.Env(), [&] {
      const char* fn = "new ModelEma";
      const ModelHandle handle = model_from_value(info[0], fn);
      ensure_idle(handle, fn);
      const double decay = number_field(options_arg(info, 1), "decay", 0.9999, fn);
      ema_ = std::make_unique<nn::ModelEma>(handle.model->state(), decay);
    });
  }

 private:
  // The average, for every method and accessor but dispose(); throws once it was disposed.
  nn::ModelEma& ema(const char* fn) const {
    PIX_CHECK(ema_ != nullptr, fn, ": the EMA was disposed");
    return *ema_;
  }

  // update(model): e = decay*e + (1-decay)*w after an optimizer step.
  Napi::Value Update(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      nn::ModelEma& e = ema("ModelEma.update");
      const ModelHandle handle = model_from_value(info[0], "ModelEma.update");
      ensure_idle(handle, "ModelEma.update");
      e.update(handle.model->state());
      return info.Env().Undefined();
    });
  }

  // copyTo(model): the average becomes the model's state (e.g. an evaluation copy of the network).
  Napi::Value CopyTo(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const nn::ModelEma& e = ema("ModelEma.copyTo");
      const ModelHandle handle = model_from_value(info[0], "ModelEma.copyTo");
      ensure_idle(handle, "ModelEma.copyTo");
      e.copy_to(handle.model->state());
      return info.Env().Undefined();
    });
  }

  Napi::Value StateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return to_record(info.Env(), ema("ModelEma.stateDict").export_state());
    });
  }

  Napi::Value LoadStateDict(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "ModelEma.loadStateDict";
      ema(fn).import_state(from_record(info, fn));
      return info.Env().Undefined();
    });
  }

  Napi::Value Decay(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), ema("ModelEma.decay").decay()); });
  }

  // dispose(): the averages go back to the allocator now; the model is not the EMA's to free.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    ema_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<nn::ModelEma> ema_;
};

}  // namespace

void InitOptimizer(Napi::Env env, Napi::Object exports) {
  JsOptimizer::Init(env, exports);
  JsModelEma::Init(env, exports);
}

}  // namespace pix::binding
