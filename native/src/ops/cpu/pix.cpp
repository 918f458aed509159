// PiX on the CPU: the plain reference loop, and the fast path (threads, contiguous inner loops,
// subset size known at compile time for the zeta values of PiX-ResNet: 1, 2 and 4).
//
// x (N,H,W,C) or (N,C,H,W); p, dp (N,K); y, dy with K channels. T is float or double; gradients
// of the gate are summed in double so the result does not depend on the thread count.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/thread_pool.h"
#include "ops/pix.h"

namespace pix::cpu {
namespace {

// Element strides of x and y for the layout: channel stride and pixel stride within one image.
struct Strides {
  int64_t x_image, x_channel, x_pixel;
  int64_t y_image, y_channel, y_pixel;
};

Strides strides_for(Layout layout, const PixShape& s) {
  if (layout == Layout::NHWC) return {s.hw * s.c, 1, s.c, s.hw * s.k, 1, s.k};
  return {s.c * s.hw, s.hw, 1, s.k * s.hw, s.hw, 1};
}

// ------------------------------------------------------------------------------------------------
// Reference: one output element at a time, straight from SPEC §2.

template <typename T>
void forward_reference(const T* x, const T* p, T* y, const PixParams& params, const PixShape& s) {
  const Strides st = strides_for(params.layout, s);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k) {
      const T gate = p[n * s.k + k];
      const bool pick = gate < static_cast<T>(params.tau);
      const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
      for (int64_t q = 0; q < s.hw; ++q) {
        const T* xs = x + n * st.x_image + q * st.x_pixel;
        T selected;
        if (pick) {
          selected = xs[c0 * st.x_channel];
          for (int64_t c = c0 + 1; c < c1; ++c) selected = std::max(selected, xs[c * st.x_channel]);
        } else {
          T sum = 0;
          for (int64_t c = c0; c < c1; ++c) sum += xs[c * st.x_channel];
          selected = sum / static_cast<T>(params.zeta);
        }
        y[n * st.y_image + k * st.y_channel + q * st.y_pixel] = gate * selected;
      }
    }
}

template <typename T>
void backward_reference(const T* x, const T* p, const T* dy, T* dx, T* dp, const PixParams& params,
                        const PixShape& s) {
  const Strides st = strides_for(params.layout, s);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k) {
      const T gate = p[n * s.k + k];
      const bool pick = gate < static_cast<T>(params.tau);
      const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
      double gate_grad = 0;
      for (int64_t q = 0; q < s.hw; ++q) {
        const int64_t base = n * st.x_image + q * st.x_pixel;
        const T g = dy[n * st.y_image + k * st.y_channel + q * st.y_pixel];
        if (pick) {
          int64_t arg = c0;  // first argmax: later channels win only when strictly greater
          for (int64_t c = c0 + 1; c < c1; ++c)
            if (x[base + c * st.x_channel] > x[base + arg * st.x_channel]) arg = c;
          gate_grad += static_cast<double>(g) * x[base + arg * st.x_channel];
          if (dx) dx[base + arg * st.x_channel] += gate * g;
        } else {
          T sum = 0;
          for (int64_t c = c0; c < c1; ++c) sum += x[base + c * st.x_channel];
          gate_grad += static_cast<double>(g) * (sum / static_cast<T>(params.zeta));
          if (dx)
            for (int64_t c = c0; c < c1; ++c) dx[base + c * st.x_channel] += gate * g / static_cast<T>(params.zeta);
        }
      }
      if (dp) dp[n * s.k + k] += static_cast<T>(gate_grad);
    }
}

// ------------------------------------------------------------------------------------------------
// Fast path, NHWC: a pixel's channels are contiguous, so each (image, pixel) row is one small
// dense loop over K subsets. ZETA > 0 fixes the subset size at compile time; 0 means "runtime".

template <typename T, int ZETA>
inline T subset_value(const T* xs, int64_t c0, int64_t c1, bool pick, int zeta) {
  const int64_t len = ZETA > 0 && c1 - c0 == ZETA ? ZETA : c1 - c0;
  if (pick) {
    T best = xs[c0];
    for (int64_t i = 1; i < len; ++i) best = std::max(best, xs[c0 + i]);
    return best;
  }
  T sum = 0;
  for (int64_t i = 0; i < len; ++i) sum += xs[c0 + i];
  return sum / static_cast<T>(ZETA > 0 ? ZETA : zeta);
}

