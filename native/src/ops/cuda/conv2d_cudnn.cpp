// cuDNN's convolutions behind cuda::conv2d_*: plans (descriptors + chosen algorithms) per shape,
// chosen by heuristics or by timing, workspaces from the caching allocator. See conv2d_cudnn.h.
#include "ops/cuda/conv2d_cudnn.h"

#include <climits>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/cuda/check.h"
#include "core/cuda/runtime.h"
#include "core/error.h"
#include "ops/cuda/cudnn.h"
#include "ops/cuda/gemm.h"

namespace pix::cuda {
namespace {

namespace dnn = cudnn;

enum Direction { kForward = 0, kBackwardData = 1, kBackwardFilter = 2 };

// One direction's algorithm, decided on its first call.
struct Choice {
  bool decided = false;
  bool usable = false;  // false: no algorithm fits the settings; the own path runs
  int algo = 0;
  size_t workspace = 0;
  dnn::MathType math = dnn::kDefaultMath;
  std::string refusal;  // the fused call's: what cuDNN said to each algorithm it refused
};

enum Fused { kFusedRelu = 0, kFusedIdentity = 1 };

// A shape's descriptors and choices. Shared, so a call in flight keeps its plan while
// set_conv_settings() forgets the cache.
struct Plan {
  dnn::TensorDescriptor x = nullptr, y = nullptr;
  dnn::FilterDescriptor w = nullptr;
  dnn::ConvolutionDescriptor conv = nullptr;
  Choice choice[3];
  // The fused forward's, made on its first call: the bias (1,K,1,1) and the two activations.
  dnn::TensorDescriptor bias = nullptr;
  dnn::ActivationDescriptor act[2] = {nullptr, nullptr};
  Choice fused[2];

