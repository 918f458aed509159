// The CUDA emulator's cuDNN: a libcudnn.so.9 that the emulated engine opens in place of NVIDIA's
// (ops/cuda/cudnn.h), so that the engine's cuDNN convolution path (descriptors, the choice of
// algorithm, workspaces, alpha/beta) runs and is tested without a GPU. It exports the legacy
// convolution calls cudnn.h's Api lists, with cuDNN 9's signatures, status codes and names, and the
// marker pixCudaEmulatorCudnn by which the emulated engine tells it from a real cuDNN (which it
// refuses: that one would be handed host pointers).
//
// Made to catch what cuDNN would refuse or what a GPU would hide:
// - every call checks its arguments as cuDNN does (shapes, data types, algorithm, workspace) and
//   says exactly what it objected to in cudnnGetLastErrorString;
// - beta == 0 never reads the output, which may hold NaN (cuDNN's rule; the emulator fills new
//   memory with NaN, so an engine that leaves it there and then asks beta == 1 sees NaN);
// - an algorithm's workspace is really used: poisoned over its whole required size, then the sums
//   are staged in it, so AddressSanitizer stops an engine that hands over less than it said;
// - the heuristics list algorithms in an order the engine must not take blindly: backward filter
//   offers a non-deterministic algorithm first.
//
// Every algorithm is the same direct loop (f32 sums in a fixed order, bf16 rounded once at the
// end), so all give the same bits. "Device" memory is host memory and the work is synchronous.
// Once the emulated engine has handed over its runtime's cudaLaunchHostFunc
// (pixCudaEmulatorCudnnSetHostLauncher), the three computing calls put their work on the handle's
// stream through it, so that a stream capturing into a CUDA graph records them like kernels (see
// Job); until then the stream is stored and otherwise ignored. The Find*Ex calls always run at once:
// CUDA does not allow them in a capture (they synchronise), and the engine calls them outside one.
// Calls on different handles may come from different threads: nothing is shared but each thread's
// own last error and, under a lock, the work kept for graphs.
//
// The fused forward, cudnnConvolutionBiasActivationForward, is the forward's loop with its epilogue
// applied as each sum is stored (bias of y's data type, z unread when alpha2 == 0, ReLU or identity,
// identity only with IMPLICIT_PRECOMP_GEMM, as cuDNN documents).
//
// Not here: data types other than f32 and bf16, compute types other than f32, tensors other than
// 4-D NCHW or NHWC (no explicit strides), groups, the Find calls without Ex, the graph (backend) API.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "ops/cuda/cudnn.h"

namespace pix::cuda::cudnn {

// cudnnHandle_t and the descriptors point at these. A descriptor is usable once a Set call accepted it.
struct Context {
  cudaStream_t stream = nullptr;
};
struct TensorStruct {
  bool set = false;
  TensorFormat format;
  DataType type;
  int n, c, h, w;
};
struct FilterStruct {
  bool set = false;
  DataType type;
  TensorFormat format;
  int k, c, r, s;
};
struct ConvolutionStruct {
  bool set = false;
  int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  ConvolutionMode mode;
  DataType compute;
  MathType math = kDefaultMath;  // cuDNN's default for a new descriptor
};
struct ActivationStruct {
  bool set = false;
  ActivationMode mode;
};

}  // namespace pix::cuda::cudnn

