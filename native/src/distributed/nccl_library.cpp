#include "distributed/nccl_library.h"

#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/error.h"

#if defined(_WIN32)
#define PIX_NCCL_NO_DLOPEN 1
#else
#include <dlfcn.h>
#include <sys/stat.h>
#endif

namespace pix::nccl {
namespace {

constexpr const char* kLibraryName = "libnccl.so.2";

std::mutex load_mutex;
Api* loaded = nullptr;  // set once, never freed: the library stays mapped for the process

#if !defined(PIX_NCCL_NO_DLOPEN)
bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string last_dlerror() {
  const char* text = dlerror();
  return text ? text : "unknown dlopen error";
}

// Resolves every entry point, or names the first one missing.
std::string resolve(void* handle, Api& api) {
  struct Entry {
    const char* name;
    void** slot;
    bool required;
  };
  const Entry entries[] = {
      {"ncclGetVersion", reinterpret_cast<void**>(&api.GetVersion), true},
      {"ncclGetUniqueId", reinterpret_cast<void**>(&api.GetUniqueId), true},
      {"ncclCommInitRank", reinterpret_cast<void**>(&api.CommInitRank), true},
      {"ncclAllReduce", reinterpret_cast<void**>(&api.AllReduce), true},
      {"ncclBroadcast", reinterpret_cast<void**>(&api.Broadcast), true},
      {"ncclCommDestroy", reinterpret_cast<void**>(&api.CommDestroy), true},
      {"ncclCommAbort", reinterpret_cast<void**>(&api.CommAbort), true},
      {"ncclGetErrorString", reinterpret_cast<void**>(&api.GetErrorString), true},
      {"ncclGetLastError", reinterpret_cast<void**>(&api.GetLastError), false},
      {"ncclCommGetAsyncError", reinterpret_cast<void**>(&api.CommGetAsyncError), false},
  };
  for (const Entry& e : entries) {
    *e.slot = dlsym(handle, e.name);
    if (*e.slot == nullptr && e.required) return e.name;
  }
  return "";
}
#endif

// Loads the library (under load_mutex) or returns why it cannot be.
std::string try_load() {
  if (loaded) return "";
#if defined(PIX_NCCL_NO_DLOPEN)
  return "NCCL is not available on this platform (the NCCL backend needs Linux)";
#else
  const char* root_env = std::getenv("NCCL_ROOT");
  const std::string root = root_env ? root_env : "";
  std::vector<std::string> candidates;
  if (!root.empty()) {
    for (const char* dir : {"/lib/", "/lib64/", "/"}) candidates.push_back(root + dir + kLibraryName);
  }
  void* handle = nullptr;
  std::string path;
  for (const std::string& candidate : candidates) {
    if (!is_file(candidate)) continue;
    handle = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    // Present but unloadable (wrong architecture, a missing dependency): that is the news.
    if (!handle) return concat("NCCL library ", candidate, " could not be loaded: ", last_dlerror());
    path = candidate;
    break;
  }
  if (!handle) {
    handle = dlopen(kLibraryName, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const std::string why = last_dlerror();
      const std::string where = root.empty()
          ? std::string("NCCL_ROOT is not set and the dynamic loader's path does not have it")
          : concat("not in NCCL_ROOT=", root, " (lib/ or lib64/) nor on the dynamic loader's path");
      return concat("NCCL library ", kLibraryName, " not found: ", where, " (", why,
                    "); set NCCL_ROOT to the NCCL install holding lib/", kLibraryName,
                    " (e.g. the nvidia/nccl folder of a pip nvidia-nccl package) or add its lib folder to LD_LIBRARY_PATH");
    }
    path = kLibraryName;
  }
  auto* api = new Api{};
  const std::string missing = resolve(handle, *api);
  Dl_info info{};
  if (api->GetUniqueId && dladdr(reinterpret_cast<void*>(api->GetUniqueId), &info) && info.dli_fname) path = info.dli_fname;
  if (!missing.empty()) {
    delete api;
    dlclose(handle);
    return concat("NCCL library ", path, " lacks ", missing, ": it is not an NCCL 2 library, or one too old for the engine");
  }
  int version = 0;
  if (api->GetVersion(&version) != kSuccess || version < 2000) {
    delete api;
    dlclose(handle);
    return concat("NCCL library ", path, " reports version code ", version, ": the engine needs NCCL 2");
  }
  api->version_code = version;
  api->path = path;
  loaded = api;
  return "";
#endif
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
