// Where a tensor lives: the host ("cpu") or one CUDA device ("cuda:N").
#pragma once

#include <cstdint>
#include <string>

namespace pix {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;  // CUDA ordinal; always 0 for the CPU

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& other) const { return type == other.type && index == other.index; }
  bool operator!=(const Device& other) const { return !(*this == other); }
  std::string str() const;  // "cpu", "cuda:0"

  static Device cpu() { return Device{}; }
  static Device cuda(int index) { return Device{DeviceType::CUDA, index}; }
  static Device parse(const std::string& name);  // "cpu", "cuda", "cuda:1"; throws on anything else
};

}  // namespace pix
