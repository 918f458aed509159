// A vendor library the CUDA backend opens at run time (cuBLAS, cuDNN; ops/cuda/cublas.h,
// ops/cuda/cudnn.h): loaded on first use, once per process whether that succeeds or not, its entry
// points kept in an Api struct, and what loading gave kept for `pix info`. Never unloaded: its
// handles are kept for the process too, and tearing either down during exit races the CUDA
// runtime's own teardown.
#pragma once

#include <cstdlib>
#include <mutex>
#include <string>

#include "core/dynamic_library.h"
#include "core/error.h"

namespace pix::cuda {

struct LibraryStatus {
  bool available = false;
  bool disabled = false;  // switched off by its environment variable (PIX_CUBLAS=0, PIX_CUDNN=0)
  std::string path;       // the file loaded, when available
  std::string version;    // e.g. "13.0.2", when known
  std::string reason;     // when not available: what is missing and where it was sought
};

// What the user's environment variable asks (PIX_CUBLAS, PIX_CUDNN): unset or "1", the usual search
// (left for the caller to fill in); "0", nothing (returns false, with status saying why); anything
// else, exactly that file (search filled in for it).
inline bool user_search(const char* variable, const std::string& what, LibraryStatus& status, LibrarySearch& search) {
  const char* env = std::getenv(variable);
  const std::string setting = env ? env : "";
  search.what = what;
  if (setting == "0") {
    status.disabled = true;
    status.reason = concat(variable, "=0");
    return false;
  }
  if (!setting.empty() && setting != "1") {
    const size_t slash = setting.rfind('/');
    search.what = concat(what, " (", variable, ")");
    search.names = {slash == std::string::npos ? setting : setting.substr(slash + 1)};
    search.directories = {slash == std::string::npos ? "." : slash == 0 ? "" : setting.substr(0, slash)};
    search.loader_path = false;
    search.hint = concat(variable, " must be 0, 1 or the path of the library file");
  }
  return true;
}

template <typename Api>
class VendorLibrary {
 public:
  // load opens the library and resolves `api`, or sets status.reason (or disabled) and returns an
  // empty library; it runs once, on the first call of status() or api(). Success sets `available`.
  using Loader = DynamicLibrary (*)(LibraryStatus& status, Api& api);
  explicit VendorLibrary(Loader load) : load_(load) {}

  LibraryStatus status() {
    ensure_loaded();
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

  // The entry points, or null when the library is not available.
  const Api* api() {
    ensure_loaded();
    return available_ ? &api_ : nullptr;
  }

  // Fills in the version once it is known (cuBLAS tells it only through a handle).
  void set_version_if_unknown(const std::string& version) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (status_.version.empty()) status_.version = version;
  }

 private:
  void ensure_loaded() {
    std::call_once(once_, [this] {
      std::lock_guard<std::mutex> lock(mutex_);
      library_ = load_(status_, api_);
      if (library_) library_.keep_loaded();
      status_.available = static_cast<bool>(library_);
      available_ = status_.available;
    });
  }

  Loader load_;
  std::once_flag once_;
  std::mutex mutex_;  // guards status_
  LibraryStatus status_;
  bool available_ = false;  // written once, inside call_once
  Api api_{};
  DynamicLibrary library_;
};

}  // namespace pix::cuda
