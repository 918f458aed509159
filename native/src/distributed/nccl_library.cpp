#include "distributed/nccl_library.h"

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "build_config.h"
#include "core/dynamic_library.h"
#include "core/error.h"

namespace pix::nccl {
namespace {

constexpr const char* kLibraryName = "libnccl.so.2";

std::mutex load_mutex;
Api* loaded = nullptr;  // set once, never freed: the library stays mapped for the process

// Every entry point into `api`: "" when the required ones are all there, else DynamicLibrary's
// message naming the file and the first one missing.
std::string resolve(const DynamicLibrary& lib, Api& api) {
  return lib.resolve({
      {"ncclGetVersion", DynamicLibrary::slot(&api.GetVersion)},
      {"ncclGetUniqueId", DynamicLibrary::slot(&api.GetUniqueId)},
      {"ncclCommInitRank", DynamicLibrary::slot(&api.CommInitRank)},
      {"ncclAllReduce", DynamicLibrary::slot(&api.AllReduce)},
      {"ncclBroadcast", DynamicLibrary::slot(&api.Broadcast)},
      {"ncclCommDestroy", DynamicLibrary::slot(&api.CommDestroy)},
      {"ncclCommAbort", DynamicLibrary::slot(&api.CommAbort)},
      {"ncclGetErrorString", DynamicLibrary::slot(&api.GetErrorString)},
      {"ncclGetLastError", DynamicLibrary::slot(&api.GetLastError), false},
      {"ncclCommGetAsyncError", DynamicLibrary::slot(&api.CommGetAsyncError), false},
  });
}

// The CUDA emulator's build (a CPU test build) hands NCCL host memory, so it opens only the stand-in
// built beside it (cuda_emulator/nccl_emulator.cpp), known by the symbol it exports: by default
// from the path the build compiled in, or from $NCCL_ROOT where that is set (a test pointing at
// another copy). A real NCCL found there is refused, saying so.
constexpr const char* kEmulatorMarker = "pixCudaEmulatorNccl";

std::string open_emulator_nccl(DynamicLibrary& lib) {
  const char* root_env = std::getenv("NCCL_ROOT");
  const std::string path = root_env && *root_env ? concat(root_env, "/lib/", kLibraryName) : std::string(PIX_CUDA_EMULATOR_NCCL);
  std::string error;
  lib = DynamicLibrary::open(path, &error);
  if (!lib) {
    return concat("the CUDA emulator's NCCL stand-in ", path, " could not be loaded: ", error,
                  root_env && *root_env ? " (NCCL_ROOT is set: unset it to use the one this build made)"
                                        : " (npm run build:cuda-emulator builds it)");
  }
  if (!lib.symbol(kEmulatorMarker)) {
    return concat("NCCL library ", lib.resolved_path(), " is not the CUDA emulator's stand-in: this engine runs CUDA on the CPU",
                  " and would hand a real NCCL host memory, so it opens only its own (", PIX_CUDA_EMULATOR_NCCL, "); unset NCCL_ROOT");
  }
  return "";
}

// Opens NVIDIA's NCCL into `lib`, or returns why it cannot. $NCCL_ROOT comes before the loader's
// path (unlike DynamicLibrary::open_first): a user who names an NCCL means that one.
std::string open_system_nccl(DynamicLibrary& lib) {
  const char* root_env = std::getenv("NCCL_ROOT");
  const std::string root = root_env ? root_env : "";
  std::string error;
  for (const char* dir : {"/lib/", "/lib64/", "/"}) {
    if (root.empty()) break;
    const std::string candidate = root + dir + kLibraryName;
    std::error_code ignored;
    if (!std::filesystem::is_regular_file(candidate, ignored)) continue;
    lib = DynamicLibrary::open(candidate, &error);
    // Present but unloadable (wrong architecture, a missing dependency): that is the news.
    if (!lib) return concat("NCCL library ", candidate, " could not be loaded: ", error);
    return "";
  }
  lib = DynamicLibrary::open(kLibraryName, &error);
  if (lib) return "";
  const std::string where = root.empty()
      ? std::string("NCCL_ROOT is not set and the dynamic loader's path does not have it")
      : concat("not in NCCL_ROOT=", root, " (lib/ or lib64/) nor on the dynamic loader's path");
  return concat("NCCL library ", kLibraryName, " not found: ", where, " (", error,
                "); set NCCL_ROOT to the NCCL install holding lib/", kLibraryName,
                " (e.g. the nvidia/nccl folder of a pip nvidia-nccl package) or add its lib folder to LD_LIBRARY_PATH");
}

// Loads the library (under load_mutex) or returns why it cannot be.
std::string try_load() {
  if (loaded) return "";
  DynamicLibrary lib;
  const std::string not_opened = PIX_CUDA_EMULATED ? open_emulator_nccl(lib) : open_system_nccl(lib);
  if (!not_opened.empty()) return not_opened;
  const std::string path = lib.resolved_path();
  auto api = std::make_unique<Api>();
  const std::string missing = resolve(lib, *api);
  if (!missing.empty())
    return concat("NCCL library ", missing, ": it is not an NCCL 2 library, or one too old for the engine");
  int version = 0;
  if (api->GetVersion(&version) != kSuccess || version < 2000)
    return concat("NCCL library ", path, " reports version code ", version, ": the engine needs NCCL 2");
  api->version_code = version;
  api->path = path;
  lib.keep_loaded();  // never closed: communicators may be torn down at process exit
  loaded = api.release();
  return "";
}

}  // namespace

std::string version_string(int code) {
  const int major = code >= 10000 ? code / 10000 : code / 1000;
  const int minor = code >= 10000 ? code % 10000 / 100 : code % 1000 / 100;
  return concat(major, ".", minor, ".", code % 100);
}

LibraryStatus library_status() {
  std::lock_guard<std::mutex> lock(load_mutex);
  LibraryStatus status;
  status.reason = try_load();
  status.available = status.reason.empty();
  if (status.available) {
    status.path = loaded->path;
    status.version = version_string(loaded->version_code);
  }
  return status;
}

const Api& api() {
  std::lock_guard<std::mutex> lock(load_mutex);
  const std::string reason = try_load();
  if (!reason.empty()) throw Error(reason);
  return *loaded;
}

void check(Result result, const char* what, Comm comm) {
  if (result == kSuccess) return;
  const Api& nccl = api();
  std::string detail;
  if (nccl.GetLastError) {
    const char* last = nccl.GetLastError(comm);
    if (last && *last) detail = last;
  }
  std::string message = concat("NCCL error in ", what, ": ", nccl.GetErrorString(result));
  if (!detail.empty()) message += concat(" (", detail, ")");
  if (detail.find("Duplicate GPU") != std::string::npos) {
    message += "; NCCL gives each rank a GPU of its own: with --device cuda rank r uses cuda:LOCAL_RANK";
  }
  throw Error(message);
}

}  // namespace pix::nccl
