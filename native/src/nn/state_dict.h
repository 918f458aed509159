// The model's named tensors, in the official state-dict order and with the official key names, so
// checkpoints interchange with the PyTorch code. Each entry keeps its value in the engine's
// layout (conv weights OHWI, 1x1 weights as (O,C)) and knows its PyTorch shape; to_torch and
// from_torch convert at the boundary.
//
// Each value counts its writes (version): whatever the engine derives from values and caches — the
// inference weights with BatchNorm folded in (nn/layers.h) — compares versions to know it is stale.
// So the value is read through value() and written only through mutable_value(), which counts.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pix::nn {

enum class EntryKind { ConvWeight, LinearWeight, Bias, BnWeight, BnBias, RunningMean, RunningVar, NumBatchesTracked };
const char* entry_kind_name(EntryKind kind);

struct StateEntry {
  std::string key;
  EntryKind kind;
  Shape torch_shape;  // what PyTorch's state_dict holds
  Tensor grad;        // parameters only; undefined for buffers

  // The value, in the engine layout. Call mutable_value() right before each write (an optimizer
  // step, a load, a BatchNorm statistics update, a move): it counts one.
  const Tensor& value() const { return value_; }
  Tensor& mutable_value() {
    ++version_;
    return value_;
  }
  uint64_t version() const { return version_; }

  bool is_parameter() const;
  Tensor to_torch() const;               // a copy in PyTorch's layout
  Tensor grad_to_torch() const;          // the gradient, likewise
  void from_torch(const Tensor& torch);  // checks shape and dtype, converts, copies in

  // Any tensor shaped like this entry (a gradient, an optimizer moment) converted between the
  // engine's layout and PyTorch's, on the CPU; from_torch_layout checks shape and dtype, and where the
  // layouts agree its result may share memory with its argument.
  Tensor to_torch_layout(const Tensor& engine) const;
  Tensor from_torch_layout(const Tensor& torch) const;

 private:
  Tensor value_;
  uint64_t version_ = 0;
};

// Tensors under state-dict names: an optimizer's or an EMA's state for checkpoints.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class StateDict {
 public:
  // Registration (by layers, at construction). Value initialised to the SPEC's init: Xavier-
  // uniform conv/linear weights (from `seed`), zero biases, BN gamma 1, beta 0, var 1.
  StateEntry* conv_weight(const std::string& key, int64_t out, int64_t in, int kernel);
  StateEntry* linear_weight(const std::string& key, int64_t out, int64_t in, bool as_1x1_conv);
  StateEntry* bias(const std::string& key, int64_t size);
  struct BnEntries {
    StateEntry *weight, *bias, *running_mean, *running_var, *num_batches_tracked;
  };
  BnEntries batchnorm(const std::string& prefix, int64_t channels);

  const std::vector<std::unique_ptr<StateEntry>>& entries() const { return entries_; }
  StateEntry* find(const std::string& key) const;
  int64_t parameter_count() const;
  void zero_grad();
  // Moves every value and gradient to `device`; num_batches_tracked stays on the host, where
  // BatchNorm counts its batches.
  void to(Device device);
  void set_seed(uint64_t seed) { seed_ = seed; }

 private:
  StateEntry* add(const std::string& key, EntryKind kind, Shape torch_shape, Shape engine_shape, bool parameter);
  std::vector<std::unique_ptr<StateEntry>> entries_;
  uint64_t seed_ = 0;
};

}  // namespace pix::nn