// Rows (one per pixel) handed to a thread at a time: enough work to amortise the hand-off.
constexpr int64_t kRowsPerTask = 64;

// Four f32 lanes (GCC/Clang vector extension: SSE2 on x86-64, NEON on arm64).
using Vec4 = float __attribute__((vector_size(16)));

Vec4 load4(const float* p) {
  Vec4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

using Lanes = int __attribute__((vector_size(16)));

// The channels of subsets [k, k + 4) of one f32 row, ZETA = 2 or 4 each, transposed into lanes:
// ch[i] holds channel i of the four subsets.
template <int ZETA>
void load_subsets(const float* xs, int64_t k, Vec4 (&ch)[ZETA]) {
  const float* src = xs + k * ZETA;
  if constexpr (ZETA == 4) {
    const Vec4 r0 = load4(src), r1 = load4(src + 4), r2 = load4(src + 8), r3 = load4(src + 12);
    const Vec4 t0 = __builtin_shuffle(r0, r1, Lanes{0, 4, 1, 5}), t1 = __builtin_shuffle(r0, r1, Lanes{2, 6, 3, 7});
    const Vec4 t2 = __builtin_shuffle(r2, r3, Lanes{0, 4, 1, 5}), t3 = __builtin_shuffle(r2, r3, Lanes{2, 6, 3, 7});
    ch[0] = __builtin_shuffle(t0, t2, Lanes{0, 1, 4, 5}), ch[1] = __builtin_shuffle(t0, t2, Lanes{2, 3, 6, 7});
    ch[2] = __builtin_shuffle(t1, t3, Lanes{0, 1, 4, 5}), ch[3] = __builtin_shuffle(t1, t3, Lanes{2, 3, 6, 7});
  } else {
    const Vec4 r0 = load4(src), r1 = load4(src + 4);
    ch[0] = __builtin_shuffle(r0, r1, Lanes{0, 2, 4, 6}), ch[1] = __builtin_shuffle(r0, r1, Lanes{1, 3, 5, 7});
  }
}

// The inverse: adds ch (as load_subsets lays it out) to the row at dst's subsets [k, k + 4).
template <int ZETA>
void add_subsets(const Vec4 (&ch)[ZETA], int64_t k, float* dst) {
  float* out = dst + k * ZETA;
  Vec4 rows[ZETA];
  if constexpr (ZETA == 4) {  // a 4x4 transpose is its own inverse
    const Vec4 t0 = __builtin_shuffle(ch[0], ch[1], Lanes{0, 4, 1, 5});
    const Vec4 t1 = __builtin_shuffle(ch[0], ch[1], Lanes{2, 6, 3, 7});
    const Vec4 t2 = __builtin_shuffle(ch[2], ch[3], Lanes{0, 4, 1, 5});
    const Vec4 t3 = __builtin_shuffle(ch[2], ch[3], Lanes{2, 6, 3, 7});
    rows[0] = __builtin_shuffle(t0, t2, Lanes{0, 1, 4, 5}), rows[1] = __builtin_shuffle(t0, t2, Lanes{2, 3, 6, 7});
    rows[2] = __builtin_shuffle(t1, t3, Lanes{0, 1, 4, 5}), rows[3] = __builtin_shuffle(t1, t3, Lanes{2, 3, 6, 7});
  } else {
    rows[0] = __builtin_shuffle(ch[0], ch[1], Lanes{0, 4, 1, 5});
    rows[1] = __builtin_shuffle(ch[0], ch[1], Lanes{2, 6, 3, 7});
  }
  for (int r = 0; r < ZETA; ++r) {
    const Vec4 sum = load4(out + 4 * r) + rows[r];
    std::memcpy(out + 4 * r, &sum, sizeof sum);
  }
}

// Subsets [k, k + 4) of one f32 row at once, each of ZETA = 2 or 4 channels: max and sum run
// lane-wise in the order subset_value uses.
template <int ZETA>
void four_subsets(const float* xs, const float* gates, float tau, int64_t k, float* ys) {
  Vec4 ch[ZETA];
  load_subsets<ZETA>(xs, k, ch);
  Vec4 best = ch[0], sum = ch[0];
  for (int i = 1; i < ZETA; ++i) {
    best = best < ch[i] ? ch[i] : best;  // std::max's choice
    sum += ch[i];
  }
  const Vec4 g = load4(gates + k);
  const Vec4 selected = g < tau ? best : sum / static_cast<float>(ZETA);
  const Vec4 out = g * selected;
  std::memcpy(ys + k, &out, sizeof out);
}

// The backward of four_subsets, with the scalar loop's arithmetic lane by lane: the first maximum
// (strictly larger replaces) gets gate * dy where the gate picks, every channel gate * dy / zeta
// where it mixes; the gate's gradient terms dy * (maximum or mean) are added, in double, to
// gate_grad[k .. k + 4) when it is not null. No branch on the gate: pick and mix vary from subset
// to subset.
template <int ZETA>
void four_subsets_backward(const float* xs, const float* gates, const float* gs, float tau, float inv_zeta, int64_t k,
                           float* dxs, double* gate_grad) {
  Vec4 ch[ZETA];
  load_subsets<ZETA>(xs, k, ch);
  Vec4 best = ch[0], sum = Vec4{} + ch[0];
  Lanes arg{};
  for (int i = 1; i < ZETA; ++i) {
    const Lanes larger = ch[i] > best;
    best = larger ? ch[i] : best;
    arg = larger ? Lanes{i, i, i, i} : arg;
    sum += ch[i];
  }
  const Vec4 gate = load4(gates + k), g = load4(gs + k);
  const Lanes pick = gate < tau;
  if (gate_grad) {
    const Vec4 term = g * (pick ? best : sum * inv_zeta);
    for (int j = 0; j < 4; ++j) gate_grad[k + j] += static_cast<double>(term[j]);
  }
  if (!dxs) return;
  const Vec4 to_max = gate * g, share = gate * g * inv_zeta, zero{};
  Vec4 grad[ZETA];
  for (int i = 0; i < ZETA; ++i) grad[i] = pick ? (arg == Lanes{i, i, i, i} ? to_max : zero) : share;
  add_subsets<ZETA>(grad, k, dxs);
}

template <typename T, int ZETA>
void forward_nhwc(const T* x, const T* p, T* y, const PixParams& params, const PixShape& s) {
  const T tau = static_cast<T>(params.tau);
  // f32 rows whose subsets are all full go four subsets at a time.
  constexpr bool kVector = std::is_same_v<T, float> && (ZETA == 2 || ZETA == 4);
  const int64_t vector_k = kVector && s.c == s.k * ZETA ? s.k / 4 * 4 : 0;
  parallel_for(s.n * s.hw, kRowsPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / s.hw;
      const T* xs = x + row * s.c;
      const T* gates = p + n * s.k;
      T* ys = y + row * s.k;
      if constexpr (kVector)
        for (int64_t k = 0; k < vector_k; k += 4) four_subsets<ZETA>(xs, gates, tau, k, ys);
      for (int64_t k = vector_k; k < s.k; ++k) {
        const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
        ys[k] = gates[k] * subset_value<T, ZETA>(xs, c0, c1, gates[k] < tau, params.zeta);
      }
    }
  });
}