  ~Plan() {
    const dnn::Api* a = dnn::api();
    if (a == nullptr) return;
    if (x) a->DestroyTensorDescriptor(x);
    if (y) a->DestroyTensorDescriptor(y);
    if (w) a->DestroyFilterDescriptor(w);
    if (conv) a->DestroyConvolutionDescriptor(conv);
    if (bias) a->DestroyTensorDescriptor(bias);
    for (dnn::ActivationDescriptor d : act)
      if (d) a->DestroyActivationDescriptor(d);
  }
};

using PlanKey = std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t, int, int, int, DType, bool>;

std::mutex state_mutex;  // guards settings, settings_read and plans
ConvSettings settings;
bool settings_read = false;
std::map<PlanKey, std::shared_ptr<Plan>> plans;

bool env_flag(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::string(v) != "0";
}

ConvSettings settings_from_environment() {
  ConvSettings s;
  s.benchmark = env_flag("PIX_CUDNN_BENCHMARK", false);
  s.deterministic = env_flag("PIX_CUDNN_DETERMINISTIC", true);
  s.fused = env_flag("PIX_CUDNN_FUSED", true);
  if (const char* mib = std::getenv("PIX_CUDNN_WORKSPACE_MIB")) {
    char* end = nullptr;
    const long long v = std::strtoll(mib, &end, 10);
    PIX_CHECK(end != mib && *end == '\0' && v >= 0, "PIX_CUDNN_WORKSPACE_MIB must be a whole number of MiB, got '",
              mib, "'");
    s.workspace_limit = static_cast<size_t>(v) << 20;
  }
  return s;
}

ConvSettings current_settings() {
  std::lock_guard<std::mutex> lock(state_mutex);
  if (!settings_read) settings = settings_from_environment(), settings_read = true;
  return settings;
}

std::string shape_text(const ConvShape& s, DType dt) {
  return concat("x ", s.n, "x", s.h, "x", s.w, "x", s.c, " ", dtype_name(dt), ", w ", s.o, "x", s.kernel, "x",
                s.kernel, "x", s.c, ", stride ", s.stride, ", pad ", s.pad);
}

void check(dnn::Status status, const char* call, const ConvShape& s, DType dt) {
  if (status == dnn::kSuccess) return;
  // Phrased as the caching allocator phrases it, so the trainer suggests a smaller batch.
  const char* oom = static_cast<int>(status) == 4004 ? "CUDA out of memory inside cuDNN: " : "";
  throw Error(concat(oom, call, " failed (", dnn::status_string(status), ") for ", shape_text(s, dt),
                     "; PIX_CUDNN=0 runs the own convolutions instead"));
}

bool fits_int(const ConvShape& s) {
  const int64_t in = s.n * s.h * s.w * s.c, out = s.n * s.p * s.q * s.o;
  return in <= INT_MAX && out <= INT_MAX && s.o * s.kernel * s.kernel * s.c <= INT_MAX;
}

std::shared_ptr<Plan> make_plan(const dnn::Api& a, const ConvShape& s, DType dt) {
  auto p = std::make_shared<Plan>();
  const dnn::DataType type = dt == DType::BF16 ? dnn::kBFloat16 : dnn::kFloat;
  const ConvShape c = s;
  auto make = [&](dnn::Status st, const char* call) { check(st, call, c, dt); };
  make(a.CreateTensorDescriptor(&p->x), "cudnnCreateTensorDescriptor");
  make(a.SetTensor4dDescriptor(p->x, dnn::kNhwc, type, int(s.n), int(s.c), int(s.h), int(s.w)),
       "cudnnSetTensor4dDescriptor (x)");
  make(a.CreateTensorDescriptor(&p->y), "cudnnCreateTensorDescriptor");
  make(a.SetTensor4dDescriptor(p->y, dnn::kNhwc, type, int(s.n), int(s.o), int(s.p), int(s.q)),
       "cudnnSetTensor4dDescriptor (y)");
  make(a.CreateFilterDescriptor(&p->w), "cudnnCreateFilterDescriptor");
  make(a.SetFilter4dDescriptor(p->w, type, dnn::kNhwc, int(s.o), int(s.c), s.kernel, s.kernel),
       "cudnnSetFilter4dDescriptor");
  make(a.CreateConvolutionDescriptor(&p->conv), "cudnnCreateConvolutionDescriptor");
  // PyTorch's convolutions are cross-correlations; products sum in f32 whatever the data type.
  make(a.SetConvolution2dDescriptor(p->conv, s.pad, s.pad, s.stride, s.stride, 1, 1, dnn::kCrossCorrelation,
                                    dnn::kFloat),
       "cudnnSetConvolution2dDescriptor");
  return p;
}

// f32 without TF32 wants cuDNN's FMA math (TF32 rounds inputs to 10 mantissa bits); bf16, and f32
// with TF32, take tensor cores.
dnn::MathType wanted_math(DType dt, bool tf32) {
  if (dt == DType::BF16) return dnn::kTensorOpMath;
  return tf32 ? dnn::kDefaultMath : dnn::kFmaMath;
}

bool math_allowed(dnn::MathType math, DType dt, bool tf32) { return dt == DType::BF16 || tf32 || math == dnn::kFmaMath; }

// A workspace: bytes from the caching allocator, as a tensor so it goes back when the call is
// queued (the engine's work on a device is ordered on one stream, so a later user of the block runs
// after it). Zero bytes hold no memory (raw_data() is null).
Tensor workspace(int device, size_t bytes) {
  return Tensor::empty({static_cast<int64_t>(bytes)}, DType::U8, Device::cuda(device));
}

// The largest workspace up to `limit` the device can give now, for timing algorithms: halved
// after each out-of-memory, down to none.
Tensor largest_workspace(int device, size_t limit) {
  for (size_t bytes = limit; bytes >= (size_t{1} << 20); bytes /= 2) {
    try {
      return workspace(device, bytes);
    } catch (const Error&) {
    }
  }
  return workspace(device, 0);
}

// The tensors of one call, as the three directions name them.
struct Operands {
  const Tensor* x;   // forward and backward filter
  const Tensor* w;   // forward and backward data
  const Tensor* dy;  // backward data and filter
  Tensor* out;       // y, dx or dw
};

// One call of the engine's convolution on cuDNN: the plan and handle, and the direction's choice.
class Call {
 public:
  // False when cuDNN is not to run this convolution (nothing was queued).
  bool begin(int device, const ConvShape& s, DType dt) {
    cfg_ = current_settings();
    if (cfg_.backend == ConvBackend::Own || !fits_int(s)) return false;
    api_ = dnn::api();
    if (api_ == nullptr) return false;
    set_device(device);
    handle_ = dnn::handle(device);
    if (handle_ == nullptr) return false;
    device_ = device, s_ = s, dt_ = dt, tf32_ = dt == DType::F32 && gemm_tf32();
    const PlanKey key{device, s.n, s.h, s.w, s.c, s.o, s.kernel, s.stride, s.pad, dt, tf32_};
    std::lock_guard<std::mutex> lock(state_mutex);
    auto found = plans.find(key);
    if (found == plans.end()) found = plans.emplace(key, make_plan(*api_, s, dt)).first;
    plan_ = found->second;
    return true;
  }

