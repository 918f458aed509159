// The JavaScript Model class: one nn::Model per object. forward/backward run on a libuv worker
// thread (Napi::AsyncWorker) and settle a Promise; a model runs one of them at a time.
//
// Ownership: the nn::Model is shared (std::shared_ptr) by this object, by a forward or backward in
// flight and by every Optimizer made for it (whose steps write its parameters in place). dispose()
// drops this object's share: the weights, gradients and saved activations go back to the allocator
// as soon as no other holder is left — at once when none is, else when the last optimizer is
// disposed (which keeps stepping the parameters it holds meanwhile) or the job in flight ends.
// Tensors handed to JS (forward's logits, lastGates' values, getState's copies) hold their own
// storage and stay readable after dispose().
#include <napi.h>

#include <atomic>
#include <memory>

#include "binding/errors.h"
#include "binding/js_model.h"
#include "binding/js_tensor.h"
#include "core/error.h"
#include "nn/model.h"
#include "nn/model_config.h"
#include "ops/layout.h"

namespace pix::binding {
namespace {

// Per thread: the main thread and each worker load the addon into their own environment.
thread_local Napi::FunctionReference* model_constructor = nullptr;

class JsModel : public Napi::ObjectWrap<JsModel> {
 public:
  std::shared_ptr<nn::Model> shared_model() const { return model_; }
  std::shared_ptr<std::atomic<bool>> busy_flag() const { return busy_; }

  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(
        env, "Model",
        {InstanceAccessor<&JsModel::Name>("name"), InstanceAccessor<&JsModel::NumClasses>("numClasses"),
         InstanceAccessor<&JsModel::Family>("family"), InstanceAccessor<&JsModel::ParameterCount>("parameterCount"),
         InstanceAccessor<&JsModel::DeviceName>("device"),
         InstanceAccessor<&JsModel::Activations>("activations"), InstanceMethod<&JsModel::Macs>("macs"), InstanceMethod<&JsModel::StateEntries>("stateEntries"),
         InstanceMethod<&JsModel::GetState>("getState"), InstanceMethod<&JsModel::SetState>("setState"),
         InstanceMethod<&JsModel::GetGrad>("getGrad"), InstanceMethod<&JsModel::SetGrad>("setGrad"),
         InstanceMethod<&JsModel::ZeroGrad>("zeroGrad"), InstanceMethod<&JsModel::LastGates>("lastGates"),
         InstanceMethod<&JsModel::SetProfiling>("setProfiling"), InstanceMethod<&JsModel::Profile>("profile"),
         InstanceMethod<&JsModel::Forward>("forward"), InstanceMethod<&JsModel::Backward>("backward"),
         InstanceMethod<&JsModel::Dispose>("dispose")});
    model_constructor = new Napi::FunctionReference(Napi::Persistent(cls));
    exports.Set("Model", cls);
    exports.Set("modelRegistry", Napi::Function::New<Registry>(env, "modelRegistry"));
  }

  // new Model(name, { numClasses?, drop?, seed?, device = 'cpu', activations = 'f32' }): built on the
  // CPU, then moved to `device`; activations 'bf16' (CUDA only) computes activations in bf16 over f32
  // master weights (nn::Model::to).
  explicit JsModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsModel>(info) {
    guarded(info.Env(), [&] {
      const char* fn = "new Model";
      if (info.Length() < 1 || !info[0].IsString()) throw ArgumentError{"new Model: name must be a string"};
      Napi::Object options = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
      const double classes = number_field(options, "numClasses", 0, fn);
      PIX_CHECK(classes >= 0 && classes == static_cast<double>(static_cast<int64_t>(classes)) && classes <= 1e6, fn,
                ": numClasses must be a positive integer, got ", classes);
      const double drop = number_field(options, "drop", 0, fn);
      const double seed = number_field(options, "seed", 0, fn);
      const nn::ModelConfig config =
          nn::model_config(info[0].As<Napi::String>().Utf8Value(), static_cast<int64_t>(classes), static_cast<float>(drop));
      const Device device = Device::parse(string_field(options, "device", "cpu", fn));
      const std::string activations = string_field(options, "activations", "f32", fn);
      PIX_CHECK(activations == "f32" || activations == "bf16", fn, ": activations must be 'f32' or 'bf16', got '",
                activations, "'");
      model_ = std::make_shared<nn::Model>(config, static_cast<uint64_t>(seed));
      if (device.is_cuda() || activations != "f32") model_->to(device, parse_dtype(activations));
    });
  }

 private:
  // The model, for every method and accessor but dispose(); throws once the model was disposed.
  nn::Model& model(const char* fn) const {
    PIX_CHECK(model_ != nullptr, "Model.", fn, ": the model was disposed");
    return *model_;
  }

  void ensure_idle(const char* fn) const {
    model(fn);
    PIX_CHECK(!busy_->load(), fn, ": the model is busy; await the previous forward() or backward() first");
  }