namespace {

// cudnn.h's types and enumerators (Status, kSuccess, kFloat, kNhwc, ...), also for the exports below.
using namespace pix::cuda::cudnn;

constexpr size_t kVersion = 90600;  // the cuDNN whose legacy API cudnn.h copies (9.6.0)
// cuDNN 9's CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED, which its deprecated
// CUDNN_STATUS_ALLOC_FAILED equals: what a Find reports for an algorithm whose workspace does not fit.
constexpr Status kAllocFailed = static_cast<Status>(4003);
// CUDNN_STATUS_EXECUTION_FAILED_CUDART: what a computing call reports when the stream refuses its work.
constexpr Status kExecutionFailedCudart = static_cast<Status>(5003);
constexpr size_t kWorkspaceGranule = 256;  // workspace sizes are multiples of this, as cudaMalloc aligns

thread_local std::string t_last_error;

template <typename... Args>
Status fail(Status status, const char* format, Args... args) {
  char text[512];
  std::snprintf(text, sizeof text, format, args...);
  t_last_error = text;
  return status;
}

const char* type_name(DataType type) {
  return type == kFloat ? "float" : type == kBFloat16 ? "bfloat16" : "unsupported";
}

// Element (i0, i1, i2, i3) of a 4-D tensor in memory: (n, c, h, w) for a tensor, (k, c, r, s) for a
// filter, whose NHWC is KRSC exactly as a tensor's NHWC is NHWC.
struct Layout {
  int d0, d1, d2, d3;
  TensorFormat format;
  size_t count() const { return size_t(d0) * d1 * d2 * d3; }
  size_t offset(int i0, int i1, int i2, int i3) const {
    if (format == kNchw) return ((size_t(i0) * d1 + i1) * d2 + i2) * d3 + i3;
    return ((size_t(i0) * d2 + i2) * d3 + i3) * d1 + i1;
  }
};

// One convolution, checked: x is (N,C,H,W), w (K,C,R,S), y (N,K,P,Q). In backward data x and y are
// dx and dy, in backward filter w is dw.
struct Problem {
  Layout x, w, y;
  DataType type;
  int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  bool flip;  // convolution mode: the kernel turned 180 degrees, cross-correlation otherwise
  MathType math;
};

// The names a call's messages use: its own and its three tensors'.
struct Names {
  const char* function;
  const char* x;
  const char* w;
  const char* y;
};

Status check_tensor(const Names& names, const char* which, const TensorStruct* t) {
  if (!t) return fail(kBadParam, "%s: the %s descriptor is null", names.function, which);
  if (!t->set)
    return fail(kBadParam, "%s: the %s descriptor was never set (cudnnSetTensor4dDescriptor)", names.function, which);
  return kSuccess;
}

// The checks every query and compute call of a direction makes first.
Status make_problem(const Names& names, Handle handle, const TensorStruct* x, const FilterStruct* w,
                    const ConvolutionStruct* conv, const TensorStruct* y, Problem* p) {
  const char* fn = names.function;
  if (!handle) return fail(kBadParam, "%s: the handle is null", fn);
  if (Status s = check_tensor(names, names.x, x); s != kSuccess) return s;
  if (Status s = check_tensor(names, names.y, y); s != kSuccess) return s;
  if (!w) return fail(kBadParam, "%s: the %s filter descriptor is null", fn, names.w);
  if (!w->set)
    return fail(kBadParam, "%s: the %s filter descriptor was never set (cudnnSetFilter4dDescriptor)", fn, names.w);
  if (!conv) return fail(kBadParam, "%s: the convolution descriptor is null", fn);
  if (!conv->set)
    return fail(kBadParam, "%s: the convolution descriptor was never set (cudnnSetConvolution2dDescriptor)", fn);
  if (x->type != w->type || x->type != y->type)
    return fail(kBadParam, "%s: mixed data types: %s is %s, %s is %s, %s is %s (all three must be equal)", fn, names.x,
                type_name(x->type), names.w, type_name(w->type), names.y, type_name(y->type));
  if (x->c != w->c)
    return fail(kBadParam, "%s: %s has %d channels but the filter %s has %d (C)", fn, names.x, x->c, names.w, w->c);
  if (x->n != y->n)
    return fail(kBadParam, "%s: %s has batch size %d but %s has %d (N)", fn, names.x, x->n, names.y, y->n);
  if (w->k != y->c)
    return fail(kBadParam, "%s: the filter %s has %d output channels but %s has %d channels (K)", fn, names.w, w->k,
                names.y, y->c);
  // (H + 2 pad - dilation (R - 1) - 1) / stride + 1, when the dilated filter fits in the padded input.
  const int span_h = x->h + 2 * conv->pad_h - conv->dilation_h * (w->r - 1) - 1;
  const int span_w = x->w + 2 * conv->pad_w - conv->dilation_w * (w->s - 1) - 1;
  if (span_h < 0 || span_w < 0)
    return fail(kBadParam, "%s: the dilated %dx%d filter is larger than the padded %dx%d input %s", fn, w->r, w->s,
                x->h + 2 * conv->pad_h, x->w + 2 * conv->pad_w, names.x);
  const int out_h = span_h / conv->stride_h + 1, out_w = span_w / conv->stride_w + 1;
  if (y->h != out_h || y->w != out_w)
    return fail(kBadParam, "%s: %s is %dx%d but the convolution of %s gives %dx%d", fn, names.y, y->h, y->w, names.x,
                out_h, out_w);
  *p = Problem{{x->n, x->c, x->h, x->w, x->format},
               {w->k, w->c, w->r, w->s, w->format},
               {y->n, y->c, y->h, y->w, y->format},
               x->type,
               conv->pad_h, conv->pad_w, conv->stride_h, conv->stride_w, conv->dilation_h, conv->dilation_w,
               conv->mode == kConvolution,
               conv->math};
  return kSuccess;
}

// ---- the algorithms ------------------------------------------------------------------------------

enum class Direction { kForward, kBackwardData, kBackwardFilter };

// An algorithm this stand-in offers. Its workspace is its output's bytes / divisor, rounded up to
// the granule; divisor 0: none.
struct Algo {
  int id;
  Determinism determinism;
  size_t divisor;
};

struct DirectionInfo {
  int enum_count;      // the direction's cudnnConvolution*Algo_t values are 0 .. enum_count - 1
  Algo offered[2];     // in the heuristics' order
};

// The heuristics' order is chosen to test the engine's choice: forward and backward data put the
// algorithm with a workspace first; backward filter puts a non-deterministic one first, which an
// engine asking for deterministic results must skip.
const DirectionInfo& info(Direction d) {
  static const DirectionInfo kForward{8, {{1, kDeterministic, 4}, {0, kDeterministic, 0}}};
  static const DirectionInfo kBackwardData{6, {{1, kDeterministic, 8}, {0, kNonDeterministic, 0}}};
  static const DirectionInfo kBackwardFilter{7, {{0, kNonDeterministic, 0}, {1, kDeterministic, 1}}};
  return d == Direction::kForward ? kForward : d == Direction::kBackwardData ? kBackwardData : kBackwardFilter;
}

const Layout& output_layout(const Problem& p, Direction d) {
  return d == Direction::kForward ? p.y : d == Direction::kBackwardData ? p.x : p.w;
}

size_t element_bytes(DataType type) { return type == kBFloat16 ? 2 : 4; }

size_t workspace_bytes(const Problem& p, Direction d, const Algo& algo) {
  if (algo.divisor == 0) return 0;
  const size_t out_bytes = output_layout(p, d).count() * element_bytes(p.type);
  const size_t bytes = (out_bytes + algo.divisor - 1) / algo.divisor;
  return (bytes + kWorkspaceGranule - 1) / kWorkspaceGranule * kWorkspaceGranule;
}

// The offered algorithm `id`, or kNotSupported naming what is offered.
Status find_algo(const char* fn, Direction d, int id, const Algo** out) {
  const DirectionInfo& di = info(d);
  if (id < 0 || id >= di.enum_count)
    return fail(kNotSupported, "%s: algorithm %d is not one of this direction's (0 to %d)", fn, id, di.enum_count - 1);
  for (const Algo& a : di.offered) {
    if (a.id != id) continue;
    *out = &a;
    return kSuccess;
  }
  return fail(kNotSupported, "%s: algorithm %d is not supported by the CUDA emulator's cuDNN (%d and %d are)", fn, id,
              di.offered[0].id, di.offered[1].id);
}

float load(const void* data, DataType type, size_t i) {
  if (type == kFloat) return static_cast<const float*>(data)[i];
  return pix::bf16_to_float(static_cast<const pix::bf16*>(data)[i]);
}

void store(void* data, DataType type, size_t i, float value) {
  if (type == kFloat) static_cast<float*>(data)[i] = value;
  else static_cast<pix::bf16*>(data)[i] = pix::float_to_bf16(value);
}

// A tensor in f32, in logical (d0, d1, d2, d3) order whatever its format; a filter turned 180
// degrees when `flip`, so the loops below are all cross-correlations.
std::vector<float> load_logical(const void* data, DataType type, const Layout& l, bool flip) {
  std::vector<float> out(l.count());
  size_t i = 0;
  for (int a = 0; a < l.d0; ++a)
    for (int b = 0; b < l.d1; ++b)
      for (int c = 0; c < l.d2; ++c)
        for (int e = 0; e < l.d3; ++e)
          out[i++] = load(data, type, flip ? l.offset(a, b, l.d2 - 1 - c, l.d3 - 1 - e) : l.offset(a, b, c, e));
  return out;
}

// Decodes logical index i of layout l into its four coordinates.
void decode(const Layout& l, size_t i, int* a, int* b, int* c, int* e) {
  *e = int(i % l.d3);
  i /= l.d3;
  *c = int(i % l.d2);
  i /= l.d2;
  *b = int(i % l.d1);
  *a = int(i / l.d1);
}

// The three directions' sums for one output element, each a fixed-order f32 loop. x, w, y are the
// logical f32 copies (w already turned for convolution mode).
struct Operands {
  std::vector<float> x, w, y;
};

// y[n,k,p,q] = sum over c, r, s of x[n, c, p*stride - pad + r*dilation, ...] * w[k,c,r,s].
float forward_sum(const Problem& p, const Operands& o, size_t i) {
  int n, k, oh, ow;
  decode(p.y, i, &n, &k, &oh, &ow);
  const int C = p.x.d1, H = p.x.d2, W = p.x.d3, R = p.w.d2, S = p.w.d3;
  float acc = 0;
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < R; ++r) {
      const int h = oh * p.stride_h - p.pad_h + r * p.dilation_h;
      if (h < 0 || h >= H) continue;
      for (int s = 0; s < S; ++s) {
        const int w = ow * p.stride_w - p.pad_w + s * p.dilation_w;
        if (w < 0 || w >= W) continue;
        acc += o.x[((size_t(n) * C + c) * H + h) * W + w] * o.w[((size_t(k) * C + c) * R + r) * S + s];
      }
    }
  return acc;
}

