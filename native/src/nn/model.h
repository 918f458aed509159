// A classification network assembled from layers: stem -> 4 stages of bottleneck blocks -> head.
// One class serves both families; the blocks (pix_bottleneck.h, bottleneck.h) and the key names
// differ. Input x is NHWC (N,H,W,3); output logits (N,classes).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/model_config.h"
#include "ops/maxpool.h"

namespace pix::nn {

class Block {
 public:
  virtual ~Block() = default;
  virtual Tensor forward(const Tensor& x, bool train) = 0;
  virtual void backward(const Tensor& dy, Tensor& dx) = 0;  // dx accumulates
  // Multiply-accumulates of the block's convolutions for an h x w input; updates h, w to the output.
  virtual int64_t macs(int64_t& h, int64_t& w) const = 0;
};

struct ForwardOptions {
  bool train = false;    // BatchNorm uses (and updates) batch statistics
  bool dropout = false;  // head dropout active (only meaningful with train)
  uint64_t seed = 0;     // dropout mask seed
};

class Model {
 public:
  Model(const ModelConfig& config, uint64_t init_seed);
  Tensor forward(const Tensor& x, const ForwardOptions& options);
  // Backward of the last training forward; accumulates into the parameter gradients.
  void backward(const Tensor& dlogits);
  StateDict& state() { return state_; }
  const ModelConfig& config() const { return config_; }
  int64_t macs(int64_t input_size) const;

 private:
  ModelConfig config_;
  StateDict state_;
  std::unique_ptr<ConvBn> stem_;
  PoolParams pool_;
  std::vector<std::unique_ptr<Block>> blocks_;
  StateEntry* head_weight_;
  StateEntry* head_bias_;
  // saved for backward
  Tensor stem_out_, pooled_, head_in_, dropout_mask_;
  Tensor features_;  // what the classifier saw: head_in_, or its dropped-out copy
  std::vector<Shape> block_inputs_;
  bool last_forward_trained_ = false;
};

}  // namespace pix::nn
