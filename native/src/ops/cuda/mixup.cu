// Mixup/CutMix application on CUDA (ops/mixup.h): elementwise kernels over the first half of the
// batch, each thread updating one value of image n and the same value of its partner N-1-n, so no
// two threads touch one value. Blends round each product and the sum separately (__fmul_rn,
// __fadd_rn), as torch and the CPU compute them, so CUDA and CPU agree bit for bit.
#include "ops/cuda/launch.cuh"
#include "ops/mixup.h"

namespace pix::cuda {
namespace {

__device__ __forceinline__ float blend(float own, float partner, float keep, float take) {
  return __fadd_rn(__fmul_rn(own, keep), __fmul_rn(partner, take));
}

// x (N, size) with size values per image: x[n] = keep * x[n] + take * x[N-1-n] for every n.
__global__ void mix_pairs_kernel(float* __restrict__ x, int64_t n, int64_t size, float keep, float take) {
  PIX_GRID_STRIDE(i, n / 2 * size) {
    float* a = x + (i / size) * size + i % size;
    float* z = x + (n - 1 - i / size) * size + i % size;
    const float av = *a, zv = *z;
    *a = blend(av, zv, keep, take);
    *z = blend(zv, av, keep, take);
  }
}

// x (N,H,W,C): the box rows [y0, y0 + bh) and columns [x0, x0 + bw) swapped between n and N-1-n.
__global__ void swap_box_kernel(float* __restrict__ x, int64_t n, int64_t h, int64_t w, int64_t c, int64_t y0,
                                int64_t bh, int64_t x0, int64_t bw) {
  const int64_t per_image = bh * bw * c;
  PIX_GRID_STRIDE(i, n / 2 * per_image) {
    const int64_t image = i / per_image, r = i % per_image;
    const int64_t y = y0 + r / (bw * c), col = x0 + r / c % bw, ch = r % c;
    const int64_t offset = (y * w + col) * c + ch;
    float* a = x + image * h * w * c + offset;
    float* z = x + (n - 1 - image) * h * w * c + offset;
    const float av = *a;
    *a = *z;
    *z = av;
  }
}

// out[i] = keep * rows[i] + take * rows[N-1-i]; every row, the middle of an odd N too.
__global__ void mix_flipped_rows_kernel(const float* __restrict__ rows, float* __restrict__ out, int64_t n, int64_t k,
                                        float keep, float take) {
  PIX_GRID_STRIDE(i, n * k) out[i] = blend(rows[i], rows[(n - 1 - i / k) * k + i % k], keep, take);
}

}  // namespace

void mixup_apply(Tensor& x, const MixupParams& params) {
  const int device = x.device().index;
  set_device(device);
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  if (params.cutmix) {
    const MixupBox& b = params.box;
    const int64_t bh = b.y1 - b.y0, bw = b.x1 - b.x0;
    if (bh == 0 || bw == 0) return;
    swap_box_kernel<<<grid_for(n / 2 * bh * bw * c), kThreads, 0, stream(device)>>>(x.data<float>(), n, h, w, c, b.y0,
                                                                                   bh, b.x0, bw);
    PIX_CUDA_CHECK_LAUNCH("mixup_apply (cutmix)");
    return;
  }
  // As torch: both weights are rounded to f32 first.
  mix_pairs_kernel<<<grid_for(n / 2 * h * w * c), kThreads, 0, stream(device)>>>(
      x.data<float>(), n, h * w * c, static_cast<float>(params.lam), static_cast<float>(1.0 - params.lam));
  PIX_CUDA_CHECK_LAUNCH("mixup_apply");
}

Tensor mix_flipped_rows(const Tensor& rows, double lam) {
  const int device = rows.device().index;
  set_device(device);
  const int64_t n = rows.size(0), k = rows.size(1);
  Tensor out = Tensor::empty(rows.shape(), DType::F32, rows.device());
  mix_flipped_rows_kernel<<<grid_for(n * k), kThreads, 0, stream(device)>>>(
      rows.data<float>(), out.data<float>(), n, k, static_cast<float>(lam), static_cast<float>(1.0 - lam));
  PIX_CUDA_CHECK_LAUNCH("mixup_targets");
  return out;
}

}  // namespace pix::cuda