// dx[n,c,h,w] = sum over k, r, s of dy at the output the tap (r, s) maps (n,c,h,w) to, times w[k,c,r,s].
float backward_data_sum(const Problem& p, const Operands& o, size_t i) {
  int n, c, h, w;
  decode(p.x, i, &n, &c, &h, &w);
  const int C = p.x.d1, K = p.w.d0, R = p.w.d2, S = p.w.d3, P = p.y.d2, Q = p.y.d3;
  float acc = 0;
  for (int k = 0; k < K; ++k)
    for (int r = 0; r < R; ++r) {
      const int th = h + p.pad_h - r * p.dilation_h;
      if (th < 0 || th % p.stride_h != 0 || th / p.stride_h >= P) continue;
      for (int s = 0; s < S; ++s) {
        const int tw = w + p.pad_w - s * p.dilation_w;
        if (tw < 0 || tw % p.stride_w != 0 || tw / p.stride_w >= Q) continue;
        acc += o.y[((size_t(n) * K + k) * P + th / p.stride_h) * Q + tw / p.stride_w] *
               o.w[((size_t(k) * C + c) * R + r) * S + s];
      }
    }
  return acc;
}

// dw[k,c,r,s] = sum over n, p, q of dy[n,k,p,q] * x[n, c, p*stride - pad + r*dilation, ...], with
// (r, s) the tap the stored element is in the turned kernel for convolution mode.
float backward_filter_sum(const Problem& p, const Operands& o, size_t i) {
  int k, c, r, s;
  decode(p.w, i, &k, &c, &r, &s);
  const int N = p.x.d0, C = p.x.d1, H = p.x.d2, W = p.x.d3, K = p.w.d0, P = p.y.d2, Q = p.y.d3;
  if (p.flip) r = p.w.d2 - 1 - r, s = p.w.d3 - 1 - s;
  float acc = 0;
  for (int n = 0; n < N; ++n)
    for (int oh = 0; oh < P; ++oh) {
      const int h = oh * p.stride_h - p.pad_h + r * p.dilation_h;
      if (h < 0 || h >= H) continue;
      for (int ow = 0; ow < Q; ++ow) {
        const int w = ow * p.stride_w - p.pad_w + s * p.dilation_w;
        if (w < 0 || w >= W) continue;
        acc += o.y[((size_t(n) * K + k) * P + oh) * Q + ow] * o.x[((size_t(n) * C + c) * H + h) * W + w];
      }
    }
  return acc;
}

// The fused forward's epilogue: y = act(alpha * sum + alpha2 * z + bias[k]), z (like y) unread when
// alpha2 == 0, bias (1,K,1,1) of y's data type.
struct Epilogue {
  bool on = false;
  const void* z = nullptr;
  float alpha2 = 0;
  const void* bias = nullptr;
  bool relu = false;
};

// Runs direction d: out = alpha * sums + beta * out, out never read when beta == 0. The inputs are
// x and w (forward), dy and w (backward data), x and dy (backward filter). With a workspace the
// sums are staged in it, as many f32 as its required size holds at a time, after the whole required
// size was poisoned; without one each goes straight to the output.
void run(const Problem& p, Direction d, const void* in0, const void* in1, void* out, float alpha, float beta,
         void* workspace, size_t workspace_required, const Epilogue& ep = {}) {
  Operands o;
  if (d == Direction::kForward) {
    o.x = load_logical(in0, p.type, p.x, false);
    o.w = load_logical(in1, p.type, p.w, p.flip);
  } else if (d == Direction::kBackwardData) {
    o.y = load_logical(in0, p.type, p.y, false);
    o.w = load_logical(in1, p.type, p.w, p.flip);
  } else {
    o.x = load_logical(in0, p.type, p.x, false);
    o.y = load_logical(in1, p.type, p.y, false);
  }
  const Layout& l = output_layout(p, d);
  auto sum = [&](size_t i) {
    return d == Direction::kForward ? forward_sum(p, o, i)
           : d == Direction::kBackwardData ? backward_data_sum(p, o, i)
                                           : backward_filter_sum(p, o, i);
  };
  auto finish = [&](size_t i, float value) {
    int a, b, c, e;
    decode(l, i, &a, &b, &c, &e);
    const size_t at = l.offset(a, b, c, e);
    if (ep.on) {  // forward only: b is the output channel
      float v = alpha * value + load(ep.bias, p.type, b);
      if (ep.alpha2 != 0) v += ep.alpha2 * load(ep.z, p.type, at);
      store(out, p.type, at, ep.relu ? std::max(v, 0.0f) : v);
      return;
    }
    store(out, p.type, at, beta == 0 ? alpha * value : alpha * value + beta * load(out, p.type, at));
  };
  const size_t count = l.count();
  if (workspace_required == 0) {
    for (size_t i = 0; i < count; ++i) finish(i, sum(i));
    return;
  }
  std::memset(workspace, 0xff, workspace_required);
  float* stage = static_cast<float*>(workspace);
  const size_t capacity = workspace_required / sizeof(float);
  for (size_t start = 0; start < count; start += capacity) {
    const size_t n = std::min(capacity, count - start);
    for (size_t j = 0; j < n; ++j) stage[j] = sum(start + j);
    for (size_t j = 0; j < n; ++j) finish(start + j, stage[j]);
  }
}

// ---- the calls' bodies, shared by the three directions -----------------------------------------------

