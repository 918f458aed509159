#include "nn/model.h"

#include <chrono>

#include "core/cuda/graph.h"
#include "core/cuda/runtime.h"
#include "core/cuda_dispatch.h"
#include "core/error.h"
#include "ops/cast.h"
#include "nn/bottleneck.h"
#include "nn/pix_bottleneck.h"
#include "ops/dropout.h"
#include "ops/global_avg_pool.h"
#include "ops/linear.h"

namespace pix::nn {
namespace {

constexpr std::array<int, 4> kStageStride{1, 2, 2, 2};
constexpr std::array<int, 4> kPixFirstZeta{1, 2, 2, 2};
constexpr int kPixZeta = 4;

}  // namespace

Model::Model(const ModelConfig& config, uint64_t init_seed) : config_(config) {
  state_.set_seed(init_seed);
  const bool pix = config.family == Family::PiX;
  const bool imagenet = config.stem == Stem::ImageNet;
  const ConvParams stem_conv = imagenet ? ConvParams{7, 2, 3} : ConvParams{3, 1, 1};
  stem_ = std::make_unique<ConvBn>(state_, pix ? "conv_stem.weight" : "conv1.weight", pix ? "bn_stem" : "bn1", 3,
                                   config.stem_width, stem_conv, /*relu=*/true);
  std::vector<size_t> part_ends{state_.entries().size()};  // where each part's state entries end
  int64_t in = config.stem_width;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t out = config.widths[stage];
    for (int j = 0; j < config.blocks[stage]; ++j) {
      const int stride = j == 0 ? kStageStride[stage] : 1;
      const std::string layer = "layer" + std::to_string(stage + 1);
      const std::string name = pix ? layer + ".blocks." + std::to_string(j) : layer + "." + std::to_string(j);
      if (pix)
        blocks_.push_back(std::make_unique<PixBottleneck>(state_, name, in, out, j == 0 ? kPixFirstZeta[stage] : kPixZeta,
                                                          stride, j == 0));
      else
        blocks_.push_back(std::make_unique<Bottleneck>(state_, name, in, out, stride));
      block_names_.push_back(name);
      part_ends.push_back(state_.entries().size());
      in = out;
    }
  }
  head_weight_ = state_.linear_weight(pix ? "classifier.weight" : "fc.weight", config.num_classes, in, /*as_1x1_conv=*/pix);
  head_bias_ = state_.bias(pix ? "classifier.bias" : "fc.bias", config.num_classes);
  part_ends.push_back(state_.entries().size());
  // Each part registered its own entries as it was built, in network order: the stem's first.
  size_t next = 0;
  for (size_t end : part_ends) {
    std::vector<StateEntry*>& owned = part_parameters_.emplace_back();
    for (; next < end; ++next) {
      StateEntry* entry = state_.entries()[next].get();
      if (entry->is_parameter()) owned.push_back(entry);
    }
  }
}

void Model::set_profiling(bool on) {
  profiling_ = on;
  profile_.clear();
  if (!on) return;
  profile_.push_back({"stem"});
  for (const std::string& name : block_names_) profile_.push_back({name});
  profile_.push_back({"head"});
}

template <typename Body>
void Model::timed(size_t part, bool forward, Body&& body) {
  if (!profiling_) {
    body();
    return;
  }
  // A part's kernels may still be queued on the device when its call returns: wait for them.
  const auto settle = [this] {
    if (device_.is_cuda()) PIX_CUDA_CALL(cuda::synchronize(device_.index));
  };
  settle();
  const auto start = std::chrono::steady_clock::now();
  body();
  settle();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PartTime& entry = profile_[part];
  (forward ? entry.forward_seconds : entry.backward_seconds) += seconds;
  ++(forward ? entry.forwards : entry.backwards);
}

Tensor Model::forward(const Tensor& x, const ForwardOptions& options) {
  PIX_CHECK(x.dim() == 4 && x.size(3) == 3, "model input must be (N,H,W,3) images, got ", shape_str(x.shape()));
  PIX_CHECK(x.dtype() == DType::F32, "model input must be f32, got ", dtype_name(x.dtype()));
  PIX_CHECK(x.device() == device_, "model input is on ", x.device().str(), " but the model is on ", device_.str());
  if (device_.is_cuda() && !options.train && !profiling_ && !graph_failed_) {
    PIX_CUDA_CALL(if (cuda::graphs_enabled()) return forward_replayed(x, options));
  }
  // Training writes the weights, so an evaluation graph would be remade anyway: its pool goes back
  // to the cache now rather than sit beside the training step's activations.
  if (options.train) graph_.reset();
  return forward_eager(x, options);
}