  // The direction's algorithm, chosen on its first call; the caller holds the handle's mutex.
  const Choice& choose(Direction d, const Operands& ops) {
    Choice& c = plan_->choice[d];
    if (c.decided) return c;
    check(api_->SetConvolutionMathType(plan_->conv, wanted_math(dt_, tf32_)), "cudnnSetConvolutionMathType", s_, dt_);
    dnn::AlgoPerf results[dnn::kMaxAlgorithms] = {};
    int returned = 0;
    size_t workspace_cap = cfg_.workspace_limit;
    if (cfg_.benchmark) {
      const Tensor ws = largest_workspace(device_, cfg_.workspace_limit);
      workspace_cap = ws.nbytes();
      time_algorithms(d, ops, ws, results, &returned);
    } else {
      check(heuristics(d, results, &returned), "cudnnGetConvolution*Algorithm_v7", s_, dt_);
    }
    c.decided = true;
    for (int i = 0; i < returned; ++i) {
      const dnn::AlgoPerf& r = results[i];
      if (r.status != dnn::kSuccess || !math_allowed(r.math_type, dt_, tf32_)) continue;
      if (cfg_.deterministic && r.determinism != dnn::kDeterministic) continue;
      size_t bytes = 0;
      if (workspace_size(d, r.algo, r.math_type, &bytes) != dnn::kSuccess || bytes > workspace_cap) continue;
      c.usable = true, c.algo = r.algo, c.workspace = bytes, c.math = r.math_type;
      break;
    }
    return c;
  }

  // The fused forward's algorithm for this call's activation, tried on the call's own operands
  // the first time (ran: that try computed y). Not usable: cuDNN refused every candidate.
  const Choice& choose_fused(Fused f, const Operands& ops, const std::function<dnn::Status(const Choice&)>& attempt,
                             bool* ran) {
    *ran = false;
    Choice& c = plan_->fused[f];
    if (c.decided) return c;
    c.decided = true;
    if (!describe_fused(f, &c.refusal)) return c;
    // ReLU: the forward's own algorithm first (cuDNN's pick for the shape), then the one the fused
    // call is documented for; identity: that one only.
    std::vector<std::pair<int, dnn::MathType>> candidates;
    if (f == kFusedRelu) {
      const Choice& forward = choose(kForward, ops);
      if (forward.usable) candidates.emplace_back(forward.algo, forward.math);
    }
    if (candidates.empty() || candidates[0].first != dnn::kFwdAlgoImplicitPrecompGemm)
      candidates.emplace_back(dnn::kFwdAlgoImplicitPrecompGemm, wanted_math(dt_, tf32_));
    for (const auto& [algo, math] : candidates) {
      Choice trial;
      trial.algo = algo, trial.math = math;
      dnn::Status st = workspace_size(kForward, algo, math, &trial.workspace);
      if (st == dnn::kSuccess && trial.workspace > cfg_.workspace_limit) {
        c.refusal += concat(c.refusal.empty() ? "" : "; ", "algorithm ", algo, " needs ", trial.workspace >> 20,
                            " MiB of workspace, above PIX_CUDNN_WORKSPACE_MIB");
        continue;
      }
      if (st == dnn::kSuccess) st = attempt(trial);
      if (st == dnn::kSuccess) {
        c.usable = true, c.algo = algo, c.workspace = trial.workspace, c.math = math;
        *ran = true;
        return c;
      }
      c.refusal += concat(c.refusal.empty() ? "" : "; ", "algorithm ", algo, ": ", dnn::status_string(st));
    }
    return c;
  }