// The descriptors and pointers of one call, in the direction's terms (see Problem).
struct Call {
  Direction d;
  Names names;
  const char* in0_name;
  const char* in1_name;
  const char* out_name;
  Handle handle;
  const TensorStruct* x;
  const FilterStruct* w;
  const ConvolutionStruct* conv;
  const TensorStruct* y;
};

Call forward_call(const char* fn, Handle h, TensorDescriptor x, FilterDescriptor w, ConvolutionDescriptor conv,
                  TensorDescriptor y) {
  return {Direction::kForward, {fn, "x", "w", "y"}, "x", "w", "y", h, x, w, conv, y};
}
Call backward_data_call(const char* fn, Handle h, FilterDescriptor w, TensorDescriptor dy, ConvolutionDescriptor conv,
                        TensorDescriptor dx) {
  return {Direction::kBackwardData, {fn, "dx", "w", "dy"}, "dy", "w", "dx", h, dx, w, conv, dy};
}
Call backward_filter_call(const char* fn, Handle h, TensorDescriptor x, TensorDescriptor dy, ConvolutionDescriptor conv,
                          FilterDescriptor dw) {
  return {Direction::kBackwardFilter, {fn, "x", "dw", "dy"}, "x", "dy", "dw", h, x, dw, conv, dy};
}

Status problem_of(const Call& c, Problem* p) { return make_problem(c.names, c.handle, c.x, c.w, c.conv, c.y, p); }

Status heuristics(const Call& c, int requested, int* returned, AlgoPerf* results) {
  Problem p;
  if (Status s = problem_of(c, &p); s != kSuccess) return s;
  const char* fn = c.names.function;
  if (!returned || !results) return fail(kBadParam, "%s: returnedAlgoCount or perfResults is null", fn);
  if (requested < 1) return fail(kBadParam, "%s: requestedAlgoCount is %d, below 1", fn, requested);
  const DirectionInfo& di = info(c.d);
  const int n = std::min(requested, 2);
  for (int i = 0; i < n; ++i) {
    const Algo& a = di.offered[i];
    results[i] = AlgoPerf{a.id, kSuccess, -1.0f, workspace_bytes(p, c.d, a), a.determinism, p.math, {0, 0, 0}};
  }
  *returned = n;
  return kSuccess;
}

Status workspace_size(const Call& c, int algo, size_t* bytes) {
  Problem p;
  if (Status s = problem_of(c, &p); s != kSuccess) return s;
  if (!bytes) return fail(kBadParam, "%s: sizeInBytes is null", c.names.function);
  const Algo* a;
  if (Status s = find_algo(c.names.function, c.d, algo, &a); s != kSuccess) return s;
  *bytes = workspace_bytes(p, c.d, *a);
  return kSuccess;
}

Status check_pointers(const Call& c, const void* in0, const void* in1, const void* out, const void* workspace,
                      size_t workspace_size) {
  const char* fn = c.names.function;
  if (!in0) return fail(kBadParam, "%s: the %s pointer is null", fn, c.in0_name);
  if (!in1) return fail(kBadParam, "%s: the %s pointer is null", fn, c.in1_name);
  if (!out) return fail(kBadParam, "%s: the %s pointer is null", fn, c.out_name);
  if (!workspace && workspace_size > 0)
    return fail(kBadParam, "%s: the workspace pointer is null but workSpaceSizeInBytes is %zu", fn, workspace_size);
  return kSuccess;
}

// ---- computing calls as stream work -------------------------------------------------------------------

// The engine runtime's cudaLaunchHostFunc, once handed over; null: computing calls run at once.
using HostLauncher = cudaError_t (*)(cudaStream_t, cudaHostFn_t, void*);
std::atomic<HostLauncher> g_host_launcher{nullptr};

// One computing call's work, with all it needs by value: the descriptors' contents (the engine may
// change or destroy them before a replay), alpha and beta (the caller's pointers may be gone), and
// the tensor and workspace pointers, which must stay valid as long as on a GPU.
//
// Ownership: the launcher either runs the job at once (no capture) or records it into a graph that
// may replay it any number of times until an unknown moment (cudaGraphExecDestroy of every graph
// instantiated from it). cudaLaunchHostFunc has no way to hand back ownership, so the job cannot
// free itself. It is therefore freed here right after the launcher returns when it ran during that
// call, and otherwise kept to the end of the process (kept_jobs): a captured convolution costs
// about 200 bytes once per capture, and a replay can never find its job gone.
struct Job {
  const char* function;
  Problem p;
  Direction d;
  const void* in0;
  const void* in1;
  void* out;
  float alpha, beta;
  void* workspace;
  size_t workspace_required;
  Epilogue epilogue;
};

