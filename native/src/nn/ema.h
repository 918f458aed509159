// An exponential moving average of a model's whole state, as timm's ModelEma: after each optimizer
// step, e = d*e + (1-d)*w for every floating entry (parameters and BatchNorm running statistics).
// num_batches_tracked is copied (timm would truncate its average back to an integer; the value is
// unused with BatchNorm momentum set). The average lives in its own tensors, in the engine's layout,
// starting from a copy of the model; copy_to puts it into a model for evaluation.
// The average lives on the model's device at construction (CUDA entries update there).
// Not here: timm's device placement options and warm-up decay (ModelEmaV3).
#pragma once

#include <vector>

#include "nn/state_dict.h"

namespace pix::nn {

class ModelEma {
 public:
  ModelEma(const StateDict& model, double decay);
  void update(const StateDict& model);
  void copy_to(StateDict& model) const;
  double decay() const { return decay_; }

  // The averaged state dict under the model's keys, CPU copies in PyTorch layouts; import takes
  // exactly those keys.
  NamedTensors export_state() const;
  void import_state(const NamedTensors& state);

 private:
  // The model's entries must match this one's, key for key.
  void check_same_model(const StateDict& model, const char* fn) const;

  std::vector<StateEntry> entries_;  // value = the average; grad left undefined
  double decay_;
};

}  // namespace pix::nn