template <typename T, int ZETA>
void backward_nhwc(const T* x, const T* p, const T* dy, T* dx, T* dp, const PixParams& params, const PixShape& s) {
  const T tau = static_cast<T>(params.tau);
  const T inv_zeta = T(1) / static_cast<T>(params.zeta);
  // Gate gradients: each task sums its rows into its own slot, then slots are added in task order.
  const int64_t tasks_per_image = (s.hw + kRowsPerTask - 1) / kRowsPerTask;
  std::vector<double> partial(dp ? static_cast<size_t>(s.n * tasks_per_image * s.k) : 0, 0.0);
  // f32 rows whose subsets are all full go four subsets at a time, as in the forward.
  constexpr bool kVector = std::is_same_v<T, float> && (ZETA == 2 || ZETA == 4);
  const int64_t vector_k = kVector && s.c == s.k * ZETA ? s.k / 4 * 4 : 0;
  parallel_for(s.n * tasks_per_image, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tasks_per_image;
      const int64_t q0 = (task % tasks_per_image) * kRowsPerTask;
      const int64_t q1 = std::min(s.hw, q0 + kRowsPerTask);
      const T* gates = p + n * s.k;
      double* gate_grad = dp ? partial.data() + task * s.k : nullptr;
      for (int64_t q = q0; q < q1; ++q) {
        const int64_t row = n * s.hw + q;
        const T* xs = x + row * s.c;
        const T* gs = dy + row * s.k;
        T* dxs = dx ? dx + row * s.c : nullptr;
        if constexpr (kVector)
          for (int64_t k = 0; k < vector_k; k += 4)
            four_subsets_backward<ZETA>(xs, gates, gs, tau, inv_zeta, k, dxs, gate_grad);
        for (int64_t k = vector_k; k < s.k; ++k) {
          const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
          const int64_t len = ZETA > 0 && c1 - c0 == ZETA ? ZETA : c1 - c0;
          const T g = gs[k];
          if (gates[k] < tau) {
            // The first maximum, by selects rather than a branch per comparison: which of a
            // subset's values is largest varies from pixel to pixel on real activations, and the
            // branch mispredicted.
            T best = xs[c0];
            int64_t arg = 0;
            for (int64_t i = 1; i < len; ++i) {
              const T v = xs[c0 + i];
              const bool larger = v > best;
              best = larger ? v : best;
              arg = larger ? i : arg;
            }
            if (gate_grad) gate_grad[k] += static_cast<double>(g * xs[c0 + arg]);
            if (dxs) dxs[c0 + arg] += gates[k] * g;
          } else {
            T sum = 0;
            for (int64_t i = 0; i < len; ++i) sum += xs[c0 + i];
            if (gate_grad) gate_grad[k] += static_cast<double>(g * (sum * inv_zeta));
            if (dxs) {
              const T share = gates[k] * g * inv_zeta;
              for (int64_t i = 0; i < len; ++i) dxs[c0 + i] += share;
            }
          }
        }
      }
    }
  });
  if (!dp) return;
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t k = 0; k < s.k; ++k) {
      double total = 0;
      for (int64_t t = 0; t < tasks_per_image; ++t) total += partial[(n * tasks_per_image + t) * s.k + k];
      dp[n * s.k + k] += static_cast<T>(total);
    }
}