// ---- CUDA graphs ---------------------------------------------------------------------------------

struct Model::ForwardGraph {
  uint64_t key;
  Tensor input, output;  // outlive the graph: it reads and writes them at every replay
  // Shared, not unique: its deleter is bound where it is made, inside PIX_CUDA_CALL, so a build
  // without the CUDA backend never references cuda::Graph's destructor.
  std::shared_ptr<cuda::Graph> graph;
};

Model::~Model() = default;

uint64_t Model::graph_key(const Tensor& x, const ForwardOptions& options) const {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over everything the captured work depends on
  const auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
  };
  for (int64_t d : x.shape()) mix(static_cast<uint64_t>(d));
  mix(static_cast<uint64_t>(activations_));
  mix(options.fold_batchnorm);
  for (const auto& e : state_.entries()) {
    mix(reinterpret_cast<uintptr_t>(e->value().raw_data()));
    mix(e->version());
  }
  return h;
}

Tensor Model::forward_replayed(const Tensor& x, const ForwardOptions& options) {
  const uint64_t key = graph_key(x, options);
  if (!graph_ || graph_->key != key) {
    graph_.reset();  // its pool goes back before the new forward allocates
    forward_eager(x, options);  // chooses every algorithm and fills every cache the capture needs
    auto g = std::make_unique<ForwardGraph>();
    g->key = key;
    g->input = Tensor::empty(x.shape(), x.dtype(), device_);
    try {
      PIX_CUDA_CALL(g->graph = std::make_shared<cuda::Graph>(device_.index,
                                                             [&] { g->output = forward_eager(g->input, options); }));
    } catch (const Error& e) {
      // The captured forward queued nothing, so what it left in the model (saved tensors, gates) is
      // not computed: run it once more for real, and stay without graphs.
      graph_failed_ = true;
      PIX_CUDA_CALL(cuda::count_graph_failure(e.what()));
      return forward_eager(x, options);
    }
    graph_ = std::move(g);
  }
  graph_->input.copy_from(x);
  PIX_CUDA_CALL(graph_->graph->launch());
  Tensor logits = Tensor::empty(graph_->output.shape(), graph_->output.dtype(), device_);
  logits.copy_from(graph_->output);  // the next replay overwrites the graph's own
  return logits;
}

Tensor Model::forward_eager(const Tensor& x, const ForwardOptions& options) {
  const BatchNormSyncScope synced(options.train ? batchnorm_sync_.get() : nullptr);
  const Tensor input = activations_ == DType::F32 ? x : cast(x, activations_);
  const bool fold = !options.train && options.fold_batchnorm && ConvBn::can_infer(input);
  Tensor t;
  timed(0, true, [&] {
    t = fold ? stem_->infer(input) : stem_->forward(input, options.train);
    stem_out_ = t;
    if (config_.stem == Stem::ImageNet) t = maxpool_forward(t, pool_);
  });
  block_inputs_.clear();
  Tensor mean;  // t's global average pool, when the block before took it on the way out
  for (size_t i = 0; i < blocks_.size(); ++i) {
    block_inputs_.push_back(t.shape());
    timed(1 + i, true, [&] {
      // The next gate, or the head, reads the output's mean: the block takes it on the way out.
      const bool take_mean = i + 1 == blocks_.size() || blocks_[i + 1]->reads_input_mean();
      Tensor next_mean;
      Tensor* y_mean = take_mean ? &next_mean : nullptr;
      t = fold ? blocks_[i]->infer(t, mean, y_mean) : blocks_[i]->forward(t, options.train, mean, y_mean);
      mean = next_mean;
    });
  }
  Tensor logits;
  timed(1 + blocks_.size(), true, [&] {
    pooled_ = t;
    head_in_ = mean.defined() ? mean : global_avg_pool_forward(t);
    features_ = head_in_;
    dropout_mask_ = Tensor();
    if (options.train && options.dropout && config_.drop > 0.f)
      features_ = dropout_forward(head_in_, config_.drop, options.seed, dropout_mask_);
    // Evaluation keeps the classifier's panels (1000 x 2048: a fifth of a batch-1 image's packing).
    GemmPackedB* kept = nullptr;
    if (!options.train) {
      head_panels_->track(head_weight_->value(), head_weight_->version());
      kept = head_panels_.get();
    } else {
      head_panels_->clear();
    }
    logits = linear_forward(features_, head_weight_->value(), head_bias_->value(), kept);
  });
  last_forward_trained_ = options.train;
  return logits;
}