  nn::StateEntry& entry(const Napi::CallbackInfo& info, const char* fn) {
    if (info.Length() < 1 || !info[0].IsString()) throw ArgumentError{concat(fn, ": key must be a string")};
    const std::string key = info[0].As<Napi::String>().Utf8Value();
    nn::StateEntry* e = model(fn).state().find(key);
    PIX_CHECK(e != nullptr, fn, ": '", key, "' is not a key of ", model(fn).config().name);
    return *e;
  }

  static Napi::Value Registry(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    for (const auto& r : nn::model_registry()) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", r.name);
      Napi::Array aliases = Napi::Array::New(env, r.aliases.size());
      for (size_t i = 0; i < r.aliases.size(); ++i) aliases.Set(static_cast<uint32_t>(i), r.aliases[i]);
      o.Set("aliases", aliases);
      o.Set("description", r.description);
      out.Set(out.Length(), o);
    }
    return out;
  }

  Napi::Value Name(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), model("name").config().name); });
  }
  Napi::Value NumClasses(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(model("numClasses").config().num_classes));
    });
  }
  Napi::Value Family(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::String::New(info.Env(), model("family").config().family == nn::Family::PiX ? "pix" : "resnet");
    });
  }
  Napi::Value DeviceName(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), model("device").device().str()); });
  }
  Napi::Value Activations(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::String::New(info.Env(), dtype_name(model("activations").activation_dtype()));
    });
  }
  Napi::Value ParameterCount(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      return Napi::Number::New(info.Env(), static_cast<double>(model("parameterCount").state().parameter_count()));
    });
  }

  // dispose(): drops this object's share of the model (see the top of the file); idempotent, and
  // allowed while a forward or backward runs (that job keeps the model until it settles).
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    model_.reset();
    return info.Env().Undefined();
  }

  Napi::Value Macs(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const double size = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 224;
      PIX_CHECK(size >= 1 && size <= 8192, "macs: input size must be in 1..8192");
      return Napi::Number::New(info.Env(), static_cast<double>(model("macs").macs(static_cast<int64_t>(size))));
    });
  }

  // [{ key, shape, dtype, kind, parameter }] in the official state-dict order, PyTorch shapes.
  Napi::Value StateEntries(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      for (const auto& e : model("stateEntries").state().entries()) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("key", e->key);
        Napi::Array shape = Napi::Array::New(env, e->torch_shape.size());
        for (size_t i = 0; i < e->torch_shape.size(); ++i) shape.Set(static_cast<uint32_t>(i), static_cast<double>(e->torch_shape[i]));
        o.Set("shape", shape);
        o.Set("dtype", dtype_name(e->value().dtype()));
        o.Set("kind", nn::entry_kind_name(e->kind));
        o.Set("parameter", e->is_parameter());
        out.Set(out.Length(), o);
      }
      return out;
    });
  }

  Napi::Value GetState(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("getState");
      return JsTensor::Wrap(info.Env(), entry(info, "getState").to_torch());
    });
  }

  Napi::Value SetState(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("setState");
      nn::StateEntry& e = entry(info, "setState");
      e.from_torch(JsTensor::FromValue(info[1], "setState", "value"));
      return info.Env().Undefined();
    });
  }

  Napi::Value GetGrad(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("getGrad");
      return JsTensor::Wrap(info.Env(), entry(info, "getGrad").grad_to_torch());
    });
  }

  // Sets a parameter's accumulated gradient (PyTorch layout), e.g. to drive an optimizer in tests.
  Napi::Value SetGrad(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("setGrad");
      nn::StateEntry& e = entry(info, "setGrad");
      PIX_CHECK(e.is_parameter(), "setGrad: '", e.key, "' is a buffer and has no gradient");
      e.grad.copy_from(e.from_torch_layout(JsTensor::FromValue(info[1], "setGrad", "grad")));
      return info.Env().Undefined();
    });
  }

  Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("zeroGrad");
      model("zeroGrad").state().zero_grad();
      return info.Env().Undefined();
    });
  }

  // setProfiling(on): times each part of the network (stem, blocks, head) from now on, or stops; both
  // clear what was measured.
  Napi::Value SetProfiling(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("setProfiling");
      if (info.Length() < 1 || !info[0].IsBoolean()) throw ArgumentError{"setProfiling: on must be a boolean"};
      model("setProfiling").set_profiling(info[0].As<Napi::Boolean>().Value());
      return info.Env().Undefined();
    });
  }

  // profile() -> [{ name, forwardSeconds, backwardSeconds, forwards, backwards }] in network order;
  // [] while profiling is off.
  Napi::Value Profile(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("profile");
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      for (const nn::PartTime& part : model("profile").profile()) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", part.name);
        o.Set("forwardSeconds", part.forward_seconds);
        o.Set("backwardSeconds", part.backward_seconds);
        o.Set("forwards", static_cast<double>(part.forwards));
        o.Set("backwards", static_cast<double>(part.backwards));
        out.Set(out.Length(), o);
      }
      return out;
    });
  }

  // [{ block, tau, values }]: each PiX block's gate values p (N,K) from the last forward; [] for ResNet.
  Napi::Value LastGates(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("lastGates");
      Napi::Env env = info.Env();
      Napi::Array out = Napi::Array::New(env);
      for (const auto& g : model("lastGates").last_gates()) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("block", g.block);
        o.Set("tau", static_cast<double>(g.tau));
        o.Set("values", JsTensor::Wrap(env, g.values));
        out.Set(out.Length(), o);
      }
      return out;
    });
  }

  // A forward or backward on the worker thread. It holds the model alive and marks it busy.
  class Work : public Napi::AsyncWorker {
   public:
    Work(Napi::Env env, std::shared_ptr<nn::Model> model, std::shared_ptr<std::atomic<bool>> busy,
         std::function<Tensor(nn::Model&)> job)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), model_(std::move(model)),
          busy_(std::move(busy)), job_(std::move(job)) {}
    Napi::Promise promise() const { return deferred_.Promise(); }
    void Execute() override {
      try {
        result_ = job_(*model_);
      } catch (const std::exception& e) {
        SetError(e.what());
      }
    }
    void OnOK() override {
      busy_->store(false);
      deferred_.Resolve(result_.defined() ? Napi::Value(JsTensor::Wrap(Env(), result_)) : Env().Undefined());
    }
    void OnError(const Napi::Error& error) override {
      busy_->store(false);
      deferred_.Reject(error.Value());
    }

   private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<nn::Model> model_;
    std::shared_ptr<std::atomic<bool>> busy_;
    std::function<Tensor(nn::Model&)> job_;
    Tensor result_;
  };

  Napi::Value Queue(Napi::Env env, const char* fn, std::function<Tensor(nn::Model&)> job) {
    ensure_idle(fn);
    busy_->store(true);
    auto* work = new Work(env, model_, busy_, std::move(job));
    Napi::Promise promise = work->promise();
    work->Queue();
    return promise;
  }

  // forward(x, { train = false, dropout = false, seed = 0, layout = 'nchw', foldBatchNorm = true }) -> Promise<Tensor>
  // x may be on any device: it is copied to the model's first; the logits stay on the model's.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "forward";
      ensure_idle(fn);
      Tensor x = JsTensor::FromValue(info[0], fn, "x");
      Napi::Object options = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
      nn::ForwardOptions o;
      o.train = bool_field(options, "train", false, fn);
      o.dropout = bool_field(options, "dropout", false, fn);
      o.seed = static_cast<uint64_t>(number_field(options, "seed", 0, fn));
      o.fold_batchnorm = bool_field(options, "foldBatchNorm", true, fn);
      const std::string layout = string_field(options, "layout", "nchw", fn);
      PIX_CHECK(layout == "nchw" || layout == "nhwc", fn, ": layout must be 'nchw' or 'nhwc'");
      PIX_CHECK(x.dim() == 4, fn, ": x must be 4-D images, got ", shape_str(x.shape()));
      PIX_CHECK(x.dtype() == DType::F32, fn, ": x must be f32, got ", dtype_name(x.dtype()));
      const int64_t channels = layout == "nchw" ? x.size(1) : x.size(3);
      PIX_CHECK(channels == 3, fn, ": x must have 3 colour channels, got ", channels, " (shape ", shape_str(x.shape()),
                ", layout ", layout, ")");
      const bool nchw = layout == "nchw";
      return Queue(info.Env(), fn, [x, o, nchw](nn::Model& m) {
        const Tensor placed = x.device() == m.device() ? x : x.to(m.device());
        return m.forward(nchw ? nchw_to_nhwc(placed) : placed, o);
      });
    });
  }

  // backward(dlogits) -> Promise<void>: accumulates into the gradients. dlogits may be on any
  // device (the losses run on the host): it is copied to the model's.
  Napi::Value Backward(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      ensure_idle("backward");
      Tensor dlogits = JsTensor::FromValue(info[0], "backward", "dlogits");
      return Queue(info.Env(), "backward", [dlogits](nn::Model& m) {
        m.backward(dlogits.device() == m.device() ? dlogits : dlogits.to(m.device()));
        return Tensor();
      });
    });
  }

  std::shared_ptr<nn::Model> model_;
  std::shared_ptr<std::atomic<bool>> busy_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace

void InitModel(Napi::Env env, Napi::Object exports) { JsModel::Init(env, exports); }

ModelHandle model_from_value(const Napi::Value& value, const char* fn) {
  if (!value.IsObject() || !value.As<Napi::Object>().InstanceOf(model_constructor->Value()))
    throw ArgumentError{concat(fn, ": argument 'model' must be a Model")};
  JsModel* m = Napi::ObjectWrap<JsModel>::Unwrap(value.As<Napi::Object>());
  PIX_CHECK(m->shared_model() != nullptr, fn, ": the model was disposed");
  return {m->shared_model(), m->busy_flag()};
}

}  // namespace pix::binding