// Fast path, NCHW: each (image, subset) owns ZETA contiguous planes; the inner loop runs over
// pixels, which the compiler vectorises.
template <typename T>
void forward_nchw(const T* x, const T* p, T* y, const PixParams& params, const PixShape& s) {
  const T tau = static_cast<T>(params.tau);
  parallel_for(s.n * s.k, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nk = begin; nk < end; ++nk) {
      const int64_t n = nk / s.k, k = nk % s.k;
      const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
      const T gate = p[nk];
      const T* plane = x + (n * s.c + c0) * s.hw;
      T* ys = y + nk * s.hw;
      std::copy(plane, plane + s.hw, ys);
      for (int64_t c = c0 + 1; c < c1; ++c) {
        const T* next = x + (n * s.c + c) * s.hw;
        if (gate < tau)
          for (int64_t q = 0; q < s.hw; ++q) ys[q] = std::max(ys[q], next[q]);
        else
          for (int64_t q = 0; q < s.hw; ++q) ys[q] += next[q];
      }
      const T scale = gate < tau ? gate : gate / static_cast<T>(params.zeta);
      for (int64_t q = 0; q < s.hw; ++q) ys[q] *= scale;
    }
  });
}

template <typename T>
void backward_nchw(const T* x, const T* p, const T* dy, T* dx, T* dp, const PixParams& params, const PixShape& s) {
  const T tau = static_cast<T>(params.tau);
  parallel_for(s.n * s.k, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nk = begin; nk < end; ++nk) {
      const int64_t n = nk / s.k, k = nk % s.k;
      const int64_t c0 = k * params.zeta, c1 = std::min<int64_t>(c0 + params.zeta, s.c);
      const T gate = p[nk];
      const T* gs = dy + nk * s.hw;
      const T* xn = x + n * s.c * s.hw;
      T* dxn = dx ? dx + n * s.c * s.hw : nullptr;
      double gate_grad = 0;
      if (gate < tau) {
        for (int64_t q = 0; q < s.hw; ++q) {
          int64_t arg = c0;
          for (int64_t c = c0 + 1; c < c1; ++c)
            if (xn[c * s.hw + q] > xn[arg * s.hw + q]) arg = c;
          gate_grad += static_cast<double>(gs[q] * xn[arg * s.hw + q]);
          if (dxn) dxn[arg * s.hw + q] += gate * gs[q];
        }
      } else {
        const T inv_zeta = T(1) / static_cast<T>(params.zeta);
        for (int64_t q = 0; q < s.hw; ++q) {
          T sum = 0;
          for (int64_t c = c0; c < c1; ++c) sum += xn[c * s.hw + q];
          gate_grad += static_cast<double>(gs[q] * (sum * inv_zeta));
        }
        if (dxn)
          for (int64_t c = c0; c < c1; ++c)
            for (int64_t q = 0; q < s.hw; ++q) dxn[c * s.hw + q] += gate * gs[q] * inv_zeta;
      }
      if (dp) dp[nk] += static_cast<T>(gate_grad);
    }
  });
}

