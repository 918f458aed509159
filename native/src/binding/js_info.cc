// engineInfo(): what this build and this machine offer (`pix info`); cudaMemoryStats(device):
// the caching allocator's counters; cudaSynchronize(device): a barrier for timing;
// setCpuPrecision('fp32' | 'bf16') and cpuPrecision(): the CPU networks' compute precision.
// The CUDA report says which implementation cuda::gemm runs on (backends.cuda.gemm: "cublas 13.0.2"
// or "own kernel (why)") and which the convolutions run on (conv: "cudnn 9.19.0 (...)" or "own
// im2col + gemm (why)"); cuBLAS, cuDNN and NCCL are opened at run time, so `cublas`, `cudnn` and
// `nccl` say whether they load here, and `ncclLibrary` gives NCCL's version or why it does not load.
#include <napi.h>

#include "binding/errors.h"
#include "build_config.h"
#include "core/cpu_features.h"
#include "core/cuda/runtime.h"
#include "core/cuda_dispatch.h"
#include "core/precision.h"
#include "core/thread_pool.h"
#include "distributed/nccl_library.h"
#include "ops/cuda/conv2d_cudnn.h"
#include "ops/cuda/gemm.h"

namespace pix::binding {
namespace {

std::string cuda_version_string(int version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

Napi::Object cpu_info(Napi::Env env) {
  const CpuFeatures& features = cpu_features();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("threads", cpu_threads());
  cpu.Set("simd", simd_level_name(features.simd));
  Napi::Array extras = Napi::Array::New(env, features.extras.size());
  for (size_t i = 0; i < features.extras.size(); ++i) extras.Set(static_cast<uint32_t>(i), features.extras[i]);
  cpu.Set("features", extras);
  return cpu;
}

Napi::Object cuda_info(Napi::Env env) {
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("compiled", PIX_HAVE_CUDA == 1);
  cuda.Set("emulated", PIX_CUDA_EMULATED == 1);
  cuda.Set("cudnn", false);
  cuda.Set("conv", env.Null());
  cuda.Set("cudnnPath", env.Null());
  cuda.Set("cublas", false);
  cuda.Set("gemm", env.Null());
  cuda.Set("gemmTf32", false);
  cuda.Set("cublasPath", env.Null());
  cuda.Set("nccl", false);
  cuda.Set("ncclLibrary", env.Null());
  Napi::Array archs = Napi::Array::New(env);
  Napi::Array devices = Napi::Array::New(env);
  cuda.Set("runtimeVersion", env.Null());
  cuda.Set("driverVersion", env.Null());
  cuda.Set("unavailableReason", "this build has no CUDA backend: " PIX_CUDA_ABSENCE);
#if PIX_HAVE_CUDA
  std::string list = PIX_CUDA_ARCHITECTURES;
  for (size_t start = 0; start <= list.size();) {
    size_t end = list.find(';', start);
    if (end == std::string::npos) end = list.size();
    if (end > start) archs.Set(archs.Length(), list.substr(start, end - start));
    start = end + 1;
  }
  const cuda::Inventory inv = cuda::inventory();
  const cuda::GemmPathInfo gemm = cuda::gemm_path_info();
  cuda.Set("cublas", gemm.cublas_loaded);
  cuda.Set("gemm", gemm.description);
  cuda.Set("gemmTf32", cuda::gemm_tf32());
  if (gemm.cublas_loaded) cuda.Set("cublasPath", gemm.library_path);
  const cuda::ConvPathInfo conv = cuda::conv_path_info();
  cuda.Set("cudnn", conv.cudnn_loaded);
  cuda.Set("conv", conv.description);
  if (conv.cudnn_loaded) cuda.Set("cudnnPath", conv.library_path);
  const nccl::LibraryStatus nccl_status = nccl::library_status();
  cuda.Set("nccl", nccl_status.available);
  cuda.Set("ncclLibrary", nccl_status.available ? concat("NCCL ", nccl_status.version, " (", nccl_status.path, ")")
                                                : nccl_status.reason);
  cuda.Set("runtimeVersion", cuda_version_string(inv.runtime_version));
  if (inv.driver_version > 0) cuda.Set("driverVersion", cuda_version_string(inv.driver_version));
  cuda.Set("unavailableReason", inv.devices.empty() ? Napi::Value(Napi::String::New(env, inv.unavailable_reason))
                                                    : Napi::Value(env.Null()));
  for (const auto& d : inv.devices) {
    Napi::Object dev = Napi::Object::New(env);
    dev.Set("index", d.index);
    dev.Set("name", d.name);
    dev.Set("capability", std::to_string(d.major) + "." + std::to_string(d.minor));
    dev.Set("totalMemoryBytes", static_cast<double>(d.total_memory));
    dev.Set("multiprocessors", d.multiprocessors);
    devices.Set(devices.Length(), dev);
  }
#endif
  cuda.Set("architectures", archs);
  cuda.Set("devices", devices);
  return cuda;
}

Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", PIX_VERSION);
    Napi::Object backends = Napi::Object::New(env);
    backends.Set("cpu", cpu_info(env));
    backends.Set("cuda", cuda_info(env));
    out.Set("backends", backends);
    return out;
  });
}

Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber()) throw ArgumentError{"cudaMemoryStats: device index must be a number"};
    const int device = info[0].As<Napi::Number>().Int32Value();
    cuda::MemoryStats stats;
    PIX_CUDA_CALL(stats = cuda::memory_stats(device));
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("allocatedBytes", static_cast<double>(stats.allocated_bytes));
    out.Set("reservedBytes", static_cast<double>(stats.reserved_bytes));
    out.Set("peakAllocatedBytes", static_cast<double>(stats.peak_allocated_bytes));
    out.Set("driverAllocations", static_cast<double>(stats.driver_allocations));
    return out;
  });
}

// cudaSynchronize(device): waits for the device's engine stream; benchmarks time around it.
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber()) throw ArgumentError{"cudaSynchronize: device index must be a number"};
    PIX_CUDA_CALL(cuda::synchronize(info[0].As<Napi::Number>().Int32Value()));
    return info.Env().Undefined();
  });
}

// setCpuPrecision(name): the precision of the CPU networks' matrix products from now on, process-wide.
Napi::Value SetCpuPrecision(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsString()) throw ArgumentError{"setCpuPrecision: precision must be a string"};
    set_cpu_compute_precision(parse_compute_precision(info[0].As<Napi::String>().Utf8Value(), "setCpuPrecision"));
    return info.Env().Undefined();
  });
}

Napi::Value CpuPrecision(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), compute_precision_name(cpu_compute_precision()));
}

}  // namespace

void InitInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("engineInfo", Napi::Function::New<EngineInfo>(env, "engineInfo"));
  exports.Set("cudaMemoryStats", Napi::Function::New<CudaMemoryStats>(env, "cudaMemoryStats"));
  exports.Set("cudaSynchronize", Napi::Function::New<CudaSynchronize>(env, "cudaSynchronize"));
  exports.Set("setCpuPrecision", Napi::Function::New<SetCpuPrecision>(env, "setCpuPrecision"));
  exports.Set("cpuPrecision", Napi::Function::New<CpuPrecision>(env, "cpuPrecision"));
}

}  // namespace pix::binding
