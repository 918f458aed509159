// The addon's entry point: registers the exports of each binding file, nothing else.
#include <napi.h>

#include "binding/js_tensor.h"

namespace pix::binding {
void InitOps(Napi::Env env, Napi::Object exports);
void InitLayerOps(Napi::Env env, Napi::Object exports);
void InitTrainOps(Napi::Env env, Napi::Object exports);
void InitInfo(Napi::Env env, Napi::Object exports);
void InitGemm(Napi::Env env, Napi::Object exports);
void InitModel(Napi::Env env, Napi::Object exports);
void InitOptimizer(Napi::Env env, Napi::Object exports);
void InitImage(Napi::Env env, Napi::Object exports);
void InitJpeg(Napi::Env env, Napi::Object exports);
void InitNccl(Napi::Env env, Napi::Object exports);
void InitCudaGemm(Napi::Env env, Napi::Object exports);
void InitCudaConv(Napi::Env env, Napi::Object exports);
void InitCudaGraphs(Napi::Env env, Napi::Object exports);
}  // namespace pix::binding

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  pix::binding::JsTensor::Init(env, exports);
  pix::binding::InitOps(env, exports);
  pix::binding::InitLayerOps(env, exports);
  pix::binding::InitTrainOps(env, exports);
  pix::binding::InitInfo(env, exports);
  pix::binding::InitGemm(env, exports);
  pix::binding::InitModel(env, exports);
  pix::binding::InitOptimizer(env, exports);
  pix::binding::InitImage(env, exports);
  pix::binding::InitJpeg(env, exports);
  pix::binding::InitNccl(env, exports);
  pix::binding::InitCudaGemm(env, exports);
  pix::binding::InitCudaConv(env, exports);
  pix::binding::InitCudaGraphs(env, exports);
  return exports;
}

NODE_API_MODULE(pix_engine, Init)