  const ConvSettings& settings() const { return cfg_; }
  const dnn::Api& api() const { return *api_; }
  dnn::Handle handle() const { return handle_; }
  Plan& plan() const { return *plan_; }
  int device() const { return device_; }
  void check_call(dnn::Status status, const char* call) const { check(status, call, s_, dt_); }

 private:
  // The fused call's descriptors, made once per plan; false with the reason when they cannot be.
  bool describe_fused(Fused f, std::string* why) {
    Plan& p = *plan_;
    if (!api_->ConvolutionBiasActivationForward || !api_->CreateActivationDescriptor ||
        !api_->SetActivationDescriptor || !api_->DestroyActivationDescriptor) {
      *why = "this cuDNN lacks cudnnConvolutionBiasActivationForward";
      return false;
    }
    const dnn::DataType type = dt_ == DType::BF16 ? dnn::kBFloat16 : dnn::kFloat;
    dnn::Status st = dnn::kSuccess;
    if (p.bias == nullptr) {
      st = api_->CreateTensorDescriptor(&p.bias);
      if (st == dnn::kSuccess) st = api_->SetTensor4dDescriptor(p.bias, dnn::kNchw, type, 1, int(s_.o), 1, 1);
    }
    if (st == dnn::kSuccess && p.act[f] == nullptr) {
      st = api_->CreateActivationDescriptor(&p.act[f]);
      if (st == dnn::kSuccess)
        st = api_->SetActivationDescriptor(p.act[f], f == kFusedRelu ? dnn::kActivationRelu : dnn::kActivationIdentity,
                                           dnn::kNotPropagateNan, 0.0);
    }
    if (st != dnn::kSuccess) *why = concat("describing the bias or activation: ", dnn::status_string(st));
    return st == dnn::kSuccess;
  }

  dnn::Status heuristics(Direction d, dnn::AlgoPerf* r, int* n) {
    Plan& p = *plan_;
    const int max = dnn::kMaxAlgorithms;
    switch (d) {
      case kForward: return api_->GetConvolutionForwardAlgorithm_v7(handle_, p.x, p.w, p.conv, p.y, max, n, r);
      case kBackwardData: return api_->GetConvolutionBackwardDataAlgorithm_v7(handle_, p.w, p.y, p.conv, p.x, max, n, r);
      default: return api_->GetConvolutionBackwardFilterAlgorithm_v7(handle_, p.x, p.y, p.conv, p.w, max, n, r);
    }
  }

  // Runs every algorithm once on the call's own inputs. Backward outputs go to scratch tensors: the
  // real dx may hold a gradient to accumulate onto, and dw one to scale by beta.
  void time_algorithms(Direction d, const Operands& ops, const Tensor& ws, dnn::AlgoPerf* r, int* n) {
    Plan& p = *plan_;
    const int max = dnn::kMaxAlgorithms;
    dnn::Status status;
    if (d == kForward) {
      status = api_->FindConvolutionForwardAlgorithmEx(handle_, p.x, ops.x->raw_data(), p.w, ops.w->raw_data(), p.conv,
                                                       p.y, ops.out->raw_data(), max, n, r, ws.raw_data(), ws.nbytes());
    } else {
      Tensor scratch = Tensor::empty(ops.out->shape(), ops.out->dtype(), ops.out->device());
      status = d == kBackwardData
                   ? api_->FindConvolutionBackwardDataAlgorithmEx(handle_, p.w, ops.w->raw_data(), p.y,
                                                                  ops.dy->raw_data(), p.conv, p.x, scratch.raw_data(),
                                                                  max, n, r, ws.raw_data(), ws.nbytes())
                   : api_->FindConvolutionBackwardFilterAlgorithmEx(handle_, p.x, ops.x->raw_data(), p.y,
                                                                    ops.dy->raw_data(), p.conv, p.w,
                                                                    scratch.raw_data(), max, n, r, ws.raw_data(), ws.nbytes());
    }
    check(status, "cudnnFindConvolution*AlgorithmEx", s_, dt_);
  }

