#include "ops/cuda/cublas.h"

#include <cstdlib>
#include <memory>
#include <vector>

#include "core/cuda/check.h"
#include "core/cuda/device_handles.h"
#include "core/cuda/runtime.h"
#include "build_config.h"
#include "core/dynamic_library.h"
#include "core/error.h"

namespace pix::cuda::cublas {
namespace {

// Hopper's cuBLAS wants up to 32 MiB for its fastest kernels; it is taken once per device.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

struct Loaded {
  DynamicLibrary library;
  Api api{};
};

std::mutex status_mutex;  // guards status (the version may be filled in by the first handle)
LibraryStatus status;
// Set once by load(), never freed: cuBLAS stays mapped for the process, since its handles are
// kept too and tearing either down during exit races the CUDA runtime's own teardown.
Loaded* loaded = nullptr;
std::once_flag load_once;

std::string version_from_code(int code) {  // CUBLAS_VERSION: major * 10000 + minor * 100 + patch
  return concat(code / 10000, ".", code / 100 % 100, ".", code % 100);
}

void load() {
  if (PIX_CUDA_EMULATED) {  // its kernels would be handed host memory
    status.reason = "the CUDA emulator (a CPU test build) never opens cuBLAS";
    return;
  }
  const char* env = std::getenv("PIX_CUBLAS");
  const std::string setting = env ? env : "";
  if (setting == "0") {
    status.disabled = true;
    status.reason = "PIX_CUBLAS=0";
    return;
  }
  LibrarySearch search;
  search.what = "cuBLAS";
  search.companions = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};
  if (!setting.empty() && setting != "1") {  // the file the user named, its libcublasLt beside it
    const size_t slash = setting.rfind('/');
    search.what = "cuBLAS (PIX_CUBLAS)";
    search.names = {slash == std::string::npos ? setting : setting.substr(slash + 1)};
    search.directories = {slash == std::string::npos ? "." : slash == 0 ? "" : setting.substr(0, slash)};
    search.loader_path = false;
    search.hint = "PIX_CUBLAS must be 0, 1 or the path of a libcublas.so";
  } else {
    search.names = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
    search.directories = cuda_library_directories();
    search.hint =
        "install cuBLAS (the CUDA toolkit's, or the nvidia-cublas wheel) and put its directory on LD_LIBRARY_PATH, "
        "set CUDA_HOME to the toolkit, or name the file with PIX_CUBLAS=/path/to/libcublas.so.13";
  }
  std::string error;
  DynamicLibrary library = DynamicLibrary::open_first(search, &error);
  if (!library) {
    status.reason = error;
    return;
  }
  auto out = std::make_unique<Loaded>();
  Api& a = out->api;
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
    return;  // the library is closed again as `library` goes
  }
  library.keep_loaded();
  status.path = library.resolved_path();
  int major = 0, minor = 0, patch = 0;
  if (a.GetProperty && a.GetProperty(MAJOR_VERSION, &major) == kSuccess &&
      a.GetProperty(MINOR_VERSION, &minor) == kSuccess && a.GetProperty(PATCH_LEVEL, &patch) == kSuccess)
    status.version = concat(major, ".", minor, ".", patch);
  status.available = true;
  out->library = std::move(library);
  loaded = out.release();
}

void ensure_loaded() {
  std::call_once(load_once, [] {
    std::lock_guard<std::mutex> lock(status_mutex);
    load();
  });
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

LibraryStatus library_status() {
  ensure_loaded();
  std::lock_guard<std::mutex> lock(status_mutex);
  return status;
}

const Api* api() {
  ensure_loaded();
  return loaded ? &loaded->api : nullptr;
}

Handle handle(int device) {
  const Api* a = api();
  if (a == nullptr) return nullptr;
  return handles().get(device, [a](int d) {
    Handle h = create_handle(*a, d);
    int code = 0;
    std::lock_guard<std::mutex> status_lock(status_mutex);
    if (status.version.empty() && a->GetVersion(h, &code) == kSuccess) status.version = version_from_code(code);
    return h;
  });
}

std::string first_device_failure() { return api() == nullptr ? "" : handles().first_failure(); }

std::mutex& handle_mutex(int device) { return handles().mutex(device); }

std::string status_string(Status s) {
  const Api* a = loaded ? &loaded->api : nullptr;
  std::string text;
  if (a && a->GetStatusName) text = a->GetStatusName(s);
  if (a && a->GetStatusString) {
    const std::string description = a->GetStatusString(s);
    if (description != text) text += (text.empty() ? "" : ": ") + description;
  }
  return text.empty() ? concat("status ", static_cast<int>(s)) : text;
}

}  // namespace pix::cuda::cublas
