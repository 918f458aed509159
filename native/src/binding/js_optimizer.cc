// The JavaScript SgdOptimizer class: momentum buffers for one model's parameters and an in-place
// step(lr, weightDecay). The step is a single pass over the parameters, run synchronously.
#include <napi.h>

#include "binding/errors.h"
#include "binding/js_model.h"
#include "core/error.h"
#include "nn/optimizer.h"

namespace pix::binding {
namespace {

class JsSgd : public Napi::ObjectWrap<JsSgd> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    exports.Set("SgdOptimizer", DefineClass(env, "SgdOptimizer", {InstanceMethod<&JsSgd::Step>("step")}));
  }

  // new SgdOptimizer(model, { momentum = 0.9, nesterov = false })
  explicit JsSgd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<JsSgd>(info) {
    guarded(info.Env(), [&] {
      const char* fn = "new SgdOptimizer";
      handle_ = model_from_value(info[0], fn);
      Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(info.Env());
      nn::SgdParams params;
      params.momentum = static_cast<float>(number_field(o, "momentum", 0.9, fn));
      params.nesterov = bool_field(o, "nesterov", false, fn);
      PIX_CHECK(params.momentum >= 0.f && params.momentum < 1.f, fn, ": momentum must be in [0, 1)");
      sgd_ = std::make_unique<nn::Sgd>(params);
    });
  }

 private:
  // step({ lr, weightDecay = 0 })
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const char* fn = "SgdOptimizer.step";
      PIX_CHECK(!handle_.busy->load(), fn, ": the model is busy; await its forward() or backward() first");
      const Napi::Object o = object_arg(info, 0, fn, "options");
      const double lr = number_field(o, "lr", -1, fn);
      PIX_CHECK(lr >= 0, fn, ": lr must be a non-negative number");
      sgd_->step(handle_.model->state(), static_cast<float>(lr), static_cast<float>(number_field(o, "weightDecay", 0, fn)));
      return info.Env().Undefined();
    });
  }

  ModelHandle handle_;
  std::unique_ptr<nn::Sgd> sgd_;
};

}  // namespace

void InitOptimizer(Napi::Env env, Napi::Object exports) { JsSgd::Init(env, exports); }

}  // namespace pix::binding
