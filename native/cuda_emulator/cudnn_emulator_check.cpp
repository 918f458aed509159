// A check of the CUDA emulator's cuDNN (cudnn_emulator.cpp) on its own, without the engine: it
// opens the built libcudnn.so.9 by path, as the engine would, and checks the three convolution
// directions against a naive loop of its own (scatter-form backward, double sums) and against cases
// worked by hand; NCHW against NHWC; alpha and beta (beta 0 over NaN); bf16; every argument check
// and its last-error message; the heuristics' order and determinism; the Find calls' timing order
// and their handling of a workspace too small; calls from several threads at once; computing calls
// handed to a host launcher that records them, as a capturing stream would, and replays them after
// their descriptors and alpha/beta are gone. It prints what it checked and exits non-zero on any
// failure.
//
// Inputs are multiples of 1/8 in [-1, 1], so every sum below is exact in f32 and the results are
// compared bit for bit: a stand-in summing in bf16, or rounding twice, fails.
//
// Built with the emulated engine (emulated_cuda.cmake); run, from the build folder:
//   cudnn/pix_cudnn_emulator_check cudnn/lib/libcudnn.so.9
// Where PIX_CUDA_EMULATOR_ASAN=ON both are built with AddressSanitizer and the same command checks
// the stand-in's memory accesses against the exact-size buffers this check hands it.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "ops/cuda/cudnn.h"

namespace {

using namespace pix::cuda::cudnn;

Api dnn;  // the entry points, from the library under test
using HostLauncher = cudaError_t (*)(cudaStream_t, cudaHostFn_t, void*);
void (*set_host_launcher)(HostLauncher);  // pixCudaEmulatorCudnnSetHostLauncher, the emulator's own
int checks = 0, failures = 0;

void expect(bool ok, const std::string& what) {
  ++checks;
  if (ok) return;
  ++failures;
  std::printf("  FAIL: %s\n", what.c_str());
}

std::string last_error() {
  char text[1024];
  dnn.GetLastErrorString(text, sizeof text);
  return text;
}

// `status` is `want`, and the message of the last error names `keyword`.
void expect_error(Status status, Status want, const char* keyword, const std::string& what) {
  const std::string message = last_error();
  expect(status == want, what + ": status " + std::to_string(status) + ", expected " + std::to_string(want));
  expect(message.find(keyword) != std::string::npos,
         what + ": the last error \"" + message + "\" does not say \"" + keyword + "\"");
}

// ---- opening the library -------------------------------------------------------------------------

bool open_library(const char* path) {
  void* lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::printf("FAIL: dlopen(%s): %s\n", path, dlerror());
    return false;
  }
  bool all = true;
  auto resolve = [&](auto& slot, const char* name) {
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(dlsym(lib, name));
    expect(slot != nullptr, std::string("the library exports ") + name);
    all = all && slot != nullptr;
  };
#define PIX_RESOLVE(name) resolve(dnn.name, "cudnn" #name);
  PIX_RESOLVE(GetVersion)
  PIX_RESOLVE(GetErrorString)
  PIX_RESOLVE(GetLastErrorString)
  PIX_RESOLVE(Create)
  PIX_RESOLVE(Destroy)
  PIX_RESOLVE(SetStream)
  PIX_RESOLVE(CreateTensorDescriptor)
  PIX_RESOLVE(SetTensor4dDescriptor)
  PIX_RESOLVE(DestroyTensorDescriptor)
  PIX_RESOLVE(CreateFilterDescriptor)
  PIX_RESOLVE(SetFilter4dDescriptor)
  PIX_RESOLVE(DestroyFilterDescriptor)
  PIX_RESOLVE(CreateConvolutionDescriptor)
  PIX_RESOLVE(SetConvolution2dDescriptor)
  PIX_RESOLVE(SetConvolutionMathType)
  PIX_RESOLVE(DestroyConvolutionDescriptor)
  PIX_RESOLVE(GetConvolutionForwardAlgorithm_v7)
  PIX_RESOLVE(FindConvolutionForwardAlgorithmEx)
  PIX_RESOLVE(GetConvolutionForwardWorkspaceSize)
  PIX_RESOLVE(ConvolutionForward)
  PIX_RESOLVE(GetConvolutionBackwardDataAlgorithm_v7)
  PIX_RESOLVE(FindConvolutionBackwardDataAlgorithmEx)
  PIX_RESOLVE(GetConvolutionBackwardDataWorkspaceSize)
  PIX_RESOLVE(ConvolutionBackwardData)
  PIX_RESOLVE(GetConvolutionBackwardFilterAlgorithm_v7)
  PIX_RESOLVE(FindConvolutionBackwardFilterAlgorithmEx)
  PIX_RESOLVE(GetConvolutionBackwardFilterWorkspaceSize)
  PIX_RESOLVE(ConvolutionBackwardFilter)
#undef PIX_RESOLVE
  expect(dlsym(lib, "pixCudaEmulatorCudnn") != nullptr, "the library exports the marker pixCudaEmulatorCudnn");
  set_host_launcher = reinterpret_cast<void (*)(HostLauncher)>(dlsym(lib, "pixCudaEmulatorCudnnSetHostLauncher"));
  expect(set_host_launcher != nullptr, "the library exports pixCudaEmulatorCudnnSetHostLauncher");
  return all && set_host_launcher;
}

// ---- problems, buffers and the naive loop --------------------------------------------------------

// x is (N,C,H,W), w (K,C,R,S), y (N,K,P,Q).
struct Shape {
  const char* name;
  int n, c, h, w, k, r, s;
  int pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  ConvolutionMode mode;
  int p() const { return (h + 2 * pad_h - dilation_h * (r - 1) - 1) / stride_h + 1; }
  int q() const { return (w + 2 * pad_w - dilation_w * (s - 1) - 1) / stride_w + 1; }
};

// A 4-D tensor's bytes, of exactly its size, in its format: logical (a, b, c, d) at a*s[0] + ... .
struct Buffer {
  DataType type;
  TensorFormat format;
  int dims[4];
  std::vector<unsigned char> bytes;

