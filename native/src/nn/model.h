// A classification network assembled from layers: stem -> 4 stages of bottleneck blocks -> head.
// One class serves both families; the blocks (pix_bottleneck.h, bottleneck.h) and the key names
// differ. Input x is NHWC (N,H,W,3); output logits (N,classes).
//
// Placement: a model is built on the CPU in f32; to() moves it to a CUDA device and picks the dtype
// its activations (and their gradients) are computed in there: f32, or bf16 with f32 master
// weights, f32 parameter gradients and f32 BatchNorm statistics. Everything from the head's global
// pooling on (pooled features, logits) is f32 in either case.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "nn/layers.h"
#include "nn/model_config.h"
#include "ops/maxpool.h"

namespace pix::cuda {
class Graph;
}

namespace pix::nn {

class Block {
 public:
  virtual ~Block() = default;
  // x_mean: x's global average pool (N,C) when the block before took it on the way out, else
  // undefined; a non-null y_mean asks for the output's, taken by the residual join (BatchNormJoin).
  virtual Tensor forward(const Tensor& x, bool train, const Tensor& x_mean, Tensor* y_mean) = 0;
  // Evaluation with BatchNorm folded into the convolutions (ConvBn::infer, where can_infer). x_mean
  // is x's global average pool (N,C) when the layer before took it on the way out, else undefined;
  // a non-null y_mean asks for the output's, taken in the last convolution's epilogue.
  virtual Tensor infer(const Tensor& x, const Tensor& x_mean, Tensor* y_mean) = 0;
  // Whether infer reads x_mean (a PiX gate does): the block before then takes it.
  virtual bool reads_input_mean() const { return false; }
  virtual void backward(const Tensor& dy, Tensor& dx) = 0;  // dx overwritten: it need not be zeroed
  // Multiply-accumulates of the block's convolutions for an h x w input; updates h, w to the output.
  virtual int64_t macs(int64_t& h, int64_t& w) const = 0;
  // The gate values p (N,K) of the last forward, for blocks that have a gate (PiX); else undefined.
  virtual Tensor last_gate() const { return Tensor(); }
  virtual float gate_tau() const { return 0.f; }
};

// One gated block's gate values from the last forward, for inspection (the workbench's gate view).
struct GateRecord {
  std::string block;  // state-dict prefix, e.g. "layer2.blocks.1"
  float tau;
  Tensor values;      // (N,K) sigmoid outputs
};

// Wall time of one part of the network (the stem with its pooling, a block, the head), forward and
// backward, summed while profiling is on: the per-block view of a step (pix bench --profile). On
// CUDA each part ends with the device synchronised, so the parts add up to a slower step.
struct PartTime {
  std::string name;  // "stem", a block's state-dict prefix ("layer1.0", "layer1.blocks.0"), "head"
  double forward_seconds = 0, backward_seconds = 0;
  int64_t forwards = 0, backwards = 0;
};

// Told during Model::backward each time a part's parameter gradients are final (the head's first,
// then the blocks' from the last, the stem's last): data parallelism starts averaging them over
// the ranks while the rest of the backward runs (distributed/cuda/gradient_averager.h).
class GradientListener {
 public:
  virtual ~GradientListener() = default;
  virtual void gradients_ready(const std::vector<StateEntry*>& parameters) = 0;
};

struct ForwardOptions {
  bool train = false;    // BatchNorm uses (and updates) batch statistics
  bool dropout = false;  // head dropout active (only meaningful with train)
  uint64_t seed = 0;     // dropout mask seed
  // Evaluation on the CPU folds BatchNorm into the convolutions (ConvBn::infer); false runs BatchNorm
  // as its own layer, the reference the folded path is tested and measured against.
  bool fold_batchnorm = true;
};

// Evaluation forwards on CUDA run as a CUDA graph (core/cuda/graph.h) while cuda::graphs_enabled():
// the first forward of a shape runs as usual (choosing cuDNN algorithms and the like), is captured,
// and replayed; later forwards of that shape copy their images into the graph's input and replay.
// The graph is remade when the input's shape, the activations' dtype, the options or any state
// entry (its storage or a write to it) changes. A capture that fails leaves the model running its
// forwards one kernel at a time, and says why in cuda::graph_stats().
class Model {
 public:
  Model(const ModelConfig& config, uint64_t init_seed);
  ~Model();
  // x must be f32 and on the model's device (the binding moves it there).
  Tensor forward(const Tensor& x, const ForwardOptions& options);
  // Backward of the last training forward; accumulates into the parameter gradients, telling
  // `listener` (when given) of each part's as they become final.
  void backward(const Tensor& dlogits, GradientListener* listener = nullptr);
  StateDict& state() { return state_; }
  const ModelConfig& config() const { return config_; }
  int64_t macs(int64_t input_size) const;
  // Moves the state (StateDict::to) and drops saved activations; bf16 needs a CUDA device.
  void to(Device device, DType activations);
  Device device() const { return device_; }
  DType activation_dtype() const { return activations_; }
  // Gate values of every gated block from the last forward (empty for ResNet or before a forward).
  std::vector<GateRecord> last_gates() const;
  // SyncBatchNorm: training forwards and backwards combine every BatchNorm's statistics over the
  // ranks of `sync` (ops/batchnorm.h); null goes back to per-process statistics, DDP's default.
  void set_batchnorm_sync(std::shared_ptr<BatchNormSync> sync) { batchnorm_sync_ = std::move(sync); }
  bool batchnorm_synced() const { return batchnorm_sync_ != nullptr; }
  // Turning profiling on (or off) clears the times; profile() lists stem, blocks, head in order.
  void set_profiling(bool on);
  bool profiling() const { return profiling_; }
  const std::vector<PartTime>& profile() const { return profile_; }

 private:
  ModelConfig config_;
  Device device_ = Device::cpu();
  DType activations_ = DType::F32;
  StateDict state_;
  std::unique_ptr<ConvBn> stem_;
  PoolParams pool_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<std::string> block_names_;
  std::vector<std::vector<StateEntry*>> part_parameters_;  // stem, blocks, head: the parameters of each
  StateEntry* head_weight_;
  StateEntry* head_bias_;
  std::unique_ptr<GemmPackedB> head_panels_ = std::make_unique<GemmPackedB>();  // for evaluation
  // saved for backward
  Tensor stem_out_, pooled_, head_in_, dropout_mask_;
  Tensor features_;  // what the classifier saw: head_in_, or its dropped-out copy
  std::vector<Shape> block_inputs_;
  bool last_forward_trained_ = false;
  std::shared_ptr<BatchNormSync> batchnorm_sync_;
  bool profiling_ = false;
  std::vector<PartTime> profile_;
  struct ForwardGraph;
  std::unique_ptr<ForwardGraph> graph_;
  bool graph_failed_ = false;
  Tensor forward_eager(const Tensor& x, const ForwardOptions& options);
  Tensor forward_replayed(const Tensor& x, const ForwardOptions& options);
  uint64_t graph_key(const Tensor& x, const ForwardOptions& options) const;
  // Runs body, adding its wall time to part `part` (0 stem, 1 + i block i, last the head) when profiling.
  template <typename Body>
  void timed(size_t part, bool forward, Body&& body);
};

}  // namespace pix::nn