template <typename T>
void forward_fast(const T* x, const T* p, T* y, const PixParams& params, const PixShape& s) {
  if (params.layout == Layout::NCHW) return forward_nchw(x, p, y, params, s);
  switch (params.zeta) {
    case 1: return forward_nhwc<T, 1>(x, p, y, params, s);
    case 2: return forward_nhwc<T, 2>(x, p, y, params, s);
    case 4: return forward_nhwc<T, 4>(x, p, y, params, s);
    default: return forward_nhwc<T, 0>(x, p, y, params, s);
  }
}

template <typename T>
void backward_fast(const T* x, const T* p, const T* dy, T* dx, T* dp, const PixParams& params, const PixShape& s) {
  if (params.layout == Layout::NCHW) return backward_nchw(x, p, dy, dx, dp, params, s);
  switch (params.zeta) {
    case 1: return backward_nhwc<T, 1>(x, p, dy, dx, dp, params, s);
    case 2: return backward_nhwc<T, 2>(x, p, dy, dx, dp, params, s);
    case 4: return backward_nhwc<T, 4>(x, p, dy, dx, dp, params, s);
    default: return backward_nhwc<T, 0>(x, p, dy, dx, dp, params, s);
  }
}

template <typename T>
T* data_or_null(Tensor* t) {
  return t ? t->data<T>() : nullptr;
}

}  // namespace

void pix_forward(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y) {
  if (x.dtype() == DType::F64) return forward_fast(x.data<double>(), p.data<double>(), y.data<double>(), params, s);
  forward_fast(x.data<float>(), p.data<float>(), y.data<float>(), params, s);
}

void pix_backward(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params, const PixShape& s,
                  Tensor* dx, Tensor* dp) {
  if (x.dtype() == DType::F64)
    return backward_fast(x.data<double>(), p.data<double>(), dy.data<double>(), data_or_null<double>(dx),
                         data_or_null<double>(dp), params, s);
  backward_fast(x.data<float>(), p.data<float>(), dy.data<float>(), data_or_null<float>(dx), data_or_null<float>(dp),
                params, s);
}

void pix_forward_reference(const Tensor& x, const Tensor& p, const PixParams& params, const PixShape& s, Tensor& y) {
  if (x.dtype() == DType::F64)
    return forward_reference(x.data<double>(), p.data<double>(), y.data<double>(), params, s);
  forward_reference(x.data<float>(), p.data<float>(), y.data<float>(), params, s);
}

void pix_backward_reference(const Tensor& x, const Tensor& p, const Tensor& dy, const PixParams& params,
                            const PixShape& s, Tensor* dx, Tensor* dp) {
  if (x.dtype() == DType::F64)
    return backward_reference(x.data<double>(), p.data<double>(), dy.data<double>(), data_or_null<double>(dx),
                              data_or_null<double>(dp), params, s);
  backward_reference(x.data<float>(), p.data<float>(), dy.data<float>(), data_or_null<float>(dx),
                     data_or_null<float>(dp), params, s);
}

}  // namespace pix::cpu