  Buffer(DataType t, TensorFormat f, int a, int b, int c, int d)
      : type(t), format(f), dims{a, b, c, d}, bytes(count() * (t == kFloat ? 4 : 2)) {}
  size_t count() const { return size_t(dims[0]) * dims[1] * dims[2] * dims[3]; }
  void* data() { return bytes.data(); }
  // NCHW: the last logical dimension is innermost; NHWC: the second is, then the last two.
  size_t at(int a, int b, int c, int d) const {
    const size_t B = dims[1], C = dims[2], D = dims[3];
    const bool nchw = format == kNchw;
    const size_t stride[4] = {B * C * D, nchw ? C * D : 1, nchw ? D : D * B, nchw ? 1 : B};
    return a * stride[0] + b * stride[1] + c * stride[2] + d * stride[3];
  }
  float get(size_t i) const {
    if (type == kFloat) return reinterpret_cast<const float*>(bytes.data())[i];
    return pix::bf16_to_float(reinterpret_cast<const pix::bf16*>(bytes.data())[i]);
  }
  void set(size_t i, float v) {
    if (type == kFloat) reinterpret_cast<float*>(bytes.data())[i] = v;
    else reinterpret_cast<pix::bf16*>(bytes.data())[i] = pix::float_to_bf16(v);
  }
  float get(int a, int b, int c, int d) const { return get(at(a, b, c, d)); }
  void fill_nan() {
    for (size_t i = 0; i < count(); ++i) set(i, std::numeric_limits<float>::quiet_NaN());
  }
};

// Multiples of 1/8 in [-1, 1], from a fixed seed.
void fill_eighths(Buffer& b, unsigned seed) {
  for (size_t i = 0; i < b.count(); ++i) {
    seed = seed * 1664525u + 1013904223u;
    b.set(i, float(int(seed >> 16) % 17 - 8) / 8);
  }
}

enum class Direction { kForward, kBackwardData, kBackwardFilter };
const char* direction_name(Direction d) {
  return d == Direction::kForward ? "forward" : d == Direction::kBackwardData ? "backward data" : "backward filter";
}

// The naive loop: every (output position, input channel, tap) term, in double. Backward data and
// filter scatter each term into the element it touches, where the stand-in gathers.
std::vector<double> reference(const Shape& sh, Direction d, const Buffer& x, const Buffer& w, const Buffer& y) {
  const Buffer& out = d == Direction::kForward ? y : d == Direction::kBackwardData ? x : w;
  std::vector<double> result(out.count(), 0.0);
  const int P = sh.p(), Q = sh.q();
  for (int n = 0; n < sh.n; ++n)
    for (int k = 0; k < sh.k; ++k)
      for (int p = 0; p < P; ++p)
        for (int q = 0; q < Q; ++q)
          for (int c = 0; c < sh.c; ++c)
            for (int r = 0; r < sh.r; ++r)
              for (int s = 0; s < sh.s; ++s) {
                const int h = p * sh.stride_h - sh.pad_h + r * sh.dilation_h;
                const int ww = q * sh.stride_w - sh.pad_w + s * sh.dilation_w;
                if (h < 0 || h >= sh.h || ww < 0 || ww >= sh.w) continue;
                // Convolution mode uses the kernel turned 180 degrees.
                const int kr = sh.mode == kConvolution ? sh.r - 1 - r : r;
                const int ks = sh.mode == kConvolution ? sh.s - 1 - s : s;
                const double xv = x.get(n, c, h, ww), wv = w.get(k, c, kr, ks), yv = y.get(n, k, p, q);
                if (d == Direction::kForward) result[y.at(n, k, p, q)] += xv * wv;
                else if (d == Direction::kBackwardData) result[x.at(n, c, h, ww)] += yv * wv;
                else result[w.at(k, c, kr, ks)] += yv * xv;
              }
  return result;
}

