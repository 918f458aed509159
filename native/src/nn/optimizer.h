// Optimizers over a model's parameters, updating them in place from their accumulated gradients.
// SGD with momentum (and Nesterov) as torch.optim.SGD. The recipe's AdamW and LAMB join here.
// Parameters without weight decay (1-D: BatchNorm gamma/beta, and biases) follow the official
// parameter groups.
#pragma once

#include <unordered_map>

#include "nn/state_dict.h"

namespace pix::nn {

struct SgdParams {
  float momentum = 0.9f;
  bool nesterov = false;
};

class Sgd {
 public:
  explicit Sgd(SgdParams params) : params_(params) {}
  void step(StateDict& state, float lr, float weight_decay);

 private:
  SgdParams params_;
  std::unordered_map<const StateEntry*, Tensor> momentum_;
};

// The official grouping: no weight decay for 1-D parameters and biases.
bool uses_weight_decay(const StateEntry& entry);

}  // namespace pix::nn
