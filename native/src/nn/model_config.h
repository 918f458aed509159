// Model configurations and the registry of names (case-insensitive, with the official aliases).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace pix::nn {

enum class Family { PiX, ResNet };
enum class Stem {
  ImageNet,  // 7x7 stride-2 conv, BN, ReLU, 3x3 stride-2 max-pool
  Cifar,     // 3x3 stride-1 conv, BN, ReLU: for small images (our small variants)
};

struct ModelConfig {
  std::string name;
  Family family = Family::PiX;
  Stem stem = Stem::ImageNet;
  int64_t stem_width = 64;
  std::array<int64_t, 4> widths{256, 512, 1024, 2048};  // stage output channels
  std::array<int, 4> blocks{3, 4, 6, 3};
  int64_t num_classes = 1000;
  float drop = 0.f;
};

struct RegistryEntry {
  std::string name;
  std::vector<std::string> aliases;
  std::string description;
};

const std::vector<RegistryEntry>& model_registry();
// Looks a name or alias up (case-insensitive); throws pix::Error listing the valid names.
// num_classes 0 keeps the model's default (1000 for the official models).
ModelConfig model_config(const std::string& name, int64_t num_classes, float drop);

}  // namespace pix::nn