  // The workspace an algorithm needs, asked with the math type it was reported with.
  dnn::Status workspace_size(Direction d, int algo, dnn::MathType math, size_t* bytes) {
    Plan& p = *plan_;
    dnn::Status st = api_->SetConvolutionMathType(p.conv, math);
    if (st != dnn::kSuccess) return st;
    switch (d) {
      case kForward: return api_->GetConvolutionForwardWorkspaceSize(handle_, p.x, p.w, p.conv, p.y, algo, bytes);
      case kBackwardData:
        return api_->GetConvolutionBackwardDataWorkspaceSize(handle_, p.w, p.y, p.conv, p.x, algo, bytes);
      default: return api_->GetConvolutionBackwardFilterWorkspaceSize(handle_, p.x, p.y, p.conv, p.w, algo, bytes);
    }
  }

  ConvSettings cfg_;
  const dnn::Api* api_ = nullptr;
  dnn::Handle handle_ = nullptr;
  std::shared_ptr<Plan> plan_;
  int device_ = 0;
  ConvShape s_{};
  DType dt_ = DType::F32;
  bool tf32_ = false;
};

const float kOne = 1.f, kZero = 0.f;

// Chooses (first time) and runs one direction: run(choice, workspace) makes the cuDNN call.
template <typename Run>
bool run_direction(const Tensor& any, const ConvShape& s, Direction d, const Operands& ops, Run&& run) {
  Call call;
  if (!call.begin(any.device().index, s, any.dtype())) return false;
  std::lock_guard<std::mutex> lock(dnn::handle_mutex(call.device()));
  const Choice& c = call.choose(d, ops);
  if (!c.usable) return false;
  call.check_call(call.api().SetConvolutionMathType(call.plan().conv, c.math), "cudnnSetConvolutionMathType");
  const Tensor ws = workspace(call.device(), c.workspace);
  run(call, c, ws);
  return true;
}

}  // namespace

ConvSettings conv_settings() { return current_settings(); }

void set_conv_settings(const ConvSettings& s) {
  std::lock_guard<std::mutex> lock(state_mutex);
  settings = s, settings_read = true;
  plans.clear();
}

bool cudnn_conv_forward(const Tensor& x, const Tensor& w, const ConvShape& s, Tensor& y) {
  return run_direction(x, s, kForward, {&x, &w, nullptr, &y}, [&](Call& call, const Choice& c, const Tensor& ws) {
    Plan& p = call.plan();
    call.check_call(call.api().ConvolutionForward(call.handle(), &kOne, p.x, x.raw_data(), p.w, w.raw_data(), p.conv,
                                                  c.algo, ws.raw_data(), ws.nbytes(), &kZero, p.y, y.raw_data()),
                    "cudnnConvolutionForward");
  });
}

bool cudnn_conv_bias_act_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& z, bool relu,
                                 const ConvShape& s, Tensor& y) {
  Call call;
  if (!call.begin(x.device().index, s, x.dtype()) || !call.settings().fused) return false;
  std::lock_guard<std::mutex> lock(dnn::handle_mutex(call.device()));
  Plan& p = call.plan();
  const Fused f = relu ? kFusedRelu : kFusedIdentity;
  // Without a residual, z is y itself with alpha2 = 0, which cuDNN does not read.
  const float alpha2 = z.defined() ? 1.f : 0.f;
  const void* z_data = z.defined() ? z.raw_data() : y.raw_data();
  Tensor ws;
  const auto run = [&](const Choice& c) {
    dnn::Status st = call.api().SetConvolutionMathType(p.conv, c.math);
    if (st != dnn::kSuccess) return st;
    ws = workspace(call.device(), c.workspace);
    return call.api().ConvolutionBiasActivationForward(call.handle(), &kOne, p.x, x.raw_data(), p.w, w.raw_data(),
                                                        p.conv, c.algo, ws.raw_data(), ws.nbytes(), &alpha2, p.y,
                                                        z_data, p.bias, bias.raw_data(), p.act[f], p.y, y.raw_data());
  };
  bool ran = false;
  const Choice& c = call.choose_fused(f, {&x, &w, nullptr, &y}, run, &ran);
  if (!c.usable) return false;
  if (!ran) call.check_call(run(c), "cudnnConvolutionBiasActivationForward");
  return true;
}

