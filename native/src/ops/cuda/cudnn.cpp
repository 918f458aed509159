#include "ops/cuda/cudnn.h"

#include <cstdlib>

#include "build_config.h"
#include "core/cuda/check.h"
#include "core/cuda/device_handles.h"
#include "core/cuda/vendor_library.h"
#include "core/dynamic_library.h"
#include "core/error.h"

namespace pix::cuda::cudnn {
namespace {

constexpr const char* kLibraryName = "libcudnn.so.9";
// The CUDA emulator's stand-in exports this; the emulated build opens nothing without it.
constexpr const char* kEmulatorMarker = "pixCudaEmulatorCudnn";

std::string resolve(const DynamicLibrary& library, Api& a) {
  using S = DynamicLibrary::Symbol;
  return library.resolve(
      {
          S{"cudnnGetVersion", DynamicLibrary::slot(&a.GetVersion)},
          S{"cudnnGetErrorString", DynamicLibrary::slot(&a.GetErrorString)},
          S{"cudnnGetLastErrorString", DynamicLibrary::slot(&a.GetLastErrorString), false},
          S{"cudnnCreate", DynamicLibrary::slot(&a.Create)},
          S{"cudnnDestroy", DynamicLibrary::slot(&a.Destroy)},
          S{"cudnnSetStream", DynamicLibrary::slot(&a.SetStream)},
          S{"cudnnCreateTensorDescriptor", DynamicLibrary::slot(&a.CreateTensorDescriptor)},
          S{"cudnnSetTensor4dDescriptor", DynamicLibrary::slot(&a.SetTensor4dDescriptor)},
          S{"cudnnDestroyTensorDescriptor", DynamicLibrary::slot(&a.DestroyTensorDescriptor)},
          S{"cudnnCreateFilterDescriptor", DynamicLibrary::slot(&a.CreateFilterDescriptor)},
          S{"cudnnSetFilter4dDescriptor", DynamicLibrary::slot(&a.SetFilter4dDescriptor)},
          S{"cudnnDestroyFilterDescriptor", DynamicLibrary::slot(&a.DestroyFilterDescriptor)},
          S{"cudnnCreateConvolutionDescriptor", DynamicLibrary::slot(&a.CreateConvolutionDescriptor)},
          S{"cudnnSetConvolution2dDescriptor", DynamicLibrary::slot(&a.SetConvolution2dDescriptor)},
          S{"cudnnSetConvolutionMathType", DynamicLibrary::slot(&a.SetConvolutionMathType)},
          S{"cudnnDestroyConvolutionDescriptor", DynamicLibrary::slot(&a.DestroyConvolutionDescriptor)},
          S{"cudnnGetConvolutionForwardAlgorithm_v7", DynamicLibrary::slot(&a.GetConvolutionForwardAlgorithm_v7)},
          S{"cudnnFindConvolutionForwardAlgorithmEx", DynamicLibrary::slot(&a.FindConvolutionForwardAlgorithmEx)},
          S{"cudnnGetConvolutionForwardWorkspaceSize", DynamicLibrary::slot(&a.GetConvolutionForwardWorkspaceSize)},
          S{"cudnnConvolutionForward", DynamicLibrary::slot(&a.ConvolutionForward)},
          S{"cudnnCreateActivationDescriptor", DynamicLibrary::slot(&a.CreateActivationDescriptor), false},
          S{"cudnnSetActivationDescriptor", DynamicLibrary::slot(&a.SetActivationDescriptor), false},
          S{"cudnnDestroyActivationDescriptor", DynamicLibrary::slot(&a.DestroyActivationDescriptor), false},
          S{"cudnnConvolutionBiasActivationForward", DynamicLibrary::slot(&a.ConvolutionBiasActivationForward), false},
          S{"cudnnGetConvolutionBackwardDataAlgorithm_v7",
            DynamicLibrary::slot(&a.GetConvolutionBackwardDataAlgorithm_v7)},
          S{"cudnnFindConvolutionBackwardDataAlgorithmEx",
            DynamicLibrary::slot(&a.FindConvolutionBackwardDataAlgorithmEx)},
          S{"cudnnGetConvolutionBackwardDataWorkspaceSize",
            DynamicLibrary::slot(&a.GetConvolutionBackwardDataWorkspaceSize)},
          S{"cudnnConvolutionBackwardData", DynamicLibrary::slot(&a.ConvolutionBackwardData)},
          S{"cudnnGetConvolutionBackwardFilterAlgorithm_v7",
            DynamicLibrary::slot(&a.GetConvolutionBackwardFilterAlgorithm_v7)},
          S{"cudnnFindConvolutionBackwardFilterAlgorithmEx",
            DynamicLibrary::slot(&a.FindConvolutionBackwardFilterAlgorithmEx)},
          S{"cudnnGetConvolutionBackwardFilterWorkspaceSize",
            DynamicLibrary::slot(&a.GetConvolutionBackwardFilterWorkspaceSize)},
          S{"cudnnConvolutionBackwardFilter", DynamicLibrary::slot(&a.ConvolutionBackwardFilter)},
      },
      "cuDNN 9 is needed (install it, e.g. the nvidia-cudnn-cu12 wheel, or set PIX_CUDNN=0 to use the own "
      "convolutions)");
}

// The emulated build's only cuDNN: the stand-in built beside it, by the path compiled in.
DynamicLibrary open_emulator_cudnn(std::string& error) {
  std::string why;
  DynamicLibrary library = DynamicLibrary::open(PIX_CUDA_EMULATOR_CUDNN, &why);
  if (!library) {
    error = concat("the CUDA emulator's cuDNN stand-in ", PIX_CUDA_EMULATOR_CUDNN, " could not be loaded: ", why,
                   " (npm run build:cuda-emulator builds it)");
  } else if (!library.symbol(kEmulatorMarker)) {
    error = concat(library.resolved_path(), " is not the CUDA emulator's cuDNN stand-in: this engine runs CUDA on the",
                   " CPU and would hand a real cuDNN host memory");
    library = DynamicLibrary();
  } else if (void* hook = library.symbol("pixCudaEmulatorCudnnSetHostLauncher")) {
    // The stand-in computes on the host: it queues each convolution through the emulator's
    // cudaLaunchHostFunc, so that a CUDA graph capture records it as a GPU's cuDNN would its kernels.
    using Launcher = cudaError_t (*)(cudaStream_t, cudaHostFn_t, void*);
    reinterpret_cast<void (*)(Launcher)>(hook)(&cudaLaunchHostFunc);
  }
  return library;
}

// NVIDIA's cuDNN: the file PIX_CUDNN names (search already filled in), else the usual places.
DynamicLibrary open_cudnn(LibrarySearch& search, std::string& error) {
  // cuDNN 9's front library opens these by soname; found beside it, they are opened first from there.
  search.companions = {"libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_heuristic.so.9",
                       "libcudnn_engines_precompiled.so.9", "libcudnn_engines_runtime_compiled.so.9"};
  if (search.names.empty()) {
    search.names = {kLibraryName};
    const char* root = std::getenv("CUDNN_ROOT");
    if (root != nullptr && *root != '\0') search.directories = {concat(root, "/lib"), concat(root, "/lib64")};
    for (const std::string& dir : cuda_library_directories()) search.directories.push_back(dir);
    search.hint =
        "install cuDNN 9 (or the nvidia-cudnn-cu12 wheel) and put its lib directory on LD_LIBRARY_PATH or in "
        "CUDNN_ROOT, or name the file with PIX_CUDNN=/path/to/libcudnn.so.9";
  }
  return DynamicLibrary::open_first(search, &error);
}

DynamicLibrary load(LibraryStatus& status, Api& api) {
  LibrarySearch search;
  if (!user_search("PIX_CUDNN", "cuDNN", status, search)) return {};
  DynamicLibrary library = PIX_CUDA_EMULATED ? open_emulator_cudnn(status.reason) : open_cudnn(search, status.reason);
  if (!library) return {};
  const std::string missing = resolve(library, api);
  if (!missing.empty()) {
    status.reason = concat("cuDNN unusable: ", missing);
    return {};
  }
  const size_t code = api.GetVersion();  // major * 10000 + minor * 100 + patch since cuDNN 9
  if (code < 90000) {
    status.reason = concat("cuDNN ", code, " at ", library.resolved_path(), " is older than 9, which the engine needs");
    return {};
  }
  status.path = library.resolved_path();
  status.version = concat(code / 10000, ".", code / 100 % 100, ".", code % 100);
  return library;
}

VendorLibrary<Api>& library() {  // never freed (core/cuda/vendor_library.h)
  static auto* lib = new VendorLibrary<Api>(load);
  return *lib;
}

DeviceHandles<Handle>& handles() {  // never freed (core/cuda/device_handles.h)
  static auto* all = new DeviceHandles<Handle>();
  return *all;
}

}  // namespace

LibraryStatus library_status() { return library().status(); }

const Api* api() { return library().api(); }

Handle handle(int device) {
  const Api* a = api();
  if (a == nullptr) return nullptr;
  return handles().get(device, [a](int d) {
    Handle h = nullptr;
    Status s = a->Create(&h);
    if (s != kSuccess) throw Error(concat("cudnnCreate failed on cuda:", d, ": ", status_string(s)));
    s = a->SetStream(h, stream(d));
    if (s != kSuccess) {  // a handle off the engine's stream would race it
      const std::string why = status_string(s);
      a->Destroy(h);
      throw Error(concat("cudnnSetStream failed on cuda:", d, ": ", why));
    }
    return h;
  });
}

std::mutex& handle_mutex(int device) { return handles().mutex(device); }

std::string first_device_failure() { return api() == nullptr ? "" : handles().first_failure(); }

std::string status_string(Status s) {
  const Api* a = api();
  std::string text = a ? a->GetErrorString(s) : "";
  if (a && a->GetLastErrorString) {
    char message[512] = {};
    a->GetLastErrorString(message, sizeof message);
    if (message[0] != '\0') text += concat(text.empty() ? "" : " (", message, text.empty() ? "" : ")");
  }
  return text.empty() ? concat("status ", static_cast<int>(s)) : text;
}

}  // namespace pix::cuda::cudnn
