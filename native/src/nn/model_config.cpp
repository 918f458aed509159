#include "nn/model_config.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace pix::nn {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct Definition {
  RegistryEntry entry;
  ModelConfig config;
};

ModelConfig make(const std::string& name, Family family, Stem stem, int64_t stem_width, std::array<int64_t, 4> widths,
                 std::array<int, 4> blocks, int64_t classes) {
  ModelConfig c;
  c.name = name, c.family = family, c.stem = stem, c.stem_width = stem_width, c.widths = widths, c.blocks = blocks;
  c.num_classes = classes;
  return c;
}

const std::vector<Definition>& definitions() {
  static const std::vector<Definition> all = [] {
    const std::array<int64_t, 4> full{256, 512, 1024, 2048}, small{32, 64, 128, 256};
    std::vector<Definition> d;
    for (auto [depth, blocks] : {std::pair{50, std::array<int, 4>{3, 4, 6, 3}}, std::pair{101, std::array<int, 4>{3, 4, 23, 3}},
                                 std::pair{152, std::array<int, 4>{3, 8, 36, 3}}}) {
      const std::string n = std::to_string(depth);
      d.push_back({{"pix_resnet" + n + "_cs", {"PiXResNet" + n + "_cs"}, "PiX-ResNet-" + n + " (channel squeezing), official"},
                   make("pix_resnet" + n + "_cs", Family::PiX, Stem::ImageNet, 64, full, blocks, 1000)});
      d.push_back({{"resnet" + n, {"ResNet" + n}, "ResNet-" + n + " v1.5 (torchvision/timm), baseline"},
                   make("resnet" + n, Family::ResNet, Stem::ImageNet, 64, full, blocks, 1000)});
    }
    d.push_back({{"pix_resnet_tiny_cs", {}, "ours: PiX, CIFAR stem, widths 32-256, blocks 2-2-1-1 (tests, CPU demos)"},
                 make("pix_resnet_tiny_cs", Family::PiX, Stem::Cifar, 16, small, {2, 2, 1, 1}, 10)});
    d.push_back({{"resnet_tiny", {}, "ours: ResNet counterpart of pix_resnet_tiny_cs"},
                 make("resnet_tiny", Family::ResNet, Stem::Cifar, 16, small, {2, 2, 1, 1}, 10)});
    d.push_back({{"pix_resnet_small_cs", {}, "ours: PiX, ImageNet stem, widths 32-256, blocks 1-1-1-1 (tests)"},
                 make("pix_resnet_small_cs", Family::PiX, Stem::ImageNet, 16, small, {1, 1, 1, 1}, 10)});
    d.push_back({{"resnet_small", {}, "ours: ResNet counterpart of pix_resnet_small_cs"},
                 make("resnet_small", Family::ResNet, Stem::ImageNet, 16, small, {1, 1, 1, 1}, 10)});
    return d;
  }();
  return all;
}

}  // namespace

const std::vector<RegistryEntry>& model_registry() {
  static const std::vector<RegistryEntry> entries = [] {
    std::vector<RegistryEntry> out;
    for (const auto& d : definitions()) out.push_back(d.entry);
    return out;
  }();
  return entries;
}

ModelConfig model_config(const std::string& name, int64_t num_classes, float drop) {
  PIX_CHECK(num_classes >= 0, "num_classes must be >= 1, got ", num_classes);
  PIX_CHECK(drop >= 0.f && drop < 1.f, "drop must be in [0, 1), got ", drop);
  const std::string wanted = lower(name);
  std::string valid;
  for (const auto& d : definitions()) {
    bool match = lower(d.entry.name) == wanted;
    for (const auto& alias : d.entry.aliases) match = match || lower(alias) == wanted;
    if (match) {
      ModelConfig config = d.config;
      if (num_classes > 0) config.num_classes = num_classes;
      config.drop = drop;
      return config;
    }
    valid += (valid.empty() ? "" : ", ") + d.entry.name;
  }
  throw Error(concat("unknown model '", name, "' (valid: ", valid, ")"));
}

}  // namespace pix::nn