// The value an exact sum has once stored in `type`.
float stored(DataType type, double v) {
  return type == kFloat ? float(v) : pix::bf16_to_float(pix::float_to_bf16(float(v)));
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The descriptors of one problem; destroyed with it.
struct Descriptors {
  TensorDescriptor x = nullptr, y = nullptr;
  FilterDescriptor w = nullptr;
  ConvolutionDescriptor conv = nullptr;
  Descriptors(const Shape& sh, DataType type, TensorFormat format, MathType math = kDefaultMath) {
    dnn.CreateTensorDescriptor(&x);
    dnn.CreateTensorDescriptor(&y);
    dnn.CreateFilterDescriptor(&w);
    dnn.CreateConvolutionDescriptor(&conv);
    expect(dnn.SetTensor4dDescriptor(x, format, type, sh.n, sh.c, sh.h, sh.w) == kSuccess, "set x");
    expect(dnn.SetTensor4dDescriptor(y, format, type, sh.n, sh.k, sh.p(), sh.q()) == kSuccess, "set y");
    expect(dnn.SetFilter4dDescriptor(w, type, format, sh.k, sh.c, sh.r, sh.s) == kSuccess, "set w");
    expect(dnn.SetConvolution2dDescriptor(conv, sh.pad_h, sh.pad_w, sh.stride_h, sh.stride_w, sh.dilation_h,
                                          sh.dilation_w, sh.mode, kFloat) == kSuccess, "set conv");
    expect(dnn.SetConvolutionMathType(conv, math) == kSuccess, "set math type");
  }
  ~Descriptors() {
    dnn.DestroyTensorDescriptor(x);
    dnn.DestroyTensorDescriptor(y);
    dnn.DestroyFilterDescriptor(w);
    dnn.DestroyConvolutionDescriptor(conv);
  }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;
};

// The operands of a problem: x, w, y, of which the direction's output is overwritten.
struct Operands {
  Buffer x, w, y;
  Operands(const Shape& sh, DataType type, TensorFormat format)
      : x(type, format, sh.n, sh.c, sh.h, sh.w), w(type, format, sh.k, sh.c, sh.r, sh.s),
        y(type, format, sh.n, sh.k, sh.p(), sh.q()) {}
  Buffer& out(Direction d) { return d == Direction::kForward ? y : d == Direction::kBackwardData ? x : w; }
};

Status run(Direction d, Handle h, const Descriptors& ds, Operands& o, int algo, float alpha, float beta,
           void* workspace, size_t workspace_bytes) {
  switch (d) {
    case Direction::kForward:
      return dnn.ConvolutionForward(h, &alpha, ds.x, o.x.data(), ds.w, o.w.data(), ds.conv, algo, workspace,
                                    workspace_bytes, &beta, ds.y, o.y.data());
    case Direction::kBackwardData:
      return dnn.ConvolutionBackwardData(h, &alpha, ds.w, o.w.data(), ds.y, o.y.data(), ds.conv, algo, workspace,
                                         workspace_bytes, &beta, ds.x, o.x.data());
    default:
      return dnn.ConvolutionBackwardFilter(h, &alpha, ds.x, o.x.data(), ds.y, o.y.data(), ds.conv, algo, workspace,
                                           workspace_bytes, &beta, ds.w, o.w.data());
  }
}

Status workspace_size(Direction d, Handle h, const Descriptors& ds, int algo, size_t* bytes) {
  switch (d) {
    case Direction::kForward: return dnn.GetConvolutionForwardWorkspaceSize(h, ds.x, ds.w, ds.conv, ds.y, algo, bytes);
    case Direction::kBackwardData:
      return dnn.GetConvolutionBackwardDataWorkspaceSize(h, ds.w, ds.y, ds.conv, ds.x, algo, bytes);
    default: return dnn.GetConvolutionBackwardFilterWorkspaceSize(h, ds.x, ds.y, ds.conv, ds.w, algo, bytes);
  }
}

Status heuristics(Direction d, Handle h, const Descriptors& ds, int requested, int* returned, AlgoPerf* results) {
  switch (d) {
    case Direction::kForward:
      return dnn.GetConvolutionForwardAlgorithm_v7(h, ds.x, ds.w, ds.conv, ds.y, requested, returned, results);
    case Direction::kBackwardData:
      return dnn.GetConvolutionBackwardDataAlgorithm_v7(h, ds.w, ds.y, ds.conv, ds.x, requested, returned, results);
    default:
      return dnn.GetConvolutionBackwardFilterAlgorithm_v7(h, ds.x, ds.y, ds.conv, ds.w, requested, returned, results);
  }
}

Status find(Direction d, Handle h, const Descriptors& ds, Operands& o, int requested, int* returned, AlgoPerf* results,
            void* workspace, size_t workspace_bytes) {
  switch (d) {
    case Direction::kForward:
      return dnn.FindConvolutionForwardAlgorithmEx(h, ds.x, o.x.data(), ds.w, o.w.data(), ds.conv, ds.y, o.y.data(),
                                                   requested, returned, results, workspace, workspace_bytes);
    case Direction::kBackwardData:
      return dnn.FindConvolutionBackwardDataAlgorithmEx(h, ds.w, o.w.data(), ds.y, o.y.data(), ds.conv, ds.x,
                                                        o.x.data(), requested, returned, results, workspace,
                                                        workspace_bytes);
    default:
      return dnn.FindConvolutionBackwardFilterAlgorithmEx(h, ds.x, o.x.data(), ds.y, o.y.data(), ds.conv, ds.w,
                                                          o.w.data(), requested, returned, results, workspace,
                                                          workspace_bytes);
  }
}

// A workspace of exactly `bytes` (null for 0), so that AddressSanitizer sees any access past it.
struct Workspace {
  std::vector<unsigned char> bytes;
  explicit Workspace(size_t n) : bytes(n) {}
  void* data() { return bytes.empty() ? nullptr : bytes.data(); }
  size_t size() const { return bytes.size(); }
};

// out (in its format) equals expected (in the same format), bit for bit.
bool matches(const Buffer& out, const std::vector<float>& expected, std::string* first_difference) {
  for (size_t i = 0; i < out.count(); ++i)
    if (!same_bits(out.get(i), expected[i])) {
      *first_difference = "element " + std::to_string(i) + " is " + std::to_string(out.get(i)) + ", expected " +
                          std::to_string(expected[i]);
      return false;
    }
  return true;
}

const Direction kDirections[] = {Direction::kForward, Direction::kBackwardData, Direction::kBackwardFilter};

// ---- the sections --------------------------------------------------------------------------------

const Shape kStrided{"N=2 6x5 C=3 K=4 3x3 stride 2 pad 1", 2, 3, 6, 5, 4, 3, 3, 1, 1, 2, 2, 1, 1, kCrossCorrelation};
const Shape kPointwise{"N=2 4x4 C=3 K=5 1x1", 2, 3, 4, 4, 5, 1, 1, 0, 0, 1, 1, 1, 1, kCrossCorrelation};
const Shape kDilated{"N=1 6x7 C=2 K=3 3x2 pad 2,1 dilation 2,3 convolution mode", 1, 2, 6, 7, 3, 3, 2, 2, 1, 1, 1, 2, 3,
                     kConvolution};

// Each direction, algorithm, data type and format against the naive loop: alpha 1 beta 0 over an
// output of NaN, then alpha 2 beta 1 over known values.
void check_against_naive_loop(Handle h) {
  int runs = 0;
  for (const Shape& sh : {kStrided, kPointwise, kDilated})
    for (DataType type : {kFloat, kBFloat16})
      for (TensorFormat format : {kNhwc, kNchw}) {
        const Descriptors ds(sh, type, format);
        Operands o(sh, type, format);
        fill_eighths(o.x, 1);
        fill_eighths(o.w, 2);
        fill_eighths(o.y, 3);
        for (Direction d : kDirections)
          for (int algo : {0, 1}) {
            const std::string what = std::string(direction_name(d)) + " algo " + std::to_string(algo) +
                                     (type == kFloat ? " f32 " : " bf16 ") + (format == kNhwc ? "NHWC " : "NCHW ") +
                                     sh.name;
            size_t bytes = 0;
            expect(workspace_size(d, h, ds, algo, &bytes) == kSuccess, what + ": workspace size");
            Workspace ws(bytes);
            const Buffer saved = o.out(d);
            const std::vector<double> sums = reference(sh, d, o.x, o.w, o.y);
            std::vector<float> expected(sums.size());
            std::string diff;

            o.out(d).fill_nan();
            expect(run(d, h, ds, o, algo, 1, 0, ws.data(), ws.size()) == kSuccess, what + ": beta 0 runs");
            for (size_t i = 0; i < sums.size(); ++i) expected[i] = stored(type, sums[i]);
            expect(matches(o.out(d), expected, &diff), what + ", beta 0 over NaN: " + diff);

            o.out(d) = saved;
            expect(run(d, h, ds, o, algo, 2, 1, ws.data(), ws.size()) == kSuccess, what + ": beta 1 runs");
            for (size_t i = 0; i < sums.size(); ++i) expected[i] = stored(type, 2 * sums[i] + saved.get(i));
            expect(matches(o.out(d), expected, &diff), what + ", alpha 2 beta 1: " + diff);
            o.out(d) = saved;
            runs += 2;
          }
      }
  std::printf("  %d runs: 3 shapes x f32, bf16 x NHWC, NCHW x 3 directions x algos 0, 1 x "
              "(beta 0 over NaN, alpha 2 beta 1)\n", runs);
}

// The same logical problem in NCHW and in NHWC gives the same logical results, bit for bit.
void check_nchw_equals_nhwc(Handle h) {
  const Shape& sh = kStrided;
  const Descriptors nchw_ds(sh, kFloat, kNchw), nhwc_ds(sh, kFloat, kNhwc);
  Operands a(sh, kFloat, kNchw), b(sh, kFloat, kNhwc);
  fill_eighths(a.x, 11);
  fill_eighths(a.w, 12);
  fill_eighths(a.y, 13);
  auto permute = [](const Buffer& from, Buffer& to) {
    for (int i = 0; i < from.dims[0]; ++i)
      for (int j = 0; j < from.dims[1]; ++j)
        for (int k = 0; k < from.dims[2]; ++k)
          for (int l = 0; l < from.dims[3]; ++l) to.set(to.at(i, j, k, l), from.get(i, j, k, l));
  };
  permute(a.x, b.x);
  permute(a.w, b.w);
  permute(a.y, b.y);
  for (Direction d : kDirections) {
    expect(run(d, h, nchw_ds, a, 0, 1, 0, nullptr, 0) == kSuccess, std::string(direction_name(d)) + " NCHW runs");
    expect(run(d, h, nhwc_ds, b, 0, 1, 0, nullptr, 0) == kSuccess, std::string(direction_name(d)) + " NHWC runs");
    const Buffer &ra = a.out(d), &rb = b.out(d);
    bool same = true;
    for (int i = 0; i < ra.dims[0]; ++i)
      for (int j = 0; j < ra.dims[1]; ++j)
        for (int k = 0; k < ra.dims[2]; ++k)
          for (int l = 0; l < ra.dims[3]; ++l) same = same && same_bits(ra.get(i, j, k, l), rb.get(i, j, k, l));
    expect(same, std::string(direction_name(d)) + ": NCHW and NHWC differ after permuting");
  }
  std::printf("  3 directions, %s\n", sh.name);
}

// x = 1..9 (3x3), w = [1 2; 3 4], dy = ones, worked by hand.
void check_hand_worked(Handle h) {
  struct Case {
    const char* name;
    ConvolutionMode mode;
    int dilation;
    std::vector<float> y, dx, dw;
  };
  const Case cases[] = {
      {"cross-correlation", kCrossCorrelation, 1, {37, 47, 67, 77}, {1, 3, 2, 4, 10, 6, 3, 7, 4}, {12, 16, 24, 28}},
      // The kernel turned: [4 3; 2 1]; dw is turned back.
      {"convolution", kConvolution, 1, {23, 33, 53, 63}, {4, 7, 3, 6, 10, 4, 2, 3, 1}, {28, 24, 16, 12}},
      // Taps at (0,0), (0,2), (2,0), (2,2): 1*1 + 3*2 + 7*3 + 9*4.
      {"dilation 2", kCrossCorrelation, 2, {64}, {1, 0, 2, 0, 0, 0, 3, 0, 4}, {1, 3, 7, 9}},
  };
  for (DataType type : {kFloat, kBFloat16})
    for (const Case& c : cases) {
      const Shape sh{c.name, 1, 1, 3, 3, 1, 2, 2, 0, 0, 1, 1, c.dilation, c.dilation, c.mode};
      const Descriptors ds(sh, type, kNhwc);
      Operands o(sh, type, kNhwc);
      for (int i = 0; i < 9; ++i) o.x.set(i, float(i + 1));
      for (int i = 0; i < 4; ++i) o.w.set(i, float(i + 1));
      for (size_t i = 0; i < o.y.count(); ++i) o.y.set(i, 1);
      const std::vector<float>* want[] = {&c.y, &c.dx, &c.dw};
      int which = 0;
      for (Direction d : kDirections) {
        // Backward runs need dy = ones, so forward's output goes to a copy.
        Operands io = o;
        io.out(d).fill_nan();
        expect(run(d, h, ds, io, 0, 1, 0, nullptr, 0) == kSuccess, std::string(c.name) + " runs");
        std::string diff;
        expect(matches(io.out(d), *want[which++], &diff),
               std::string(direction_name(d)) + " " + c.name + (type == kFloat ? " f32: " : " bf16: ") + diff);
      }
    }
  std::printf("  cross-correlation, convolution and dilation 2 by hand, 3 directions, f32 and bf16\n");
}

// The library's identity and the creation and descriptor calls' argument checks.
void check_descriptor_errors() {
  expect(dnn.GetVersion() == 90600, "cudnnGetVersion is 90600");
  expect(std::string(dnn.GetErrorString(kBadParam)) == "CUDNN_STATUS_BAD_PARAM", "the name of kBadParam");
  expect(std::string(dnn.GetErrorString(kNotSupported)) == "CUDNN_STATUS_NOT_SUPPORTED", "the name of kNotSupported");
  expect(std::string(dnn.GetErrorString(kSuccess)) == "CUDNN_STATUS_SUCCESS", "the name of kSuccess");

  expect_error(dnn.Create(nullptr), kBadParam, "null", "cudnnCreate(NULL)");
  expect_error(dnn.CreateTensorDescriptor(nullptr), kBadParam, "null", "cudnnCreateTensorDescriptor(NULL)");
  expect_error(dnn.CreateFilterDescriptor(nullptr), kBadParam, "null", "cudnnCreateFilterDescriptor(NULL)");
  expect_error(dnn.CreateConvolutionDescriptor(nullptr), kBadParam, "null", "cudnnCreateConvolutionDescriptor(NULL)");
  char small[8];
  dnn.GetLastErrorString(small, sizeof small);
  expect(std::strlen(small) == sizeof small - 1, "the last error is cut to the buffer");

  TensorDescriptor t;
  FilterDescriptor f;
  ConvolutionDescriptor cd;
  dnn.CreateTensorDescriptor(&t);
  dnn.CreateFilterDescriptor(&f);
  dnn.CreateConvolutionDescriptor(&cd);
  expect_error(dnn.SetTensor4dDescriptor(t, kNhwc, kFloat, 1, 0, 3, 3), kBadParam, "above 0", "a tensor with C = 0");
  expect_error(dnn.SetTensor4dDescriptor(t, kNhwc, DataType(2), 1, 1, 3, 3), kNotSupported, "data type", "half");
  expect_error(dnn.SetTensor4dDescriptor(t, TensorFormat(2), kFloat, 1, 1, 3, 3), kNotSupported, "format", "VECT_C");
  expect_error(dnn.SetFilter4dDescriptor(f, DataType(1), kNhwc, 1, 1, 3, 3), kNotSupported, "data type", "double");
  expect_error(dnn.SetFilter4dDescriptor(f, kFloat, kNhwc, 1, 1, -3, 3), kBadParam, "above 0", "a filter with R = -3");
  auto set_conv = [&](int pad, int stride, int dilation, ConvolutionMode mode, DataType compute) {
    return dnn.SetConvolution2dDescriptor(cd, pad, 0, stride, 1, dilation, 1, mode, compute);
  };
  expect_error(set_conv(-1, 1, 1, kCrossCorrelation, kFloat), kBadParam, "negative", "pad -1");
  expect_error(set_conv(0, 0, 1, kCrossCorrelation, kFloat), kBadParam, "stride", "stride 0");
  expect_error(set_conv(0, 1, 0, kCrossCorrelation, kFloat), kBadParam, "dilation", "dilation 0");
  expect_error(set_conv(0, 1, 1, ConvolutionMode(2), kFloat), kBadParam, "mode", "mode 2");
  expect_error(set_conv(0, 1, 1, kCrossCorrelation, kBFloat16), kNotSupported, "compute type", "bf16 compute");
  expect_error(dnn.SetConvolutionMathType(cd, MathType(7)), kBadParam, "math type", "math type 7");
  expect_error(dnn.SetConvolutionMathType(nullptr, kDefaultMath), kBadParam, "null", "math type on NULL");
  dnn.DestroyTensorDescriptor(t);
  dnn.DestroyFilterDescriptor(f);
  dnn.DestroyConvolutionDescriptor(cd);
  std::printf("  version, status names, creation, tensor, filter and convolution descriptors, math type\n");
}

// The compute and query calls' argument checks, each with one argument off a good call.
void check_call_errors(Handle h) {
  const Shape& sh = kStrided;
  const int P = sh.p(), Q = sh.q();
  const Descriptors ds(sh, kFloat, kNhwc);
  Operands o(sh, kFloat, kNhwc);
  fill_eighths(o.x, 1);
  fill_eighths(o.w, 2);
  const float one = 1, zero = 0;
  // Descriptors never set, and set one dimension or type off the good ones.
  TensorDescriptor unset_t;
  FilterDescriptor unset_f;
  ConvolutionDescriptor unset_conv;
  dnn.CreateTensorDescriptor(&unset_t);
  dnn.CreateFilterDescriptor(&unset_f);
  dnn.CreateConvolutionDescriptor(&unset_conv);
  std::vector<TensorDescriptor> tensors;
  auto tensor = [&](DataType type, int n, int c, int hh, int w) {
    TensorDescriptor d;
    dnn.CreateTensorDescriptor(&d);
    dnn.SetTensor4dDescriptor(d, kNhwc, type, n, c, hh, w);
    tensors.push_back(d);
    return d;
  };
  std::vector<FilterDescriptor> filters;
  auto filter = [&](DataType type, int k, int c, int r, int s) {
    FilterDescriptor d;
    dnn.CreateFilterDescriptor(&d);
    dnn.SetFilter4dDescriptor(d, type, kNhwc, k, c, r, s);
    filters.push_back(d);
    return d;
  };
  const FilterDescriptor wide = filter(kFloat, sh.k, sh.c + 1, sh.r, sh.s);

  auto forward = [&](Handle hh, TensorDescriptor x, FilterDescriptor w, TensorDescriptor y, int algo, void* ws,
                     size_t bytes) {
    return dnn.ConvolutionForward(hh, &one, x, o.x.data(), w, o.w.data(), ds.conv, algo, ws, bytes, &zero, y,
                                  o.y.data());
  };
  auto forward_pointers = [&](ConvolutionDescriptor conv, const void* w, void* y, const float* beta) {
    return dnn.ConvolutionForward(h, &one, ds.x, o.x.data(), ds.w, w, conv, 0, nullptr, 0, beta, ds.y, y);
  };
  size_t need = 0;
  dnn.GetConvolutionForwardWorkspaceSize(h, ds.x, ds.w, ds.conv, ds.y, 1, &need);
  Workspace ws(need);
  expect_error(forward(nullptr, ds.x, ds.w, ds.y, 0, nullptr, 0), kBadParam, "handle", "forward: null handle");
  expect_error(forward(h, nullptr, ds.w, ds.y, 0, nullptr, 0), kBadParam, "x descriptor is null",
               "forward: null x descriptor");
  expect_error(forward(h, ds.x, nullptr, ds.y, 0, nullptr, 0), kBadParam, "filter descriptor is null",
               "forward: null w descriptor");
  expect_error(forward(h, ds.x, ds.w, unset_t, 0, nullptr, 0), kBadParam, "never set", "forward: y never set");
  expect_error(forward(h, ds.x, unset_f, ds.y, 0, nullptr, 0), kBadParam, "never set", "forward: w never set");
  expect_error(forward_pointers(unset_conv, o.w.data(), o.y.data(), &zero), kBadParam, "never set",
               "forward: convolution never set");
  expect_error(forward_pointers(ds.conv, nullptr, o.y.data(), &zero), kBadParam, "w pointer", "forward: null w");
  expect_error(forward_pointers(ds.conv, o.w.data(), nullptr, &zero), kBadParam, "y pointer", "forward: null y");
  expect_error(forward_pointers(ds.conv, o.w.data(), o.y.data(), nullptr), kBadParam, "beta", "forward: null beta");
  expect_error(forward(h, ds.x, wide, ds.y, 0, nullptr, 0), kBadParam, "channels", "forward: C mismatch");
  expect_error(forward(h, tensor(kFloat, sh.n, sh.c, sh.h, sh.w), ds.w, tensor(kFloat, sh.n + 1, sh.k, P, Q), 0,
                       nullptr, 0),
               kBadParam, "batch", "forward: N mismatch");
  expect_error(forward(h, ds.x, ds.w, tensor(kFloat, sh.n, sh.k + 1, P, Q), 0, nullptr, 0), kBadParam,
               "output channels", "forward: K mismatch");
  expect_error(forward(h, ds.x, ds.w, tensor(kFloat, sh.n, sh.k, P + 1, Q), 0, nullptr, 0), kBadParam, "gives",
               "forward: y dims wrong");
  expect_error(forward(h, ds.x, filter(kBFloat16, sh.k, sh.c, sh.r, sh.s), ds.y, 0, nullptr, 0), kBadParam,
               "mixed data types", "forward: bf16 w, f32 x and y");
  expect_error(forward(h, ds.x, filter(kFloat, sh.k, sh.c, 9, sh.s), ds.y, 0, nullptr, 0), kBadParam, "larger",
               "forward: a filter larger than the input");
  expect_error(forward(h, ds.x, ds.w, ds.y, 0, nullptr, 64), kBadParam, "workspace pointer is null",
               "forward: null workspace of 64 bytes");
  expect_error(forward(h, ds.x, ds.w, ds.y, 1, ws.data(), need - 1), kBadParam, "needs a workspace",
               "forward: workspace one byte short");
  expect_error(forward(h, ds.x, ds.w, ds.y, 8, nullptr, 0), kNotSupported, "not one of", "forward: algo 8");
  expect_error(forward(h, ds.x, ds.w, ds.y, -1, nullptr, 0), kNotSupported, "not one of", "forward: algo -1");
  expect_error(forward(h, ds.x, ds.w, ds.y, 2, nullptr, 0), kNotSupported, "not supported", "forward: algo 2");

  auto backward_data = [&](TensorDescriptor dy, const void* dy_data, TensorDescriptor dx, FilterDescriptor w, int algo,
                           void* ws, size_t bytes) {
    return dnn.ConvolutionBackwardData(h, &one, w, o.w.data(), dy, dy_data, ds.conv, algo, ws, bytes, &zero, dx,
                                       o.x.data());
  };
  dnn.GetConvolutionBackwardDataWorkspaceSize(h, ds.w, ds.y, ds.conv, ds.x, 1, &need);
  Workspace data_ws(need);
  const void* dy = o.y.data();
  expect_error(backward_data(ds.y, dy, ds.x, wide, 0, nullptr, 0), kBadParam, "channels", "backward data: C mismatch");
  expect_error(backward_data(ds.y, dy, tensor(kFloat, sh.n, sh.c, sh.h + 2, sh.w), ds.w, 0, nullptr, 0), kBadParam,
               "gives", "backward data: dx too tall for dy");
  expect_error(backward_data(ds.y, dy, ds.x, ds.w, 6, nullptr, 0), kNotSupported, "not one of",
               "backward data: algo 6");
  expect_error(backward_data(ds.y, dy, ds.x, ds.w, 3, nullptr, 0), kNotSupported, "not supported",
               "backward data: algo 3");
  expect_error(backward_data(ds.y, dy, ds.x, ds.w, 1, data_ws.data(), need - 4), kBadParam, "needs a workspace",
               "backward data: workspace short");
  expect_error(backward_data(ds.y, nullptr, ds.x, ds.w, 0, nullptr, 0), kBadParam, "dy pointer",
               "backward data: null dy");

  auto backward_filter = [&](TensorDescriptor dy, FilterDescriptor dw, int algo, void* ws, size_t bytes) {
    return dnn.ConvolutionBackwardFilter(h, &one, ds.x, o.x.data(), dy, o.y.data(), ds.conv, algo, ws, bytes, &zero, dw,
                                         o.w.data());
  };
  dnn.GetConvolutionBackwardFilterWorkspaceSize(h, ds.x, ds.y, ds.conv, ds.w, 1, &need);
  Workspace filter_ws(need);
  expect_error(backward_filter(ds.y, wide, 0, nullptr, 0), kBadParam, "channels", "backward filter: C mismatch");
  expect_error(backward_filter(tensor(kBFloat16, sh.n, sh.k, P, Q), ds.w, 0, nullptr, 0), kBadParam,
               "mixed data types", "backward filter: bf16 dy");
  expect_error(backward_filter(ds.y, ds.w, 7, nullptr, 0), kNotSupported, "not one of", "backward filter: algo 7");
  expect_error(backward_filter(ds.y, ds.w, 5, nullptr, 0), kNotSupported, "not supported", "backward filter: algo 5");
  expect_error(backward_filter(ds.y, ds.w, 1, nullptr, 0), kBadParam, "needs a workspace",
               "backward filter: algo 1 without a workspace");
  expect_error(backward_filter(ds.y, ds.w, 1, filter_ws.data(), need - 1), kBadParam, "needs a workspace",
               "backward filter: workspace short");

  size_t bytes;
  int returned;
  AlgoPerf results[kMaxAlgorithms];
  for (Direction d : kDirections) {
    const std::string name = direction_name(d);
    expect_error(workspace_size(d, h, ds, 4, &bytes), kNotSupported, "not supported", name + ": size of algo 4");
    expect_error(workspace_size(d, h, ds, 9, &bytes), kNotSupported, "not one of", name + ": size of algo 9");
    expect_error(workspace_size(d, h, ds, 0, nullptr), kBadParam, "null", name + ": size into NULL");
    expect_error(workspace_size(d, nullptr, ds, 0, &bytes), kBadParam, "handle", name + ": size, null handle");
    expect_error(heuristics(d, h, ds, 0, &returned, results), kBadParam, "requestedAlgoCount", name + ": _v7 for 0");
    expect_error(heuristics(d, h, ds, 2, &returned, nullptr), kBadParam, "null", name + ": _v7 into NULL");
    expect_error(find(d, h, ds, o, 2, &returned, nullptr, nullptr, 0), kBadParam, "null", name + ": find into NULL");
    expect_error(find(d, h, ds, o, 2, &returned, results, nullptr, 256), kBadParam, "workspace pointer is null",
                 name + ": find with a null workspace of 256 bytes");
  }

  // The last error is the thread's own: a failure on another thread leaves this one's as it was.
  const std::string before = last_error();
  std::thread([&] { forward(h, ds.x, wide, ds.y, 0, nullptr, 0); }).join();
  expect(last_error() == before, "another thread's failure changed this thread's last error");

  for (TensorDescriptor d : tensors) dnn.DestroyTensorDescriptor(d);
  for (FilterDescriptor d : filters) dnn.DestroyFilterDescriptor(d);
  dnn.DestroyTensorDescriptor(unset_t);
  dnn.DestroyFilterDescriptor(unset_f);
  dnn.DestroyConvolutionDescriptor(unset_conv);
  std::printf("  handle, descriptors, pointers, shapes, data types, algorithms, workspaces; per thread\n");
}

// The heuristics' order, determinism and workspace sizes, and math type echoed.
void check_heuristics(Handle h) {
  const Shape& sh = kStrided;
  const Descriptors ds(sh, kBFloat16, kNhwc, kTensorOpMath);
  // Per direction: the algorithms in order and whether each is deterministic.
  const int order[3][2] = {{1, 0}, {1, 0}, {0, 1}};
  const Determinism determinism[3][2] = {{kDeterministic, kDeterministic},
                                         {kDeterministic, kNonDeterministic},
                                         {kNonDeterministic, kDeterministic}};
  const size_t out_bytes[3] = {size_t(sh.n) * sh.k * sh.p() * sh.q() * 2, size_t(sh.n) * sh.c * sh.h * sh.w * 2,
                               size_t(sh.k) * sh.c * sh.r * sh.s * 2};
  const size_t divisor[3] = {4, 8, 1};
  for (int di = 0; di < 3; ++di) {
    const Direction d = kDirections[di];
    const std::string name = direction_name(d);
    int returned = -1;
    AlgoPerf results[kMaxAlgorithms];
    expect(heuristics(d, h, ds, kMaxAlgorithms, &returned, results) == kSuccess, name + " heuristics run");
    expect(returned == 2, name + " heuristics return 2 algorithms");
    for (int i = 0; i < 2 && i < returned; ++i) {
      const AlgoPerf& r = results[i];
      const std::string at = name + " heuristics[" + std::to_string(i) + "]";
      expect(r.algo == order[di][i], at + " is algo " + std::to_string(order[di][i]));
      expect(r.status == kSuccess && r.time == -1.0f, at + " has status success and time -1");
      expect(r.determinism == determinism[di][i], at + " determinism");
      expect(r.math_type == kTensorOpMath, at + " echoes the descriptor's math type");
      size_t bytes = 1;
      expect(workspace_size(d, h, ds, r.algo, &bytes) == kSuccess && bytes == r.memory,
             at + " memory equals the workspace size query");
    }
    // The sizes asked for: output bytes / divisor, rounded up to 256, for the algorithm with one.
    size_t bytes = 0;
    workspace_size(d, h, ds, 1, &bytes);
    const size_t want = ((out_bytes[di] + divisor[di] - 1) / divisor[di] + 255) / 256 * 256;
    expect(bytes == want,
           name + " algo 1 workspace is " + std::to_string(bytes) + ", expected " + std::to_string(want));
    workspace_size(d, h, ds, 0, &bytes);
    expect(bytes == 0, name + " algo 0 needs no workspace");
    expect(heuristics(d, h, ds, 1, &returned, results) == kSuccess && returned == 1 && results[0].algo == order[di][0],
           name + " heuristics for 1 return the first");
  }
  std::printf("  forward 1, 0; backward data 1, 0 (0 non-deterministic); backward filter 0 (non-deterministic), 1\n");
}

// Find runs every algorithm that fits, into the caller's output; too small a workspace makes the
// algorithm that needs one fail, sorted last.
void check_find(Handle h) {
  const Shape& sh = kStrided;
  for (DataType type : {kFloat, kBFloat16}) {
    const Descriptors ds(sh, type, kNhwc);
    Operands o(sh, type, kNhwc);
    fill_eighths(o.x, 21);
    fill_eighths(o.w, 22);
    fill_eighths(o.y, 23);
    for (Direction d : kDirections) {
      const std::string name = std::string(direction_name(d)) + (type == kFloat ? " f32" : " bf16");
      const std::vector<double> sums = reference(sh, d, o.x, o.w, o.y);
      std::vector<float> expected(sums.size());
      for (size_t i = 0; i < sums.size(); ++i) expected[i] = stored(type, sums[i]);
      size_t need = 0;
      workspace_size(d, h, ds, 1, &need);
      std::string diff;

      Workspace ws(need);
      int returned = -1;
      AlgoPerf results[kMaxAlgorithms];
      o.out(d).fill_nan();
      expect(find(d, h, ds, o, kMaxAlgorithms, &returned, results, ws.data(), ws.size()) == kSuccess,
             name + " find runs");
      expect(returned == 2, name + " find returns 2");
      expect(results[0].status == kSuccess && results[1].status == kSuccess, name + " both fit");
      expect(results[0].time >= 0 && results[0].time <= results[1].time, name + " find sorts by time");
      expect(results[0].algo != results[1].algo, name + " find lists each algorithm once");
      expect(matches(o.out(d), expected, &diff), name + " find leaves the result: " + diff);

      o.out(d).fill_nan();
      expect(find(d, h, ds, o, kMaxAlgorithms, &returned, results, nullptr, 0) == kSuccess,
             name + " find without workspace");
      expect(returned == 2 && results[0].algo == 0 && results[0].status == kSuccess && results[0].memory == 0,
             name + " without workspace: algo 0 first, succeeded");
      expect(results[1].algo == 1 && results[1].status != kSuccess && results[1].memory == need,
             name + " without workspace: algo 1 last, failed, with its size");
      expect(matches(o.out(d), expected, &diff), name + " find without workspace leaves the result: " + diff);

      expect(find(d, h, ds, o, 1, &returned, results, ws.data(), ws.size()) == kSuccess && returned == 1,
             name + " find for 1 returns 1");

      // The workspace is written over its whole required size.
      std::memset(ws.data(), 0x5a, ws.size());
      expect(run(d, h, ds, o, 1, 1, 0, ws.data(), ws.size()) == kSuccess, name + " algo 1 runs");
      expect(ws.bytes.back() != 0x5a, name + " algo 1 writes its workspace to the end");
    }
  }
  std::printf("  3 directions, f32 and bf16: workspace that fits, none, requested 1, workspace really used\n");
}

// Four threads, each its own handle, descriptors and workspace, at once.
void check_threads() {
  const Shape& sh = kStrided;
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Handle h = nullptr;
      if (dnn.Create(&h) != kSuccess) return;
      dnn.SetStream(h, reinterpret_cast<cudaStream_t>(uintptr_t(t + 1)));
      const Descriptors ds(sh, kFloat, t % 2 ? kNchw : kNhwc);
      Operands o(sh, kFloat, t % 2 ? kNchw : kNhwc);
      fill_eighths(o.x, 31 + t);
      fill_eighths(o.w, 41 + t);
      const std::vector<double> sums = reference(sh, Direction::kForward, o.x, o.w, o.y);
      std::vector<float> expected(sums.begin(), sums.end());
      size_t need = 0;
      dnn.GetConvolutionForwardWorkspaceSize(h, ds.x, ds.w, ds.conv, ds.y, 1, &need);
      Workspace ws(need);
      int good = 0;
      std::string diff;
      for (int i = 0; i < 50; ++i) {
        o.y.fill_nan();
        const Status s = run(Direction::kForward, h, ds, o, 1, 1, 0, ws.data(), ws.size());
        good += s == kSuccess && matches(o.y, expected, &diff);
      }
      ok[t] = good;
      dnn.Destroy(h);
    });
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 4; ++t)
    expect(ok[t] == 50, "thread " + std::to_string(t) + ": " + std::to_string(ok[t]) + " of 50 right");
  std::printf("  4 threads x 50 forward runs, each on its own handle\n");
}

