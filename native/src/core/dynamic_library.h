// Shared libraries opened at run time (dlopen/dlsym), for optional vendor libraries the engine is
// compiled without (cuBLAS, NCCL): the addon then builds on machines that lack them and loads on
// machines that lack them, and uses them where they are found.
//
//   LibrarySearch search{"cuBLAS", {"libcublas.so.13", "libcublas.so.12", "libcublas.so"}};
//   search.directories = cuda_library_directories();     // $CUDA_HOME/lib64, /usr/local/cuda/lib64
//   search.companions = {"libcublasLt.so.13", ...};        // opened first from the same directory
//   std::string why;
//   DynamicLibrary lib = DynamicLibrary::open_first(search, &why);  // !lib: `why` says what was tried
//   why = lib.resolve({{"cublasCreate_v2", DynamicLibrary::slot(&api.Create)}, ...}, hint);  // "": all found
//
// Search order: each bare name through the dynamic loader's own path (LD_LIBRARY_PATH, the
// caller's RUNPATH, ld.so.cache), then each directory with each name. The first file that opens
// wins; in the directories, a file that exists but does not open (wrong architecture, a missing
// dependency) stops the search with that error, since a later candidate would hide the problem.
// Not here: Windows (LoadLibrary) -- open_first reports "not supported on this platform".
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

namespace pix {

struct LibrarySearch {
  std::string what;                     // "cuBLAS": how messages name the library
  std::vector<std::string> names;       // sonames, most wanted first
  std::vector<std::string> directories; // searched with every name after the loader's own path
  bool loader_path = true;              // false: only the directories (a file the user named)
  // Libraries the wanted one needs that sit next to it (libcublasLt beside libcublas): opened first
  // from the directory where the wanted one is found, so that a directory outside the loader's path
  // works. Those with the found file's version suffix (".13" of libcublas.so.13) are opened, where
  // the file exists; their soname then satisfies the dependency.
  std::vector<std::string> companions;
  // How to fix a failed search, ending its message; empty: "install <what> and put its directory
  // on LD_LIBRARY_PATH".
  std::string hint;
};

// The directories a CUDA library is usually in: $CUDA_HOME/lib64, $CUDA_HOME/lib,
// $CUDA_PATH/lib64, $CUDA_PATH/lib, /usr/local/cuda/lib64 (duplicates and unset variables dropped).
std::vector<std::string> cuda_library_directories();

class DynamicLibrary {
 public:
  DynamicLibrary() = default;
  ~DynamicLibrary();
  DynamicLibrary(DynamicLibrary&& other) noexcept;
  DynamicLibrary& operator=(DynamicLibrary&& other) noexcept;
  DynamicLibrary(const DynamicLibrary&) = delete;
  DynamicLibrary& operator=(const DynamicLibrary&) = delete;

  // Opens exactly `path` (a name without '/' goes through the loader's search), RTLD_NOW | RTLD_LOCAL.
  // On failure the result is empty and *error (if given) holds dlerror()'s text.
  static DynamicLibrary open(const std::string& path, std::string* error = nullptr);
  // The first candidate of `search` that opens (see the header comment). On failure *error says
  // which library, every place tried, the loader's last error, and how to fix it.
  static DynamicLibrary open_first(const LibrarySearch& search, std::string* error = nullptr);

  explicit operator bool() const { return handle_ != nullptr; }
  const std::string& path() const { return path_; }  // as opened: a bare soname or a full path
  // Where the loader actually mapped it (dlinfo), or path() when that cannot be told.
  std::string resolved_path() const;

  // The address of `name`, or null when the library does not export it.
  void* symbol(const char* name) const;

  struct Symbol {
    const char* name;
    void** slot;           // written with the address (null when absent)
    bool required = true;  // a missing optional symbol leaves its slot null
  };
  // Fills every slot. Returns "" when all required symbols were found, else a message naming the
  // library, its file and the first missing symbol, ending with `hint` (how to get a newer build).
  std::string resolve(std::initializer_list<Symbol> symbols, const std::string& hint = "") const;
  // Typed slot: DynamicLibrary::slot(&api.Create) for a function-pointer member.
  template <typename Fn>
  static void** slot(Fn* fn) {
    return reinterpret_cast<void**>(fn);
  }

  // Keeps the library mapped for the life of the process (no dlclose on destruction): for vendor
  // libraries whose own exit-time teardown must not run before the engine's last use of them.
  void keep_loaded() { keep_ = true; }

 private:
  DynamicLibrary(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void close();

  void* handle_ = nullptr;
  std::string path_;
  bool keep_ = false;
  std::vector<DynamicLibrary> companions_;  // opened before this one, closed after it
};

}  // namespace pix