// Runs the job; false when out of host memory.
bool execute(const Job& j) {
  try {
    run(j.p, j.d, j.in0, j.in1, j.out, j.alpha, j.beta, j.workspace, j.workspace_required, j.epilogue);
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

// The job this thread is handing to the launcher, and whether the launcher ran it during the call.
struct Handing {
  const Job* job = nullptr;
  bool ran = false;
  bool ok = false;
};
thread_local Handing t_handing;

// The host function: the job run at once, or replayed from a graph, where an error has nowhere to go.
void run_job(void* raw) {
  const Job* job = static_cast<const Job*>(raw);
  const bool ok = execute(*job);
  if (job == t_handing.job) {
    t_handing.ran = true;
    t_handing.ok = ok;
  } else if (!ok) {
    std::fprintf(stderr, "pix CUDA emulator's cuDNN: %s replayed from a CUDA graph: out of host memory\n",
                 job->function);
    std::abort();
  }
}

struct KeptJobs {
  std::mutex mutex;
  std::vector<std::unique_ptr<Job>> jobs;
};

KeptJobs& kept_jobs() {
  static KeptJobs* k = new KeptJobs();  // never destroyed: a graph may be replayed during exit
  return *k;
}

Status launch(HostLauncher launcher, cudaStream_t stream, std::unique_ptr<Job> job) {
  t_handing = {job.get(), false, false};
  const cudaError_t error = launcher(stream, run_job, job.get());
  const Handing handed = t_handing;
  t_handing = {};
  if (error != cudaSuccess)
    return fail(kExecutionFailedCudart, "%s: the stream refused the work: cudaLaunchHostFunc returned CUDA error %d",
                job->function, int(error));
  if (handed.ran) return handed.ok ? kSuccess : fail(kAllocFailed, "%s: out of host memory", job->function);
  KeptJobs& k = kept_jobs();
  std::lock_guard<std::mutex> lock(k.mutex);
  k.jobs.push_back(std::move(job));
  return kSuccess;
}

// The checks run now, whether the work runs now or is recorded, so errors are returned at once.
Status compute(const Call& c, const void* alpha, const void* in0, const void* in1, int algo, void* workspace,
               size_t workspace_size, const void* beta, void* out, const Epilogue& epilogue = {}) {
  Problem p;
  if (Status s = problem_of(c, &p); s != kSuccess) return s;
  const char* fn = c.names.function;
  if (!alpha || !beta) return fail(kBadParam, "%s: alpha or beta is null", fn);
  if (Status s = check_pointers(c, in0, in1, out, workspace, workspace_size); s != kSuccess) return s;
  const Algo* a;
  if (Status s = find_algo(fn, c.d, algo, &a); s != kSuccess) return s;
  const size_t required = workspace_bytes(p, c.d, *a);
  if (workspace_size < required)
    return fail(kBadParam, "%s: algorithm %d needs a workspace of %zu bytes, workSpaceSizeInBytes is %zu", fn, algo,
                required, workspace_size);
  // With f32 compute, cuDNN's alpha and beta are floats.
  Job job{fn,       p, c.d, in0, in1, out, *static_cast<const float*>(alpha), *static_cast<const float*>(beta),
          workspace, required, epilogue};
  if (HostLauncher launcher = g_host_launcher.load())
    return launch(launcher, c.handle->stream, std::make_unique<Job>(job));
  return execute(job) ? kSuccess : fail(kAllocFailed, "%s: out of host memory", fn);
}

// Runs every offered algorithm whose workspace fits (alpha 1, beta 0, into the caller's output),
// timed; those that do not fit are reported with kAllocFailed, after the others.
Status find(const Call& c, const void* in0, const void* in1, void* out, int requested, int* returned,
            AlgoPerf* results, void* workspace, size_t workspace_size) {
  Problem p;
  if (Status s = problem_of(c, &p); s != kSuccess) return s;
  const char* fn = c.names.function;
  if (Status s = check_pointers(c, in0, in1, out, workspace, workspace_size); s != kSuccess) return s;
  if (!returned || !results) return fail(kBadParam, "%s: returnedAlgoCount or perfResults is null", fn);
  if (requested < 1) return fail(kBadParam, "%s: requestedAlgoCount is %d, below 1", fn, requested);
  AlgoPerf found[2];
  int count = 0;
  try {
    for (const Algo& a : info(c.d).offered) {
      const size_t required = workspace_bytes(p, c.d, a);
      AlgoPerf& r = found[count++];
      r = AlgoPerf{a.id, kSuccess, -1.0f, required, a.determinism, p.math, {0, 0, 0}};
      if (required > workspace_size) {
        r.status = kAllocFailed;
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      run(p, c.d, in0, in1, out, 1.0f, 0.0f, workspace, required);
      r.time = std::chrono::duration<float, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
  } catch (const std::bad_alloc&) {
    return fail(kAllocFailed, "%s: out of host memory", fn);
  }
  std::stable_sort(found, found + count, [](const AlgoPerf& a, const AlgoPerf& b) {
    if ((a.status == kSuccess) != (b.status == kSuccess)) return a.status == kSuccess;
    return a.time < b.time;
  });
  const int n = std::min(requested, count);
  std::copy(found, found + n, results);
  *returned = n;
  return kSuccess;
}

// Create/Destroy of the plain structs, refusing a null out-pointer as cuDNN does.
template <typename T>
Status create(const char* fn, T** out) {
  if (!out) return fail(kBadParam, "%s: the output pointer is null", fn);
  *out = new (std::nothrow) T();
  return *out ? kSuccess : fail(kAllocFailed, "%s: out of host memory", fn);
}

Status check_type(const char* fn, DataType type) {
  if (type == kFloat || type == kBFloat16) return kSuccess;
  return fail(kNotSupported,
              "%s: data type %d is not supported by the CUDA emulator's cuDNN (float = 0 and bfloat16 = 9 are)", fn,
              int(type));
}

Status check_format(const char* fn, TensorFormat format) {
  if (format == kNchw || format == kNhwc) return kSuccess;
  return fail(kNotSupported, "%s: format %d is not supported by the CUDA emulator's cuDNN (NCHW = 0 and NHWC = 1 are)",
              fn, int(format));
}

Status check_dims(const char* fn, int a, int b, int c, int d) {
  if (a > 0 && b > 0 && c > 0 && d > 0) return kSuccess;
  return fail(kBadParam, "%s: dimensions %d, %d, %d, %d must all be above 0", fn, a, b, c, d);
}

}  // namespace

extern "C" {

// What the emulated engine looks for before it uses a libcudnn.so.9: only this one takes host memory.
__attribute__((visibility("default"))) int pixCudaEmulatorCudnn = 1;

// The emulated engine calls this right after loading the library, with its runtime's
// cudaLaunchHostFunc: from then on ConvolutionForward, BackwardData and BackwardFilter run through
// it on the handle's stream (see Job). Null goes back to running them at once.
__attribute__((visibility("default"))) void pixCudaEmulatorCudnnSetHostLauncher(
    cudaError_t (*launcher)(cudaStream_t, cudaHostFn_t, void*)) {
  g_host_launcher.store(launcher);
}

size_t cudnnGetVersion() { return kVersion; }

const char* cudnnGetErrorString(Status status) {
  switch (static_cast<int>(status)) {
#define PIX_STATUS(code, name) \
  case code: return name;
    PIX_STATUS(0, "CUDNN_STATUS_SUCCESS")
    PIX_STATUS(1001, "CUDNN_STATUS_NOT_INITIALIZED")
    PIX_STATUS(1002, "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH")
    PIX_STATUS(1003, "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH")
    PIX_STATUS(1004, "CUDNN_STATUS_DEPRECATED")
    PIX_STATUS(1005, "CUDNN_STATUS_LICENSE_ERROR")
    PIX_STATUS(1006, "CUDNN_STATUS_RUNTIME_IN_PROGRESS")
    PIX_STATUS(1007, "CUDNN_STATUS_RUNTIME_FP_OVERFLOW")
    PIX_STATUS(1008, "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED")
    PIX_STATUS(2000, "CUDNN_STATUS_BAD_PARAM")
    PIX_STATUS(2001, "CUDNN_STATUS_INVALID_VALUE")
    PIX_STATUS(2002, "CUDNN_STATUS_BAD_PARAM_NULL_POINTER")
    PIX_STATUS(2003, "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER")
    PIX_STATUS(2004, "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED")
    PIX_STATUS(2005, "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND")
    PIX_STATUS(2006, "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT")
    PIX_STATUS(2007, "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH")
    PIX_STATUS(2008, "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH")
    PIX_STATUS(2009, "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES")
    PIX_STATUS(2010, "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE")
    PIX_STATUS(2011, "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH")
    PIX_STATUS(2012, "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE")
    PIX_STATUS(3000, "CUDNN_STATUS_NOT_SUPPORTED")
    PIX_STATUS(3001, "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN")
    PIX_STATUS(3002, "CUDNN_STATUS_NOT_SUPPORTED_SHAPE")
    PIX_STATUS(3003, "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE")
    PIX_STATUS(3004, "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT")
    PIX_STATUS(3005, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER")
    PIX_STATUS(3006, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART")
    PIX_STATUS(3007, "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH")
    PIX_STATUS(3008, "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING")
    PIX_STATUS(3009, "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE")
    PIX_STATUS(3010, "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT")
    PIX_STATUS(3011, "CUDNN_STATUS_NOT_SUPPORTED_PADDING")
    PIX_STATUS(3012, "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM")
    PIX_STATUS(3013, "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API")
    PIX_STATUS(4000, "CUDNN_STATUS_INTERNAL_ERROR")
    PIX_STATUS(4001, "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED")
    PIX_STATUS(4002, "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE")
    PIX_STATUS(4003, "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED")
    PIX_STATUS(4004, "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED")
    PIX_STATUS(4005, "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM")
    PIX_STATUS(4006, "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED")
    PIX_STATUS(5000, "CUDNN_STATUS_EXECUTION_FAILED")
    PIX_STATUS(5001, "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER")
    PIX_STATUS(5002, "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS")
    PIX_STATUS(5003, "CUDNN_STATUS_EXECUTION_FAILED_CUDART")
    PIX_STATUS(5004, "CUDNN_STATUS_EXECUTION_FAILED_CURAND")
#undef PIX_STATUS
    default: return "CUDNN_UNKNOWN_STATUS";
  }
}

// The last failing call's message on this thread, NUL-terminated and cut to fit.
void cudnnGetLastErrorString(char* message, size_t bytes) {
  if (!message || bytes == 0) return;
  const size_t n = std::min(bytes - 1, t_last_error.size());
  std::memcpy(message, t_last_error.data(), n);
  message[n] = '\0';
}

Status cudnnCreate(Handle* handle) { return create("cudnnCreate", handle); }

// Not in cudnn.h's Api (the engine keeps its handles for the process), but cuDNN's, for completeness.
Status cudnnDestroy(Handle handle) {
  if (!handle) return fail(kBadParam, "cudnnDestroy: the handle is null");
  delete handle;
  return kSuccess;
}

Status cudnnSetStream(Handle handle, cudaStream_t stream) {
  if (!handle) return fail(kBadParam, "cudnnSetStream: the handle is null");
  handle->stream = stream;
  return kSuccess;
}

Status cudnnCreateTensorDescriptor(TensorDescriptor* desc) { return create("cudnnCreateTensorDescriptor", desc); }

Status cudnnSetTensor4dDescriptor(TensorDescriptor desc, TensorFormat format, DataType type, int n, int c, int h,
                                  int w) {
  const char* fn = "cudnnSetTensor4dDescriptor";
  if (!desc) return fail(kBadParam, "%s: the descriptor is null", fn);
  if (Status s = check_format(fn, format); s != kSuccess) return s;
  if (Status s = check_type(fn, type); s != kSuccess) return s;
  if (Status s = check_dims(fn, n, c, h, w); s != kSuccess) return s;
  *desc = TensorStruct{true, format, type, n, c, h, w};
  return kSuccess;
}

// cuDNN destroys nothing for a null descriptor and succeeds, as free(NULL) does.
Status cudnnDestroyTensorDescriptor(TensorDescriptor desc) {
  delete desc;
  return kSuccess;
}

Status cudnnCreateFilterDescriptor(FilterDescriptor* desc) { return create("cudnnCreateFilterDescriptor", desc); }

Status cudnnSetFilter4dDescriptor(FilterDescriptor desc, DataType type, TensorFormat format, int k, int c, int h,
                                  int w) {
  const char* fn = "cudnnSetFilter4dDescriptor";
  if (!desc) return fail(kBadParam, "%s: the descriptor is null", fn);
  if (Status s = check_type(fn, type); s != kSuccess) return s;
  if (Status s = check_format(fn, format); s != kSuccess) return s;
  if (Status s = check_dims(fn, k, c, h, w); s != kSuccess) return s;
  *desc = FilterStruct{true, type, format, k, c, h, w};
  return kSuccess;
}

Status cudnnDestroyFilterDescriptor(FilterDescriptor desc) {
  delete desc;
  return kSuccess;
}

Status cudnnCreateConvolutionDescriptor(ConvolutionDescriptor* desc) {
  return create("cudnnCreateConvolutionDescriptor", desc);
}

Status cudnnSetConvolution2dDescriptor(ConvolutionDescriptor desc, int pad_h, int pad_w, int stride_h, int stride_w,
                                       int dilation_h, int dilation_w, ConvolutionMode mode, DataType compute) {
  const char* fn = "cudnnSetConvolution2dDescriptor";
  if (!desc) return fail(kBadParam, "%s: the descriptor is null", fn);
  if (pad_h < 0 || pad_w < 0) return fail(kBadParam, "%s: padding %d, %d is negative", fn, pad_h, pad_w);
  if (stride_h < 1 || stride_w < 1) return fail(kBadParam, "%s: stride %d, %d is below 1", fn, stride_h, stride_w);
  if (dilation_h < 1 || dilation_w < 1)
    return fail(kBadParam, "%s: dilation %d, %d is below 1", fn, dilation_h, dilation_w);
  if (mode != kConvolution && mode != kCrossCorrelation)
    return fail(kBadParam, "%s: mode %d is neither CUDNN_CONVOLUTION (0) nor CUDNN_CROSS_CORRELATION (1)", fn,
                int(mode));
  if (compute != kFloat)
    return fail(kNotSupported, "%s: compute type %d is not supported by the CUDA emulator's cuDNN (float = 0 is)", fn,
                int(compute));
  const MathType math = desc->math;  // kept: cuDNN's math type is set apart from the geometry
  *desc = ConvolutionStruct{true, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w, mode, compute, math};
  return kSuccess;
}

Status cudnnSetConvolutionMathType(ConvolutionDescriptor desc, MathType math) {
  const char* fn = "cudnnSetConvolutionMathType";
  if (!desc) return fail(kBadParam, "%s: the descriptor is null", fn);
  if (math < kDefaultMath || math > kFmaMath)
    return fail(kBadParam, "%s: math type %d is not one of 0 to 3", fn, int(math));
  desc->math = math;
  return kSuccess;
}

Status cudnnDestroyConvolutionDescriptor(ConvolutionDescriptor desc) {
  delete desc;
  return kSuccess;
}

Status cudnnGetConvolutionForwardAlgorithm_v7(Handle handle, TensorDescriptor x, FilterDescriptor w,
                                              ConvolutionDescriptor conv, TensorDescriptor y, int requested,
                                              int* returned, AlgoPerf* results) {
  return heuristics(forward_call("cudnnGetConvolutionForwardAlgorithm_v7", handle, x, w, conv, y), requested, returned,
                    results);
}

Status cudnnFindConvolutionForwardAlgorithmEx(Handle handle, TensorDescriptor x_desc, const void* x,
                                              FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv,
                                              TensorDescriptor y_desc, void* y, int requested, int* returned,
                                              AlgoPerf* results, void* workspace, size_t workspace_bytes) {
  return find(forward_call("cudnnFindConvolutionForwardAlgorithmEx", handle, x_desc, w_desc, conv, y_desc), x, w, y,
              requested, returned, results, workspace, workspace_bytes);
}

Status cudnnGetConvolutionForwardWorkspaceSize(Handle handle, TensorDescriptor x, FilterDescriptor w,
                                               ConvolutionDescriptor conv, TensorDescriptor y, int algo,
                                               size_t* bytes) {
  return workspace_size(forward_call("cudnnGetConvolutionForwardWorkspaceSize", handle, x, w, conv, y), algo, bytes);
}

Status cudnnConvolutionForward(Handle handle, const void* alpha, TensorDescriptor x_desc, const void* x,
                               FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv, int algo,
                               void* workspace, size_t workspace_bytes, const void* beta, TensorDescriptor y_desc,
                               void* y) {
  return compute(forward_call("cudnnConvolutionForward", handle, x_desc, w_desc, conv, y_desc), alpha, x, w, algo,
                 workspace, workspace_bytes, beta, y);
}

Status cudnnCreateActivationDescriptor(ActivationDescriptor* desc) {
  return create("cudnnCreateActivationDescriptor", desc);
}

Status cudnnSetActivationDescriptor(ActivationDescriptor desc, ActivationMode mode, NanPropagation nan, double coef) {
  const char* fn = "cudnnSetActivationDescriptor";
  (void)coef;  // only the clipped ReLU and ELU read it
  if (!desc) return fail(kBadParam, "%s: the descriptor is null", fn);
  if (nan != kNotPropagateNan && nan != kPropagateNan)
    return fail(kBadParam, "%s: NaN propagation %d is neither 0 nor 1", fn, int(nan));
  if (mode < 0 || mode > 6) return fail(kBadParam, "%s: activation mode %d is not a cudnnActivationMode_t", fn, int(mode));
  desc->mode = mode;
  desc->set = true;
  return kSuccess;
}

Status cudnnDestroyActivationDescriptor(ActivationDescriptor desc) {
  delete desc;
  return kSuccess;
}

Status cudnnConvolutionBiasActivationForward(Handle handle, const void* alpha1, TensorDescriptor x_desc, const void* x,
                                             FilterDescriptor w_desc, const void* w, ConvolutionDescriptor conv,
                                             int algo, void* workspace, size_t workspace_bytes, const void* alpha2,
                                             TensorDescriptor z_desc, const void* z, TensorDescriptor bias_desc,
                                             const void* bias, ActivationDescriptor act, TensorDescriptor y_desc,
                                             void* y) {
  const char* fn = "cudnnConvolutionBiasActivationForward";
  const Call call = forward_call(fn, handle, x_desc, w_desc, conv, y_desc);
  Problem p;
  if (Status s = problem_of(call, &p); s != kSuccess) return s;
  if (!alpha2) return fail(kBadParam, "%s: alpha2 is null", fn);
  if (Status s = check_tensor(call.names, "z", z_desc); s != kSuccess) return s;
  if (Status s = check_tensor(call.names, "bias", bias_desc); s != kSuccess) return s;
  const TensorStruct& yd = *y_desc;
  if (z_desc->n != yd.n || z_desc->c != yd.c || z_desc->h != yd.h || z_desc->w != yd.w ||
      z_desc->type != yd.type || z_desc->format != yd.format)
    return fail(kBadParam, "%s: z must be described as y is (%dx%dx%dx%d %s)", fn, yd.n, yd.c, yd.h, yd.w,
                type_name(yd.type));
  if (bias_desc->n != 1 || bias_desc->c != yd.c || bias_desc->h != 1 || bias_desc->w != 1)
    return fail(kBadParam, "%s: the bias must be 1x%dx1x1, got %dx%dx%dx%d", fn, yd.c, bias_desc->n, bias_desc->c,
                bias_desc->h, bias_desc->w);
  if (bias_desc->type != yd.type)
    return fail(kBadParam, "%s: the bias is %s but y is %s (they must be equal)", fn, type_name(bias_desc->type),
                type_name(yd.type));
  if (!act) return fail(kBadParam, "%s: the activation descriptor is null", fn);
  if (!act->set) return fail(kBadParam, "%s: the activation descriptor was never set", fn);
  if (act->mode != kActivationRelu && act->mode != kActivationIdentity)
    return fail(kNotSupported, "%s: activation mode %d is not supported (ReLU = 1 and identity = 5 are)", fn,
                int(act->mode));
  if (act->mode == kActivationIdentity && algo != kFwdAlgoImplicitPrecompGemm)
    return fail(kNotSupported, "%s: the identity activation needs algorithm %d (IMPLICIT_PRECOMP_GEMM), got %d", fn,
                kFwdAlgoImplicitPrecompGemm, algo);
  if (!z || !bias) return fail(kBadParam, "%s: the z or bias pointer is null", fn);
  const Epilogue epilogue{true, z, *static_cast<const float*>(alpha2), bias, act->mode == kActivationRelu};
  const float beta = 0;
  return compute(call, alpha1, x, w, algo, workspace, workspace_bytes, &beta, y, epilogue);
}

Status cudnnGetConvolutionBackwardDataAlgorithm_v7(Handle handle, FilterDescriptor w, TensorDescriptor dy,
                                                   ConvolutionDescriptor conv, TensorDescriptor dx, int requested,
                                                   int* returned, AlgoPerf* results) {
  return heuristics(backward_data_call("cudnnGetConvolutionBackwardDataAlgorithm_v7", handle, w, dy, conv, dx),
                    requested, returned, results);
}

Status cudnnFindConvolutionBackwardDataAlgorithmEx(Handle handle, FilterDescriptor w_desc, const void* w,
                                                   TensorDescriptor dy_desc, const void* dy,
                                                   ConvolutionDescriptor conv, TensorDescriptor dx_desc, void* dx,
                                                   int requested, int* returned, AlgoPerf* results, void* workspace,
                                                   size_t workspace_bytes) {
  return find(backward_data_call("cudnnFindConvolutionBackwardDataAlgorithmEx", handle, w_desc, dy_desc, conv, dx_desc),
              dy, w, dx, requested, returned, results, workspace, workspace_bytes);
}

Status cudnnGetConvolutionBackwardDataWorkspaceSize(Handle handle, FilterDescriptor w, TensorDescriptor dy,
                                                    ConvolutionDescriptor conv, TensorDescriptor dx, int algo,
                                                    size_t* bytes) {
  return workspace_size(backward_data_call("cudnnGetConvolutionBackwardDataWorkspaceSize", handle, w, dy, conv, dx),
                        algo, bytes);
}

Status cudnnConvolutionBackwardData(Handle handle, const void* alpha, FilterDescriptor w_desc, const void* w,
                                    TensorDescriptor dy_desc, const void* dy, ConvolutionDescriptor conv, int algo,
                                    void* workspace, size_t workspace_bytes, const void* beta,
                                    TensorDescriptor dx_desc, void* dx) {
  return compute(backward_data_call("cudnnConvolutionBackwardData", handle, w_desc, dy_desc, conv, dx_desc), alpha, dy,
                 w, algo, workspace, workspace_bytes, beta, dx);
}

Status cudnnGetConvolutionBackwardFilterAlgorithm_v7(Handle handle, TensorDescriptor x, TensorDescriptor dy,
                                                     ConvolutionDescriptor conv, FilterDescriptor dw, int requested,
                                                     int* returned, AlgoPerf* results) {
  return heuristics(backward_filter_call("cudnnGetConvolutionBackwardFilterAlgorithm_v7", handle, x, dy, conv, dw),
                    requested, returned, results);
}

Status cudnnFindConvolutionBackwardFilterAlgorithmEx(Handle handle, TensorDescriptor x_desc, const void* x,
                                                     TensorDescriptor dy_desc, const void* dy,
                                                     ConvolutionDescriptor conv, FilterDescriptor dw_desc, void* dw,
                                                     int requested, int* returned, AlgoPerf* results,
                                                     void* workspace, size_t workspace_bytes) {
  const Call call =
      backward_filter_call("cudnnFindConvolutionBackwardFilterAlgorithmEx", handle, x_desc, dy_desc, conv, dw_desc);
  return find(call, x, dy, dw, requested, returned, results, workspace, workspace_bytes);
}

Status cudnnGetConvolutionBackwardFilterWorkspaceSize(Handle handle, TensorDescriptor x, TensorDescriptor dy,
                                                      ConvolutionDescriptor conv, FilterDescriptor dw, int algo,
                                                      size_t* bytes) {
  return workspace_size(backward_filter_call("cudnnGetConvolutionBackwardFilterWorkspaceSize", handle, x, dy, conv, dw),
                        algo, bytes);
}

Status cudnnConvolutionBackwardFilter(Handle handle, const void* alpha, TensorDescriptor x_desc, const void* x,
                                      TensorDescriptor dy_desc, const void* dy, ConvolutionDescriptor conv, int algo,
                                      void* workspace, size_t workspace_bytes, const void* beta,
                                      FilterDescriptor dw_desc, void* dw) {
  return compute(backward_filter_call("cudnnConvolutionBackwardFilter", handle, x_desc, dy_desc, conv, dw_desc), alpha,
                 x, dy, algo, workspace, workspace_bytes, beta, dw);
}

}  // extern "C"

// Each export has exactly the type cudnn.h's loader casts it to, so the two sides agree by construction.
#define PIX_SAME_AS_API(name)                                                                              \
  static_assert(std::is_same_v<decltype(&cudnn##name), decltype(pix::cuda::cudnn::Api::name)>, \
                "cudnn" #name " differs from cudnn.h's Api::" #name);
PIX_SAME_AS_API(GetVersion)
PIX_SAME_AS_API(GetErrorString)
PIX_SAME_AS_API(GetLastErrorString)
PIX_SAME_AS_API(Create)
PIX_SAME_AS_API(Destroy)
PIX_SAME_AS_API(SetStream)
PIX_SAME_AS_API(CreateTensorDescriptor)
PIX_SAME_AS_API(SetTensor4dDescriptor)
PIX_SAME_AS_API(DestroyTensorDescriptor)
PIX_SAME_AS_API(CreateFilterDescriptor)
PIX_SAME_AS_API(SetFilter4dDescriptor)
PIX_SAME_AS_API(DestroyFilterDescriptor)
PIX_SAME_AS_API(CreateConvolutionDescriptor)
PIX_SAME_AS_API(SetConvolution2dDescriptor)
PIX_SAME_AS_API(SetConvolutionMathType)
PIX_SAME_AS_API(DestroyConvolutionDescriptor)
PIX_SAME_AS_API(GetConvolutionForwardAlgorithm_v7)
PIX_SAME_AS_API(FindConvolutionForwardAlgorithmEx)
PIX_SAME_AS_API(GetConvolutionForwardWorkspaceSize)
PIX_SAME_AS_API(ConvolutionForward)
PIX_SAME_AS_API(CreateActivationDescriptor)
PIX_SAME_AS_API(SetActivationDescriptor)
PIX_SAME_AS_API(DestroyActivationDescriptor)
PIX_SAME_AS_API(ConvolutionBiasActivationForward)
PIX_SAME_AS_API(GetConvolutionBackwardDataAlgorithm_v7)
PIX_SAME_AS_API(FindConvolutionBackwardDataAlgorithmEx)
PIX_SAME_AS_API(GetConvolutionBackwardDataWorkspaceSize)
PIX_SAME_AS_API(ConvolutionBackwardData)
PIX_SAME_AS_API(GetConvolutionBackwardFilterAlgorithm_v7)
PIX_SAME_AS_API(FindConvolutionBackwardFilterAlgorithmEx)
PIX_SAME_AS_API(GetConvolutionBackwardFilterWorkspaceSize)
PIX_SAME_AS_API(ConvolutionBackwardFilter)
#undef PIX_SAME_AS_API
