// conv2d on the CPU. Fast path: a 1x1 stride-1 convolution is one SGEMM over all pixels; any other
// is one SGEMM whose A is the im2col matrix gathered from x as it is packed (GemmWindows), never
// written out. Backward: im2col into a bounded scratch buffer, a few images at a time; dw by
// SGEMM over the same columns (accumulating chunk by chunk), dx by SGEMM into column gradients
// and a race-free col2im that gathers, for each input pixel, the windows that saw it. The forward's
// epilogue (bias, residual, ReLU: folded BatchNorm at inference) is the SGEMM's, applied as each
// tile of y leaves the registers. 3x3 stride-1 pad-1 convolutions go to Winograd instead where it
// pays (ops/cpu/conv2d_winograd.h): the forward, and dx in the backward.
//
// x (N,H,W,C), w (O,K,K,C), y (N,P,Q,O); one im2col row per output pixel holds K*K*C values in
// (kh, kw, c) order, matching w's (K,K,C) inner layout.
#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/conv2d.h"
#include "ops/cpu/conv2d_winograd.h"
#include "ops/gemm.h"

namespace pix::cpu {
namespace {

// Upper bound on the im2col scratch: large enough for big SGEMMs, small enough to stay in memory
// comfortably next to a ResNet-50 batch.
constexpr int64_t kColumnBudgetBytes = 64ll << 20;

// The im2col buffer: one per thread that runs convolutions, grown as needed and kept, so steady
// training steps neither allocate nor fault in fresh pages for it (and never zero it: im2col
// writes every element).
float* column_scratch(int64_t images, const ConvShape& s, int64_t row_len) {
  thread_local Tensor scratch;
  const int64_t needed = images * s.p * s.q * row_len;
  if (!scratch.defined() || scratch.numel() < needed) scratch = Tensor::empty({needed}, DType::F32);
  return scratch.data<float>();
}

bool is_pointwise(const ConvShape& s) { return s.kernel == 1 && s.stride == 1 && s.pad == 0; }

int64_t images_per_chunk(const ConvShape& s) {
  const int64_t image_bytes = s.p * s.q * s.kernel * s.kernel * s.c * static_cast<int64_t>(sizeof(float));
  return std::clamp<int64_t>(kColumnBudgetBytes / std::max<int64_t>(image_bytes, 1), 1, s.n);
}

// col (images * P * Q, K*K*C) for images [n0, n0 + images). The taps of a kernel row are
// neighbouring pixels, so the part of the row inside the image is one contiguous run of x (one copy,
// not one per tap: with the stem's 3 channels a tap is 12 bytes), zeros on either side.
void im2col(const float* x, const ConvShape& s, int64_t n0, int64_t images, float* col) {
  const int64_t row_len = s.kernel * s.kernel * s.c, tap_row = s.kernel * s.c;
  parallel_for(images * s.p, 4, [&](int64_t begin, int64_t end) {
    for (int64_t np = begin; np < end; ++np) {
      const int64_t n = n0 + np / s.p, p = np % s.p;
      for (int64_t q = 0; q < s.q; ++q) {
        float* dst = col + (np * s.q + q) * row_len;
        const int64_t w0 = q * s.stride - s.pad;
        const int64_t lo = std::clamp<int64_t>(-w0, 0, s.kernel) * s.c;  // the run inside the image
        const int64_t hi = std::max(lo, std::clamp<int64_t>(s.w - w0, 0, s.kernel) * s.c);
        for (int kh = 0; kh < s.kernel; ++kh, dst += tap_row) {
          const int64_t h = p * s.stride - s.pad + kh;
          if (h < 0 || h >= s.h || hi == lo) {
            std::fill(dst, dst + tap_row, 0.f);
            continue;
          }
          std::fill(dst, dst + lo, 0.f);
          std::memcpy(dst + lo, x + ((n * s.h + h) * s.w + w0) * s.c + lo, (hi - lo) * sizeof(float));
          std::fill(dst + hi, dst + tap_row, 0.f);
        }
      }
    }
  });
}

// dx[n0 .. n0+images) (+)= the column gradients, gathered per input pixel (no two threads write
// the same dx element).
void col2im(const float* dcol, const ConvShape& s, int64_t n0, int64_t images, GradWrite write, float* dx) {
  const int64_t row_len = s.kernel * s.kernel * s.c;
  parallel_for(images * s.h, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nh = begin; nh < end; ++nh) {
      const int64_t local_n = nh / s.h, h = nh % s.h;
      for (int64_t wi = 0; wi < s.w; ++wi) {
        float* dst = dx + (((n0 + local_n) * s.h + h) * s.w + wi) * s.c;
        if (write == GradWrite::Overwrite) std::fill(dst, dst + s.c, 0.f);
        for (int kh = 0; kh < s.kernel; ++kh) {
          const int64_t ph = h + s.pad - kh;
          if (ph < 0 || ph % s.stride != 0 || ph / s.stride >= s.p) continue;
          for (int kw = 0; kw < s.kernel; ++kw) {
            const int64_t qw = wi + s.pad - kw;
            if (qw < 0 || qw % s.stride != 0 || qw / s.stride >= s.q) continue;
            const int64_t row = (local_n * s.p + ph / s.stride) * s.q + qw / s.stride;
            const float* src = dcol + row * row_len + (kh * s.kernel + kw) * s.c;
            for (int64_t c = 0; c < s.c; ++c) dst[c] += src[c];
          }
        }
      }
    }
  });
}

