#include "core/device.h"

#include <cstdlib>

#include "core/error.h"

namespace pix {

std::string Device::str() const { return is_cpu() ? "cpu" : "cuda:" + std::to_string(index); }

Device Device::parse(const std::string& name) {
  if (name == "cpu") return cpu();
  if (name == "cuda") return cuda(0);
  if (name.rfind("cuda:", 0) == 0 && name.size() > 5) {
    const std::string ordinal = name.substr(5);
    char* end = nullptr;
    long index = std::strtol(ordinal.c_str(), &end, 10);
    if (*end == '\0' && index >= 0 && index < 1024) return cuda(static_cast<int>(index));
  }
  throw Error(concat("unknown device '", name, "' (expected cpu, cuda or cuda:N)"));
}

}  // namespace pix