// A stand-in for the emulator runtime's cudaLaunchHostFunc: records the work as a capturing stream
// would, runs it at once as an idle stream would, or refuses it as an invalidated capture would.
enum class LauncherMode { kRecord, kRunAtOnce, kRefuse };
struct Launched {
  cudaStream_t stream;
  cudaHostFn_t fn;
  void* data;
};
LauncherMode g_launcher_mode = LauncherMode::kRecord;
std::vector<Launched> g_launched;

cudaError_t fake_launcher(cudaStream_t stream, cudaHostFn_t fn, void* data) {
  if (g_launcher_mode == LauncherMode::kRefuse) return cudaErrorStreamCaptureInvalidated;
  g_launched.push_back({stream, fn, data});
  if (g_launcher_mode == LauncherMode::kRunAtOnce) fn(data);
  return cudaSuccess;
}

// Each direction recorded (alpha 2, beta 0, through run(), whose alpha and beta die with it), its
// descriptors destroyed, then replayed three times over NaN; errors still returned at the call.
void check_host_launcher() {
  const Shape& sh = kStrided;
  const auto stream = reinterpret_cast<cudaStream_t>(uintptr_t(0x5ea));
  Handle h = nullptr;
  expect(dnn.Create(&h) == kSuccess && dnn.SetStream(h, stream) == kSuccess, "a handle on a stream");
  set_host_launcher(fake_launcher);
  for (Direction d : kDirections) {
    const std::string name = direction_name(d);
    auto ds = std::make_unique<Descriptors>(sh, kFloat, kNhwc);
    Operands o(sh, kFloat, kNhwc);
    fill_eighths(o.x, 51);
    fill_eighths(o.w, 52);
    fill_eighths(o.y, 53);
    const std::vector<double> sums = reference(sh, d, o.x, o.w, o.y);
    std::vector<float> expected(sums.size());
    for (size_t i = 0; i < sums.size(); ++i) expected[i] = float(2 * sums[i]);
    size_t need = 0;
    workspace_size(d, h, *ds, 1, &need);
    Workspace ws(need);
    o.out(d).fill_nan();

    g_launcher_mode = LauncherMode::kRecord;
    g_launched.clear();
    expect(run(d, h, *ds, o, 1, 2, 0, ws.data(), ws.size()) == kSuccess, name + " recorded");
    expect(g_launched.size() == 1 && g_launched[0].stream == stream, name + " handed to the launcher on the handle's stream");
    std::string diff;
    expect(!matches(o.out(d), expected, &diff), name + " did not run when recorded");
    expect_error(run(d, h, *ds, o, 5, 2, 0, ws.data(), ws.size()), kNotSupported, "algorithm 5",
                 name + " with a bad algorithm, recording");
    expect(g_launched.size() == 1, name + " with a bad algorithm is refused at the call, not handed over");
    ds.reset();  // the recorded work holds the descriptors' contents, not the descriptors
    for (int replay = 1; replay <= 3 && g_launched.size() == 1; ++replay) {
      o.out(d).fill_nan();
      g_launched[0].fn(g_launched[0].data);
      expect(matches(o.out(d), expected, &diff), name + " replay " + std::to_string(replay) + ": " + diff);
    }

    ds = std::make_unique<Descriptors>(sh, kFloat, kNhwc);
    g_launcher_mode = LauncherMode::kRunAtOnce;
    o.out(d).fill_nan();
    expect(run(d, h, *ds, o, 1, 2, 0, ws.data(), ws.size()) == kSuccess, name + " through a launcher running at once");
    expect(matches(o.out(d), expected, &diff), name + " ran at once: " + diff);

    g_launcher_mode = LauncherMode::kRefuse;
    expect_error(run(d, h, *ds, o, 1, 2, 0, ws.data(), ws.size()), static_cast<Status>(5003), "refused",
                 name + " refused by the stream");
  }
  set_host_launcher(nullptr);
  g_launched.clear();
  {
    const Descriptors ds(sh, kFloat, kNhwc);
    Operands o(sh, kFloat, kNhwc);
    fill_eighths(o.x, 51);
    fill_eighths(o.w, 52);
    expect(run(Direction::kForward, h, ds, o, 0, 1, 0, nullptr, 0) == kSuccess && g_launched.empty(),
           "without a launcher, no launcher is called");
  }
  dnn.Destroy(h);
  std::printf("  3 directions recorded, replayed 3 times without their descriptors; at once; refused\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s path/to/libcudnn.so.9 (the CUDA emulator's)\n", argv[0]);
    return 2;
  }
  std::printf("cuDNN stand-in check: %s\n", argv[1]);
  if (!open_library(argv[1])) return 1;
  Handle h = nullptr;
  if (dnn.Create(&h) != kSuccess || dnn.SetStream(h, nullptr) != kSuccess) {
    std::printf("FAIL: cudnnCreate\n");
    return 1;
  }
  const struct {
    const char* name;
    void (*run)(Handle);
  } sections[] = {
      {"convolutions against the naive loop", check_against_naive_loop},
      {"NCHW equals NHWC", check_nchw_equals_nhwc},
      {"cases worked by hand", check_hand_worked},
      {"argument errors: creation and descriptors", [](Handle) { check_descriptor_errors(); }},
      {"argument errors: compute and query calls", check_call_errors},
      {"heuristics (_v7)", check_heuristics},
      {"Find*Ex", check_find},
      {"threads", [](Handle) { check_threads(); }},
      {"computing calls through a host launcher", [](Handle) { check_host_launcher(); }},
  };
  for (const auto& s : sections) {
    const int before = failures;
    std::printf("%s:\n", s.name);
    s.run(h);
    std::printf("  -> %s\n", failures == before ? "ok" : "FAILED");
  }
  expect(dnn.Destroy(h) == kSuccess, "cudnnDestroy");
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
