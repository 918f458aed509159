#include "core/dynamic_library.h"

#include <cstdlib>
#include <utility>

#include "core/error.h"

#if defined(_WIN32)
#define PIX_NO_DLOPEN 1
#else
#include <dlfcn.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <link.h>
#endif
#endif

namespace pix {
namespace {

#if !defined(PIX_NO_DLOPEN)
bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string last_dlerror() {
  const char* text = dlerror();
  return text ? text : "unknown dlopen error";
}
#endif

void add_unique(std::vector<std::string>& list, std::string value) {
  for (const auto& v : list)
    if (v == value) return;
  list.push_back(std::move(value));
}

// ".13" of "libcublas.so.13", "" of "libcublas.so".
std::string version_suffix(const std::string& name) {
  const size_t at = name.rfind(".so");
  return at == std::string::npos ? "" : name.substr(at + 3);
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
  return out;
}

}  // namespace

std::vector<std::string> cuda_library_directories() {
  std::vector<std::string> dirs;
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"}) {
    const char* root = std::getenv(var);
    if (root == nullptr || *root == '\0') continue;
    add_unique(dirs, std::string(root) + "/lib64");
    add_unique(dirs, std::string(root) + "/lib");
  }
  add_unique(dirs, "/usr/local/cuda/lib64");
  return dirs;
}

DynamicLibrary::~DynamicLibrary() { close(); }

DynamicLibrary::DynamicLibrary(DynamicLibrary&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      path_(std::move(other.path_)),
      keep_(other.keep_),
      companions_(std::move(other.companions_)) {}

DynamicLibrary& DynamicLibrary::operator=(DynamicLibrary&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = std::exchange(other.handle_, nullptr);
    path_ = std::move(other.path_);
    keep_ = other.keep_;
    companions_ = std::move(other.companions_);
  }
  return *this;
}

void DynamicLibrary::close() {
#if !defined(PIX_NO_DLOPEN)
  if (handle_ != nullptr && !keep_) dlclose(handle_);
#endif
  handle_ = nullptr;
  // Companions after the library that needs them; kept ones stay mapped with it.
  for (auto& c : companions_) c.keep_ = c.keep_ || keep_;
  companions_.clear();
}

DynamicLibrary DynamicLibrary::open(const std::string& path, std::string* error) {
#if defined(PIX_NO_DLOPEN)
  if (error) *error = "opening libraries at run time is not supported on this platform";
  return {};
#else
  dlerror();  // clear a stale message
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    if (error) *error = last_dlerror();
    return {};
  }
  return DynamicLibrary(handle, path);
#endif
}

DynamicLibrary DynamicLibrary::open_first(const LibrarySearch& search, std::string* error) {
#if defined(PIX_NO_DLOPEN)
  if (error) *error = concat(search.what, " cannot be loaded: opening libraries at run time is not supported on this platform");
  return {};
#else
  const std::string fix =
      search.hint.empty() ? concat("install ", search.what, " and put its directory on LD_LIBRARY_PATH") : search.hint;
  std::vector<std::string> tried;
  std::string loader_error;
  // 1. The loader's own search path, by soname.
  for (const std::string& name : search.loader_path ? search.names : std::vector<std::string>{}) {
    std::string why;
    DynamicLibrary lib = open(name, &why);
    if (lib) return lib;
    tried.push_back(name);
    loader_error = why;
  }
  // 2. Known directories: a file that exists but does not open is the answer, not a reason to go on.
  for (const std::string& dir : search.directories) {
    for (const std::string& name : search.names) {
      const std::string path = dir + "/" + name;
      if (!exists(path)) continue;
      std::vector<DynamicLibrary> companions;
      for (const std::string& companion : search.companions) {
        if (version_suffix(companion) != version_suffix(name)) continue;
        const std::string companion_path = dir + "/" + companion;
        if (!exists(companion_path)) continue;
        DynamicLibrary c = open(companion_path);
        if (c) companions.push_back(std::move(c));
      }
      std::string why;
      DynamicLibrary lib = open(path, &why);
      if (!lib) {
        if (error) *error = concat(search.what, " library ", path, " exists but could not be loaded: ", why, "; ", fix);
        return {};
      }
      lib.companions_ = std::move(companions);
      return lib;
    }
    tried.push_back(search.names.size() == 1 ? dir + "/" + search.names[0] : dir + "/");
  }
  if (error)
    *error = concat(search.what, " not found: tried ", join(tried, ", "),
                    loader_error.empty() ? "" : concat(" (", loader_error, ")"), "; ", fix);
  return {};
#endif
}

std::string DynamicLibrary::resolved_path() const {
#if defined(__linux__)
  struct link_map* map = nullptr;
  if (handle_ != nullptr && dlinfo(handle_, RTLD_DI_LINKMAP, &map) == 0 && map != nullptr && map->l_name != nullptr &&
      map->l_name[0] != '\0')
    return map->l_name;
#endif
  return path_;
}

void* DynamicLibrary::symbol(const char* name) const {
#if defined(PIX_NO_DLOPEN)
  return nullptr;
#else
  return handle_ != nullptr ? dlsym(handle_, name) : nullptr;
#endif
}

std::string DynamicLibrary::resolve(std::initializer_list<Symbol> symbols, const std::string& hint) const {
  std::string missing;
  for (const Symbol& s : symbols) {
    *s.slot = symbol(s.name);
    if (*s.slot == nullptr && s.required && missing.empty()) missing = s.name;
  }
  if (missing.empty()) return "";
  return concat(resolved_path(), " has no symbol ", missing, hint.empty() ? "" : "; ", hint);
}

}  // namespace pix