// Whether `kernel` (Fast, Gemm or Winograd) computes s with Winograd.
bool use_winograd(const ConvShape& s, ConvKernel kernel) {
  if (kernel == ConvKernel::Winograd) {
    PIX_CHECK(winograd_applies(s), "conv2d: the Winograd kernel computes 3x3 stride-1 pad-1 convolutions only, got ",
              s.kernel, "x", s.kernel, " stride ", s.stride, " pad ", s.pad, " with ", s.c, " input channels");
    return true;
  }
  return kernel == ConvKernel::Fast && winograd_preferred(s);
}

}  // namespace

void conv2d_forward(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue, Tensor& y,
                    ConvKernel kernel) {
  if (use_winograd(s, kernel)) {
    conv2d_forward_winograd(x, w, s, epilogue, y);
    return;
  }
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  float* ys = y.data<float>();
  const float* residual = epilogue.residual.defined() ? epilogue.residual.data<float>() : nullptr;
  const int64_t row_len = s.kernel * s.kernel * s.c;
  GemmParams g;
  g.trans_b = true;  // y = col * w^T with w stored (O, K*K*C)
  g.n = s.o, g.k = row_len, g.lda = row_len, g.ldb = row_len, g.ldc = s.o, g.precision = cpu_compute_precision();
  g.epilogue.bias = epilogue.bias.defined() ? epilogue.bias.data<float>() : nullptr;
  g.epilogue.residual = residual;
  g.epilogue.ldr = s.o;
  g.epilogue.relu = epilogue.relu;
  g.packed_b = epilogue.packed_weights;
  float* mean = epilogue.mean.defined() ? epilogue.mean.data<float>() : nullptr;
  if (mean) {  // sums per image (P*Q rows of y), then divided
    std::fill(mean, mean + s.n * s.o, 0.f);
    g.epilogue.sums = mean;
    g.epilogue.group_rows = s.p * s.q;
  }
  g.m = s.n * s.p * s.q;
  if (is_pointwise(s)) {
    sgemm(g, xs, ws, ys);
  } else {
    g.windows.x = xs;
    g.windows.h = s.h, g.windows.w = s.w, g.windows.c = s.c, g.windows.p = s.p, g.windows.q = s.q;
    g.windows.kernel = s.kernel, g.windows.stride = s.stride, g.windows.pad = s.pad;
    sgemm(g, nullptr, ws, ys);
  }
  if (mean)
    for (int64_t i = 0; i < s.n * s.o; ++i) mean[i] /= static_cast<float>(s.p * s.q);
}

