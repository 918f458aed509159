// setCudaGraphs({ enabled }): whether models replay their CUDA evaluation forwards as CUDA graphs
// (nn/model.h; process-wide, on unless PIX_CUDA_GRAPHS=0); returns the setting before the call.
// cudaGraphStats(): { captures, replays, failures, lastFailure } so far in this process.
// Registered in addon.cc.
#include <napi.h>

#include "binding/errors.h"
#include "build_config.h"
#include "core/cuda/graph.h"
#include "core/cuda_dispatch.h"

namespace pix::binding {
namespace {

Napi::Value SetCudaGraphs(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const Napi::Object options = object_arg(info, 0, "setCudaGraphs", "options");
    Napi::Object before = Napi::Object::New(info.Env());
    PIX_CUDA_CALL(before.Set("enabled", cuda::graphs_enabled()));
    if (!options.Get("enabled").IsUndefined())
      PIX_CUDA_CALL(cuda::set_graphs_enabled(bool_field(options, "enabled", true, "setCudaGraphs")));
    return before;
  });
}

Napi::Value CudaGraphStats(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    cuda::GraphStats stats;
    PIX_CUDA_CALL(stats = cuda::graph_stats());
    out.Set("captures", static_cast<double>(stats.captures));
    out.Set("replays", static_cast<double>(stats.replays));
    out.Set("failures", static_cast<double>(stats.failures));
    out.Set("lastFailure", stats.last_failure.empty() ? env.Null() : Napi::Value(Napi::String::New(env, stats.last_failure)));
    return out;
  });
}

}  // namespace

void InitCudaGraphs(Napi::Env env, Napi::Object exports) {
  exports.Set("setCudaGraphs", Napi::Function::New<SetCudaGraphs>(env, "setCudaGraphs"));
  exports.Set("cudaGraphStats", Napi::Function::New<CudaGraphStats>(env, "cudaGraphStats"));
}

}  // namespace pix::binding