bool cudnn_conv_backward_data(const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor& dx, bool overwrite) {
  return run_direction(dy, s, kBackwardData, {nullptr, &w, &dy, &dx}, [&](Call& call, const Choice& c,
                                                                          const Tensor& ws) {
    Plan& p = call.plan();
    call.check_call(call.api().ConvolutionBackwardData(call.handle(), &kOne, p.w, w.raw_data(), p.y, dy.raw_data(),
                                                       p.conv, c.algo, ws.raw_data(), ws.nbytes(), overwrite ? &kZero : &kOne,
                                                       p.x, dx.raw_data()),
                    "cudnnConvolutionBackwardData");
  });
}

bool cudnn_conv_backward_filter(const Tensor& x, const Tensor& dy, const ConvShape& s, Tensor& dw, float beta) {
  return run_direction(x, s, kBackwardFilter, {&x, nullptr, &dy, &dw}, [&](Call& call, const Choice& c,
                                                                           const Tensor& ws) {
    Plan& p = call.plan();
    call.check_call(call.api().ConvolutionBackwardFilter(call.handle(), &kOne, p.x, x.raw_data(), p.y, dy.raw_data(),
                                                         p.conv, c.algo, ws.raw_data(), ws.nbytes(), &beta, p.w,
                                                         dw.raw_data()),
                    "cudnnConvolutionBackwardFilter");
  });
}

std::vector<ConvPlanInfo> conv_plans() {
  std::vector<ConvPlanInfo> out;
  std::lock_guard<std::mutex> lock(state_mutex);
  for (const auto& [key, plan] : plans) {
    ConvPlanInfo info;
    ConvShape& s = info.shape;
    std::tie(info.device, s.n, s.h, s.w, s.c, s.o, s.kernel, s.stride, s.pad, info.dtype, info.tf32) = key;
    s.p = (s.h + 2 * s.pad - s.kernel) / s.stride + 1;
    s.q = (s.w + 2 * s.pad - s.kernel) / s.stride + 1;
    ConvChoiceInfo* directions[] = {&info.forward, &info.backward_data, &info.backward_filter};
    // Choices are written under the device's handle mutex: read them under it too.
    std::lock_guard<std::mutex> handle_lock(dnn::handle_mutex(info.device));
    for (int d = 0; d < 3; ++d) {
      const Choice& c = plan->choice[d];
      *directions[d] = {c.decided, c.usable, c.usable ? c.algo : -1, c.workspace, static_cast<int>(c.math)};
    }
    ConvChoiceInfo* fused[] = {&info.fused_relu, &info.fused_identity};
    for (int f = 0; f < 2; ++f) {
      const Choice& c = plan->fused[f];
      *fused[f] = {c.decided, c.usable, c.usable ? c.algo : -1, c.workspace, static_cast<int>(c.math), c.refusal};
    }
    out.push_back(info);
  }
  return out;
}

ConvPathInfo conv_path_info() {
  ConvPathInfo info;
  const dnn::LibraryStatus lib = dnn::library_status();
  const ConvSettings cfg = current_settings();
  info.cudnn_loaded = lib.available;
  info.library_path = lib.path;
  const std::string failure = lib.available ? dnn::first_device_failure() : "";
  if (!lib.available) {
    info.description = concat("own im2col + gemm (", lib.reason, ")");
  } else if (cfg.backend == ConvBackend::Own) {
    info.description = concat("own im2col + gemm (set to 'own' in this process; cuDNN ", lib.version, " is loaded)");
  } else if (!failure.empty()) {
    info.description = concat("own im2col + gemm (", failure, ")");
  } else {
    info.on_cudnn = true;
    info.description = concat("cudnn ", lib.version, " (", cfg.benchmark ? "timed" : "heuristic", " algorithms, ",
                              cfg.deterministic ? "deterministic only" : "any algorithm", ", workspace up to ",
                              cfg.workspace_limit >> 20, " MiB)");
  }
  return info;
}

}  // namespace pix::cuda