void conv2d_backward(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx, Tensor& dw,
                     GradWrite dx_write, ConvKernel kernel) {
  if (use_winograd(s, kernel)) {
    if (dx) conv2d_backward_data_winograd(w, dy, s, *dx, dx_write);
    conv2d_backward_weight_winograd(x, dy, s, dw);
    return;
  }
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  const float* gs = dy.data<float>();
  float* dws = dw.data<float>();
  const int64_t row_len = s.kernel * s.kernel * s.c;

  GemmParams weight_grad;  // dw (O, KKC) += dy^T (O, M) * col (M, KKC)
  weight_grad.trans_a = true;
  weight_grad.m = s.o, weight_grad.n = row_len, weight_grad.beta = 1.f;
  weight_grad.lda = s.o, weight_grad.ldb = row_len, weight_grad.ldc = row_len;
  weight_grad.precision = cpu_compute_precision();

  GemmParams input_grad;  // dcol (M, KKC) = dy (M, O) * w (O, KKC)
  input_grad.n = row_len, input_grad.k = s.o, input_grad.lda = s.o, input_grad.ldb = row_len,
  input_grad.ldc = row_len, input_grad.precision = cpu_compute_precision();

  if (is_pointwise(s)) {
    const int64_t m = s.n * s.h * s.w;
    weight_grad.k = m;
    sgemm(weight_grad, gs, xs, dws);
    if (dx) {
      input_grad.m = m;
      input_grad.beta = dx_write == GradWrite::Accumulate ? 1.f : 0.f;  // straight into dx
      sgemm(input_grad, gs, ws, dx->data<float>());
    }
    return;
  }
  const int64_t chunk = images_per_chunk(s);
  float* col = column_scratch(chunk, s, row_len);
  for (int64_t n0 = 0; n0 < s.n; n0 += chunk) {
    const int64_t images = std::min(chunk, s.n - n0);
    const int64_t rows = images * s.p * s.q;
    const float* gs_chunk = gs + n0 * s.p * s.q * s.o;
    im2col(xs, s, n0, images, col);
    weight_grad.k = rows;
    sgemm(weight_grad, gs_chunk, col, dws);
    if (dx) {
      input_grad.m = rows;
      sgemm(input_grad, gs_chunk, ws, col);  // the columns are no longer needed: reuse them
      col2im(col, s, n0, images, dx_write, dx->data<float>());
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Reference: the definition, one output (or one weight) at a time, summed in double; the epilogue
// added to that sum.

void conv2d_forward_reference(const Tensor& x, const Tensor& w, const ConvShape& s, const ConvEpilogue& epilogue,
                              Tensor& y) {
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  const float* bias = epilogue.bias.defined() ? epilogue.bias.data<float>() : nullptr;
  const float* residual = epilogue.residual.defined() ? epilogue.residual.data<float>() : nullptr;
  float* ys = y.data<float>();
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t p = 0; p < s.p; ++p)
      for (int64_t q = 0; q < s.q; ++q)
        for (int64_t o = 0; o < s.o; ++o) {
          double acc = 0;
          for (int kh = 0; kh < s.kernel; ++kh)
            for (int kw = 0; kw < s.kernel; ++kw) {
              const int64_t h = p * s.stride - s.pad + kh, wi = q * s.stride - s.pad + kw;
              if (h < 0 || h >= s.h || wi < 0 || wi >= s.w) continue;
              for (int64_t c = 0; c < s.c; ++c)
                acc += static_cast<double>(xs[((n * s.h + h) * s.w + wi) * s.c + c]) *
                       ws[((o * s.kernel + kh) * s.kernel + kw) * s.c + c];
            }
          const int64_t yi = ((n * s.p + p) * s.q + q) * s.o + o;
          if (bias) acc += bias[o];
          if (residual) acc += residual[yi];
          if (epilogue.relu && !(acc > 0)) acc = 0;
          ys[yi] = static_cast<float>(acc);
        }
  if (epilogue.mean.defined()) {  // of the stored y, in double
    float* mean = epilogue.mean.data<float>();
    for (int64_t n = 0; n < s.n; ++n)
      for (int64_t o = 0; o < s.o; ++o) {
        double sum = 0;
        for (int64_t pq = 0; pq < s.p * s.q; ++pq) sum += ys[(n * s.p * s.q + pq) * s.o + o];
        mean[n * s.o + o] = static_cast<float>(sum / static_cast<double>(s.p * s.q));
      }
  }
}

void conv2d_backward_reference(const Tensor& x, const Tensor& w, const Tensor& dy, const ConvShape& s, Tensor* dx,
                               Tensor& dw) {
  const float* xs = x.data<float>();
  const float* ws = w.data<float>();
  const float* gs = dy.data<float>();
  std::vector<double> dw_acc(static_cast<size_t>(w.numel()), 0.0);
  std::vector<double> dx_acc(dx ? static_cast<size_t>(x.numel()) : 0, 0.0);
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t p = 0; p < s.p; ++p)
      for (int64_t q = 0; q < s.q; ++q)
        for (int64_t o = 0; o < s.o; ++o) {
          const double g = gs[((n * s.p + p) * s.q + q) * s.o + o];
          for (int kh = 0; kh < s.kernel; ++kh)
            for (int kw = 0; kw < s.kernel; ++kw) {
              const int64_t h = p * s.stride - s.pad + kh, wi = q * s.stride - s.pad + kw;
              if (h < 0 || h >= s.h || wi < 0 || wi >= s.w) continue;
              for (int64_t c = 0; c < s.c; ++c) {
                const int64_t xi = ((n * s.h + h) * s.w + wi) * s.c + c;
                const int64_t wk = ((o * s.kernel + kh) * s.kernel + kw) * s.c + c;
                dw_acc[wk] += g * xs[xi];
                if (dx) dx_acc[xi] += g * ws[wk];
              }
            }
        }
  float* dws = dw.data<float>();
  for (size_t i = 0; i < dw_acc.size(); ++i) dws[i] += static_cast<float>(dw_acc[i]);
  if (dx) {
    float* dxs = dx->data<float>();
    for (size_t i = 0; i < dx_acc.size(); ++i) dxs[i] += static_cast<float>(dx_acc[i]);
  }
}

}  // namespace pix::cpu