void Model::backward(const Tensor& dlogits, GradientListener* listener) {
  PIX_CHECK(last_forward_trained_, "backward needs a training-mode forward first");
  PIX_CHECK(dlogits.shape() == Shape({head_in_.size(0), config_.num_classes}), "backward: dlogits must be (",
            head_in_.size(0), ",", config_.num_classes, "), got ", shape_str(dlogits.shape()));
  PIX_CHECK(dlogits.dtype() == DType::F32 && dlogits.device() == device_, "backward: dlogits must be f32 on ",
            device_.str(), ", got ", dtype_name(dlogits.dtype()), " on ", dlogits.device().str());
  const BatchNormSyncScope synced(batchnorm_sync_.get());
  Tensor d;
  timed(1 + blocks_.size(), false, [&] {
    Tensor dfeatures = Tensor::zeros(head_in_.shape(), DType::F32, device_);
    linear_backward(features_, head_weight_->value(), dlogits, dfeatures, head_weight_->grad, head_bias_->grad);
    if (dropout_mask_.defined()) {
      Tensor dpooled = Tensor::zeros(head_in_.shape(), DType::F32, device_);
      dropout_backward(dfeatures, dropout_mask_, dpooled);
      dfeatures = dpooled;
    }
    d = Tensor::zeros(pooled_.shape(), activations_, device_);
    global_avg_pool_backward(dfeatures, d);
  });
  const auto ready = [&](size_t part) {
    if (listener) listener->gradients_ready(part_parameters_[part]);
  };
  ready(1 + blocks_.size());
  for (size_t i = blocks_.size(); i-- > 0;) {
    timed(1 + i, false, [&] {
      Tensor dx = Tensor::empty(block_inputs_[i], activations_, device_);
      blocks_[i]->backward(d, dx);
      d = dx;
    });
    ready(1 + i);
  }
  timed(0, false, [&] {
    if (config_.stem == Stem::ImageNet) {
      Tensor dstem = Tensor::empty(stem_out_.shape(), activations_, device_);
      maxpool_backward(stem_out_, d, pool_, dstem);
      d = dstem;
    }
    Tensor no_input_grad;  // the images need no gradient
    stem_->backward(d, no_input_grad, GradWrite::Accumulate);
  });
  ready(0);
}

std::vector<GateRecord> Model::last_gates() const {
  std::vector<GateRecord> out;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    Tensor p = blocks_[i]->last_gate();
    if (p.defined()) out.push_back({block_names_[i], blocks_[i]->gate_tau(), p});
  }
  return out;
}

void Model::to(Device device, DType activations) {
  PIX_CHECK(activations == DType::F32 || activations == DType::BF16, "Model.to: activations must be f32 or bf16, got ",
            dtype_name(activations));
  PIX_CHECK(activations == DType::F32 || device.is_cuda(), "Model.to: bf16 activations need a CUDA device; the CPU ",
            "computes in f32 (see setCpuPrecision for bf16 matrix products there)");
  graph_.reset();  // captured for the old placement
  state_.to(device);
  device_ = device;
  activations_ = activations;
  // Saved activations belong to the old placement: a backward now needs a new forward.
  stem_out_ = pooled_ = head_in_ = dropout_mask_ = features_ = Tensor();
  last_forward_trained_ = false;
}

int64_t Model::macs(int64_t input_size) const {
  const ConvParams& sp = stem_->conv().params();
  int64_t h = (input_size + 2 * sp.pad - sp.kernel) / sp.stride + 1, w = h;
  int64_t total = stem_->conv().macs(h, w);
  if (config_.stem == Stem::ImageNet) h = w = (h + 2 * pool_.pad - pool_.kernel) / pool_.stride + 1;
  for (const auto& block : blocks_) total += block->macs(h, w);
  return total + head_weight_->value().numel();
}

}  // namespace pix::nn
