#include "ops/cuda/cublas.h"

#include "build_config.h"
#include "core/cuda/check.h"
#include "core/cuda/device_handles.h"
#include "core/cuda/runtime.h"
#include "core/cuda/vendor_library.h"
#include "core/dynamic_library.h"
#include "core/error.h"

namespace pix::cuda::cublas {
namespace {

// Hopper's cuBLAS wants up to 32 MiB for its fastest kernels; it is taken once per device.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

std::string version_from_code(int code) {  // CUBLAS_VERSION: major * 10000 + minor * 100 + patch
  return concat(code / 10000, ".", code / 100 % 100, ".", code % 100);
}

DynamicLibrary load(LibraryStatus& status, Api& a) {
  if (PIX_CUDA_EMULATED) {  // its kernels would be handed host memory
    status.reason = "the CUDA emulator (a CPU test build) never opens cuBLAS";
    return {};
  }
  LibrarySearch search;
  if (!user_search("PIX_CUBLAS", "cuBLAS", status, search)) return {};
  search.companions = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};  // opened beside it
  if (search.names.empty()) {
    search.names = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    search.directories = cuda_library_directories();
    search.hint =
        "install cuBLAS (the CUDA toolkit's, or the nvidia-cublas wheel) and put its directory on LD_LIBRARY_PATH, "
        "set CUDA_HOME to the toolkit, or name the file with PIX_CUBLAS=/path/to/libcublas.so.13";
  }
  DynamicLibrary library = DynamicLibrary::open_first(search, &status.reason);
  if (!library) return {};
  using S = DynamicLibrary::Symbol;
  const std::string missing = library.resolve(
      {
          S{"cublasCreate_v2", DynamicLibrary::slot(&a.Create)},
          S{"cublasDestroy_v2", DynamicLibrary::slot(&a.Destroy)},
          S{"cublasSetStream_v2", DynamicLibrary::slot(&a.SetStream)},
          S{"cublasSetWorkspace_v2", DynamicLibrary::slot(&a.SetWorkspace)},
          S{"cublasSetMathMode", DynamicLibrary::slot(&a.SetMathMode)},
          S{"cublasGetVersion_v2", DynamicLibrary::slot(&a.GetVersion)},
          S{"cublasGetStatusString", DynamicLibrary::slot(&a.GetStatusString)},
          S{"cublasGemmEx", DynamicLibrary::slot(&a.GemmEx)},
          S{"cublasGemmStridedBatchedEx", DynamicLibrary::slot(&a.GemmStridedBatchedEx)},
          S{"cublasGetStatusName", DynamicLibrary::slot(&a.GetStatusName), false},
          S{"cublasGetProperty", DynamicLibrary::slot(&a.GetProperty), false},
      },
      "cuBLAS 12 or newer is needed (install the CUDA toolkit's cuBLAS, or set PIX_CUBLAS=0 to use the own kernel)");
  if (!missing.empty()) {
    status.reason = concat("cuBLAS unusable: ", missing);
    return {};  // closed again as `library` goes
  }
  status.path = library.resolved_path();
  int major = 0, minor = 0, patch = 0;
  if (a.GetProperty && a.GetProperty(MAJOR_VERSION, &major) == kSuccess &&
      a.GetProperty(MINOR_VERSION, &minor) == kSuccess && a.GetProperty(PATCH_LEVEL, &patch) == kSuccess)
    status.version = concat(major, ".", minor, ".", patch);
  return library;
}

VendorLibrary<Api>& library() {  // never freed (core/cuda/vendor_library.h)
  static auto* lib = new VendorLibrary<Api>(load);
  return *lib;
}

// Never freed, like the handles it holds (core/cuda/device_handles.h).
DeviceHandles<Handle>& handles() {
  static auto* all = new DeviceHandles<Handle>();
  return *all;
}

// Creates and configures a handle for the current device; throws pix::Error naming the failed call.
Handle create_handle(const Api& a, int device) {
  auto call = [&](Status s, const char* what) {
    if (s != kSuccess) throw Error(concat(what, " failed on cuda:", device, ": ", status_string(s)));
  };
  Handle h = nullptr;
  call(a.Create(&h), "cublasCreate_v2");
  void* workspace = nullptr;
  try {
    // SetStream resets the workspace to cuBLAS's own pool, so the workspace comes after it.
    call(a.SetStream(h, stream(device)), "cublasSetStream_v2");
    workspace = cache_alloc(device, kWorkspaceBytes);  // held for the life of the handle
    call(a.SetWorkspace(h, workspace, kWorkspaceBytes), "cublasSetWorkspace_v2");
    call(a.SetMathMode(h, kDefaultMath | kDisallowReducedPrecisionReduction), "cublasSetMathMode");
  } catch (...) {
    a.Destroy(h);
    if (workspace != nullptr) cache_free(device, workspace);
    throw;
  }
  return h;
}

}  // namespace

LibraryStatus library_status() { return library().status(); }

const Api* api() { return library().api(); }

Handle handle(int device) {
  const Api* a = api();
  if (a == nullptr) return nullptr;
  return handles().get(device, [a](int d) {
    Handle h = create_handle(*a, d);
    int code = 0;
    if (a->GetVersion(h, &code) == kSuccess) library().set_version_if_unknown(version_from_code(code));
    return h;
  });
}

std::string first_device_failure() { return api() == nullptr ? "" : handles().first_failure(); }

std::mutex& handle_mutex(int device) { return handles().mutex(device); }

std::string status_string(Status s) {
  const Api* a = api();
  std::string text;
  if (a && a->GetStatusName) text = a->GetStatusName(s);
  if (a && a->GetStatusString) {
    const std::string description = a->GetStatusString(s);
    if (description != text) text += (text.empty() ? "" : ": ") + description;
  }
  return text.empty() ? concat("status ", static_cast<int>(s)) : text;
}

}  // namespace pix::cuda::cublas
