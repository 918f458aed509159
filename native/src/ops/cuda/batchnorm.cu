// BatchNorm on CUDA over (rows, C) = NHWC activations, f32 or bf16 storage, f32 per-channel
// tensors, statistics summed in double like the CPU backend (and in the same formulas, so the two
// agree to rounding).
//
// Per-channel sums run in two deterministic passes: blocks of channels x one chunk of rows write
// partial sums, then one thread per channel adds its chunks in order. The elementwise passes
// (normalise, input gradient) are grid-stride loops. Every kernel that walks the activations takes a
// vector width V (launch.cuh): with 16-byte aligned rows of a multiple of 8 bf16 or 4 f32 channels
// (every ResNet and PiX-ResNet layer), a thread moves 16 bytes per access; else V = 1.
// With a BatchNormSync (SyncBatchNorm), the per-channel sums are combined over the ranks between
// the reduction and the elementwise pass. Later: one fused statistics+normalise kernel.
#include "ops/batchnorm.h"
#include "ops/cuda/channel_means.cuh"

namespace pix::cuda {
namespace {

constexpr int kChannelLanes = 32;         // channel vectors of one row a block reads side by side
constexpr int64_t kRowsPerChunk = 512;    // rows one block sums before the ordered final pass
constexpr int64_t kMaxChunks = 65535;     // gridDim.y limit

struct Chunks {
  int64_t rows_per_chunk, count;
};

Chunks chunks_for(int64_t rows) {
  const int64_t per = std::max(kRowsPerChunk, (rows + kMaxChunks - 1) / kMaxChunks);
  return {per, (rows + per - 1) / per};
}

// partial[(chunk*2 + 0)*C + ch] and [(chunk*2 + 1)*C + ch]: the chunk's two sums for channel ch.
// Forward: sums of (x - x[0,ch]) and its square (shifted so the variance does not cancel).
// Backward: sums of g and g*xhat, g = dy masked by y > 0 when y is given (fused ReLU).
// Thread (tx, ty) of a block owns channels [V*(blockIdx.x*blockDim.x + tx), +V) and walks the
// chunk's rows ty, ty + blockDim.y, ...; row lanes are then added in order.
template <typename T, bool kBackward, int V>
__global__ void channel_partials(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ dy,
                                 const float* __restrict__ mean, const float* __restrict__ invstd, int64_t rows,
                                 int64_t c, int64_t rows_per_chunk, double* __restrict__ partial) {
  const int64_t ch0 = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) * V;
  const int64_t r0 = blockIdx.y * rows_per_chunk;
  const int64_t r1 = min(rows, r0 + rows_per_chunk);
  double sums[2 * V] = {};  // a[j] = sums[j], b[j] = sums[V + j]
  double* a = sums;
  double* b = sums + V;
  if (ch0 < c) {
    float center[V], scale[V];
#pragma unroll
    for (int j = 0; j < V; ++j) {
      center[j] = kBackward ? mean[ch0 + j] : to_float(x[ch0 + j]);
      scale[j] = kBackward ? invstd[ch0 + j] : 1.f;
    }
    for (int64_t r = r0 + threadIdx.y; r < r1; r += blockDim.y) {
      const int64_t i = r * c + ch0;
      const Pack<T, V> xv = *reinterpret_cast<const Pack<T, V>*>(x + i);
      if constexpr (kBackward) {
        const Pack<T, V> gv = *reinterpret_cast<const Pack<T, V>*>(dy + i);
        Pack<T, V> yv{};
        if (y) yv = *reinterpret_cast<const Pack<T, V>*>(y + i);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const float g = y && to_float(yv.v[j]) <= 0.f ? 0.f : to_float(gv.v[j]);
          a[j] += g;
          b[j] += static_cast<double>(g) * (to_float(xv.v[j]) - center[j]) * scale[j];
        }
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const double v = to_float(xv.v[j]) - center[j];
          a[j] += v;
          b[j] += v * v;
        }
      }
    }
  }
  sum_row_lanes(sums);
  if (threadIdx.y != 0 || ch0 >= c) return;
#pragma unroll
  for (int j = 0; j < V; ++j) {
    partial[(blockIdx.y * 2 + 0) * c + ch0 + j] = a[j];
    partial[(blockIdx.y * 2 + 1) * c + ch0 + j] = b[j];
  }
}

__device__ void add_chunks(const double* partial, int64_t chunks, int64_t c, int64_t ch, double* a, double* b) {
  *a = 0, *b = 0;
  for (int64_t k = 0; k < chunks; ++k) *a += partial[(k * 2) * c + ch], *b += partial[(k * 2 + 1) * c + ch];
}

// Where a training forward's per-channel results go: the saved statistics, the running statistics
// (updated with the unbiased variance) and the normalisation's scale and shift.
struct TrainStatsOut {
  const float* gamma;
  const float* beta;
  float *running_mean, *running_var, *saved_mean, *saved_invstd, *scale, *shift;
  float eps, momentum;
};

__device__ void store_train_stats(const TrainStatsOut& o, int64_t ch, double mean, double var, double n) {
  const float mean_f = static_cast<float>(mean);
  const float invstd = static_cast<float>(1.0 / sqrt(var + o.eps));
  o.saved_mean[ch] = mean_f;
  o.saved_invstd[ch] = invstd;
  o.running_mean[ch] = static_cast<float>((1.0 - o.momentum) * o.running_mean[ch] + o.momentum * mean);
  o.running_var[ch] = static_cast<float>((1.0 - o.momentum) * o.running_var[ch] + o.momentum * var * n / (n - 1.0));
  o.scale[ch] = o.gamma[ch] * invstd;
  o.shift[ch] = o.beta[ch] - mean_f * o.scale[ch];
}

// Batch statistics from the chunks' shifted sums, as the CPU backend computes them.
__global__ void finish_train_stats(const double* __restrict__ partial, int64_t chunks, const float* __restrict__ x0,
                                   TrainStatsOut out, int64_t rows, int64_t c) {
  PIX_GRID_STRIDE(ch, c) {
    double s, ss;
    add_chunks(partial, chunks, c, ch, &s, &ss);
    const double n = static_cast<double>(rows);
    const double m = s / n;
    store_train_stats(out, ch, x0[ch] + m, fmax(0.0, ss / n - m * m), n);
  }
}

// ---- SyncBatchNorm (BatchNormSync): the ranks' statistics combined ----
// Forward: each rank writes its mean and M2 = sum (x - mean)^2 per channel, and its row count, into
// its own row of a zeroed (world, 2C + 2) buffer; summed over the ranks, every rank holds every
// rank's row and combines them in rank order (Chan et al.'s parallel variance), so all ranks get
// the same statistics. The count rides as rows / kRowsSplit and rows % kRowsSplit, two floats
// whose sums stay exact. Backward: the two per-channel sums, summed over the ranks as f32.
constexpr int64_t kRowsSplit = 4096;

__global__ void local_moments(const double* __restrict__ partial, int64_t chunks, const float* __restrict__ x0,
                              int64_t rows, int64_t c, float* __restrict__ slot) {
  PIX_GRID_STRIDE(ch, c) {
    double s, ss;
    add_chunks(partial, chunks, c, ch, &s, &ss);
    const double m = s / static_cast<double>(rows);
    slot[ch] = static_cast<float>(x0[ch] + m);
    slot[c + ch] = static_cast<float>(fmax(0.0, ss - s * m));
    if (ch == 0) {
      slot[2 * c] = static_cast<float>(rows / kRowsSplit);
      slot[2 * c + 1] = static_cast<float>(rows % kRowsSplit);
    }
  }
}

__device__ double rows_of(const float* split) { return static_cast<double>(split[0]) * kRowsSplit + split[1]; }

__global__ void finish_synced_stats(const float* __restrict__ gathered, int world, TrainStatsOut out,
                                    float* group_rows, int64_t c) {
  const int64_t stride = 2 * c + 2;
  PIX_GRID_STRIDE(ch, c) {
    double n = 0, weighted = 0;
    for (int r = 0; r < world; ++r) {
      const float* row = gathered + r * stride;
      n += rows_of(row + 2 * c);
      weighted += rows_of(row + 2 * c) * row[ch];
    }
    const double mean = weighted / n;
    double m2 = 0;
    for (int r = 0; r < world; ++r) {
      const float* row = gathered + r * stride;
      const double d = row[ch] - mean;
      m2 += row[c + ch] + rows_of(row + 2 * c) * d * d;
    }
    store_train_stats(out, ch, mean, m2 / n, n);
    if (ch == 0) {
      group_rows[0] = group_rows[1] = 0.f;
      for (int r = 0; r < world; ++r) {
        group_rows[0] += gathered[r * stride + 2 * c];
        group_rows[1] += gathered[r * stride + 2 * c + 1];
      }
    }
  }
}

// The rank's own dbeta and dgamma (as unsynchronised), and its two sums for the group's.
__global__ void local_gradient_sums(const double* __restrict__ partial, int64_t chunks, float* dgamma, float* dbeta,
                                    float* __restrict__ sums, int64_t c) {
  PIX_GRID_STRIDE(ch, c) {
    double sg, sgx;
    add_chunks(partial, chunks, c, ch, &sg, &sgx);
    dbeta[ch] += static_cast<float>(sg);
    dgamma[ch] += static_cast<float>(sgx);
    sums[ch] = static_cast<float>(sg);
    sums[c + ch] = static_cast<float>(sgx);
  }
}

// finish_backward_stats' coefficients from the group's sums and rows.
__global__ void synced_coefficients(const float* __restrict__ sums, const float* __restrict__ group_rows,
                                    const float* __restrict__ gamma, const float* __restrict__ invstd, float* coef,
                                    int64_t c) {
  PIX_GRID_STRIDE(ch, c) {
    const double n = rows_of(group_rows);
    const float k = gamma[ch] * invstd[ch];
    coef[ch] = k;
    coef[c + ch] = static_cast<float>(k * sums[ch] / n);
    coef[2 * c + ch] = static_cast<float>(k * sums[c + ch] / n);
  }
}

// The shifts of the forward pass need x's first row as f32 whatever x's dtype.
template <typename T>
__global__ void first_row(const T* __restrict__ x, float* __restrict__ out, int64_t c) {
  PIX_GRID_STRIDE(ch, c) out[ch] = to_float(x[ch]);
}

__global__ void eval_scale_shift(const float* __restrict__ gamma, const float* __restrict__ beta,
                                 const float* __restrict__ running_mean, const float* __restrict__ running_var,
                                 float* scale, float* shift, int64_t c, float eps) {
  PIX_GRID_STRIDE(ch, c) {
    const float invstd = static_cast<float>(1.0 / sqrt(static_cast<double>(running_var[ch]) + eps));
    scale[ch] = gamma[ch] * invstd;
    shift[ch] = beta[ch] - running_mean[ch] * scale[ch];
  }
}

// y = bn(x), then + residual when given (a join), then ReLU when relu (always after a join).
template <typename T, int V>
__device__ __forceinline__ Pack<T, V> normalized(const T* __restrict__ x, const T* __restrict__ residual, int64_t i,
                                                 int64_t ch0, const float* __restrict__ scale,
                                                 const float* __restrict__ shift, bool relu) {
  const Pack<T, V> in = *reinterpret_cast<const Pack<T, V>*>(x + i);
  Pack<T, V> res{};
  if (residual) res = *reinterpret_cast<const Pack<T, V>*>(residual + i);
  Pack<T, V> out;
#pragma unroll
  for (int j = 0; j < V; ++j) {
    float v = to_float(in.v[j]) * scale[ch0 + j] + shift[ch0 + j];
    if (residual) v += to_float(res.v[j]);
    out.v[j] = from_float<T>(relu && v < 0.f ? 0.f : v);
  }
  return out;
}

template <typename T, int V>
__global__ void normalize(const T* __restrict__ x, const T* __restrict__ residual, const float* __restrict__ scale,
                          const float* __restrict__ shift, T* __restrict__ y, int64_t n, int64_t c, bool relu) {
  PIX_GRID_STRIDE(i, n / V) {
    reinterpret_cast<Pack<T, V>*>(y)[i] = normalized<T, V>(x, residual, i * V, i * V % c, scale, shift, relu);
  }
}

// The same over one chunk of one image's rows (channel_means.cuh), with the chunk sums of y.
template <typename T, int V>
__global__ void normalize_mean(const T* __restrict__ x, const T* __restrict__ residual, const float* __restrict__ scale,
                               const float* __restrict__ shift, T* __restrict__ y, int64_t hw, int64_t c,
                               int64_t chunks, double* __restrict__ partial) {
  const MeanRows r = mean_rows(hw, c, V);
  double acc[V] = {};
  if (r.ch0 < c) {
    for (int64_t row = r.first; row < r.last; row += r.step) {
      const int64_t i = row * c + r.ch0;
      const Pack<T, V> out = normalized<T, V>(x, residual, i, r.ch0, scale, shift, true);
#pragma unroll
      for (int j = 0; j < V; ++j) acc[j] += to_float(out.v[j]);
      *reinterpret_cast<Pack<T, V>*>(y + i) = out;
    }
  }
  store_chunk_sums(acc, r, c, chunks, partial);
}

// dbeta += sum g, dgamma += sum g*xhat; coefficients of the input gradient into coef (3, C).
__global__ void finish_backward_stats(const double* __restrict__ partial, int64_t chunks, const float* __restrict__ gamma,
                                      const float* __restrict__ invstd, float* dgamma, float* dbeta, float* coef,
                                      int64_t rows, int64_t c) {
  PIX_GRID_STRIDE(ch, c) {
    double sg, sgx;
    add_chunks(partial, chunks, c, ch, &sg, &sgx);
    dbeta[ch] += static_cast<float>(sg);
    dgamma[ch] += static_cast<float>(sgx);
    const double n = static_cast<double>(rows);
    const float k = gamma[ch] * invstd[ch];
    coef[ch] = k;                                         // of g
    coef[c + ch] = static_cast<float>(k * sg / n);        // of the mean gradient
    coef[2 * c + ch] = static_cast<float>(k * sgx / n);   // of xhat
  }
}

// dx from g = dy (masked by y > 0 when y is given); after a join, g itself also goes to dres.
template <typename T, int V>
__global__ void input_gradient(const T* __restrict__ x, const T* __restrict__ y, const T* __restrict__ dy,
                               const float* __restrict__ mean, const float* __restrict__ invstd,
                               const float* __restrict__ coef, T* dx, bool overwrite, T* dres, bool dres_overwrite,
                               int64_t n, int64_t c) {
  PIX_GRID_STRIDE(i, n / V) {
    const int64_t ch0 = i * V % c;
    const Pack<T, V> xv = reinterpret_cast<const Pack<T, V>*>(x)[i];
    const Pack<T, V> gv = reinterpret_cast<const Pack<T, V>*>(dy)[i];
    Pack<T, V> yv{}, out{}, res{};
    if (y) yv = reinterpret_cast<const Pack<T, V>*>(y)[i];
    if (!overwrite) out = reinterpret_cast<const Pack<T, V>*>(dx)[i];
    if (dres && !dres_overwrite) res = reinterpret_cast<const Pack<T, V>*>(dres)[i];
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const int64_t ch = ch0 + j;
      const float g = y && to_float(yv.v[j]) <= 0.f ? 0.f : to_float(gv.v[j]);
      const float xhat = (to_float(xv.v[j]) - mean[ch]) * invstd[ch];
      const float d = coef[ch] * g - coef[c + ch] - coef[2 * c + ch] * xhat;
      out.v[j] = from_float<T>(overwrite ? d : to_float(out.v[j]) + d);
      res.v[j] = from_float<T>(dres_overwrite ? g : to_float(res.v[j]) + g);
    }
    reinterpret_cast<Pack<T, V>*>(dx)[i] = out;
    if (dres) reinterpret_cast<Pack<T, V>*>(dres)[i] = res;
  }
}

template <typename T, bool kBackward>
Tensor launch_partials(const Tensor& x, const T* y, const T* dy, const float* mean, const float* invstd,
                       cudaStream_t st, Chunks* chunks_out) {
  const int64_t c = x.size(-1), rows = x.numel() / c;
  const Chunks chunks = chunks_for(rows);
  Tensor partial = Tensor::empty({chunks.count, 2, c}, DType::F64, x.device());
  with_vector_width<T>(vector_width<T>(c, {x.raw_data(), y, dy}), [&](auto width) {
    constexpr int V = decltype(width)::value;
    const int64_t vectors = c / V;
    const int lanes = static_cast<int>(std::min<int64_t>(kChannelLanes, vectors));
    const dim3 block(lanes, kThreads / lanes);
    const dim3 grid(static_cast<unsigned>((vectors + lanes - 1) / lanes), static_cast<unsigned>(chunks.count));
    channel_partials<T, kBackward, V><<<grid, block, 0, st>>>(x.data<T>(), y, dy, mean, invstd, rows, c,
                                                               chunks.rows_per_chunk, partial.data<double>());
  });
  PIX_CUDA_CHECK_LAUNCH(kBackward ? "batchnorm_backward (channel sums)" : "batchnorm (channel sums)");
  *chunks_out = chunks;
  return partial;
}

// y from x and the per-channel (scale, shift), with the join when given.
template <typename T>
Tensor normalize_with(const Tensor& x, const Tensor& scale_shift, bool relu, const BatchNormJoin& join,
                      cudaStream_t st) {
  const int64_t c = x.size(-1), n = x.numel();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  const T* residual = join.residual.defined() ? join.residual.data<T>() : nullptr;
  const float* scale = scale_shift.data<float>();
  with_vector_width<T>(vector_width<T>(c, {x.raw_data(), residual, y.raw_data()}), [&](auto width) {
    constexpr int V = decltype(width)::value;
    if (!join.mean) {
      normalize<T, V><<<grid_for(n / V), kThreads, 0, st>>>(x.data<T>(), residual, scale, scale + c, y.data<T>(), n, c,
                                                            relu || residual);
      return;
    }
    const int64_t images = x.size(0), hw = x.size(1) * x.size(2);
    *join.mean = Tensor::empty({images, c}, DType::F32, x.device());
    const MeanLaunch l = mean_launch(images, hw, c, V);
    Tensor partial = Tensor::empty({images, l.chunks, c}, DType::F64, x.device());
    normalize_mean<T, V><<<l.grid, l.block, 0, st>>>(x.data<T>(), residual, scale, scale + c, y.data<T>(), hw, c,
                                                     l.chunks, partial.data<double>());
    PIX_CUDA_CHECK_LAUNCH("batchnorm (normalise, join and mean)");
    finish_channel_means(partial.data<double>(), l.chunks, images, c, hw, join.mean->data<float>(), st);
  });
  PIX_CUDA_CHECK_LAUNCH("batchnorm (normalise)");
  return y;
}

}  // namespace

Tensor batchnorm_forward_train(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                               Tensor& running_var, const BatchNormParams& params, BatchNormSaved& saved,
                               const BatchNormJoin& join, BatchNormSync* sync) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const int64_t c = x.size(-1), rows = x.numel() / c;
  saved.mean = Tensor::empty({c}, DType::F32, x.device());
  saved.invstd = Tensor::empty({c}, DType::F32, x.device());
  Tensor scale_shift = Tensor::empty({2, c}, DType::F32, x.device());
  Tensor x0 = Tensor::empty({c}, DType::F32, x.device());
  Tensor y;
  with_activation_type(x.dtype(), "batchnorm", [&](auto zero) {
    using T = decltype(zero);
    first_row<T><<<grid_for(c), kThreads, 0, st>>>(x.data<T>(), x0.data<float>(), c);
    PIX_CUDA_CHECK_LAUNCH("batchnorm (first row)");
    Chunks chunks{};
    Tensor partial = launch_partials<T, false>(x, nullptr, nullptr, nullptr, nullptr, st, &chunks);
    const TrainStatsOut out{gamma.data<float>(),       beta.data<float>(),         running_mean.data<float>(),
                            running_var.data<float>(), saved.mean.data<float>(),   saved.invstd.data<float>(),
                            scale_shift.data<float>(), scale_shift.data<float>() + c, params.eps, params.momentum};
    if (!sync) {
      saved.group_rows = Tensor();
      finish_train_stats<<<grid_for(c), kThreads, 0, st>>>(partial.data<double>(), chunks.count, x0.data<float>(), out,
                                                            rows, c);
      PIX_CUDA_CHECK_LAUNCH("batchnorm (statistics)");
    } else {
      const int world = sync->world_size();
      Tensor gathered = Tensor::zeros({world, 2 * c + 2}, DType::F32, x.device());
      local_moments<<<grid_for(c), kThreads, 0, st>>>(partial.data<double>(), chunks.count, x0.data<float>(), rows, c,
                                                       gathered.data<float>() + sync->rank() * (2 * c + 2));
      PIX_CUDA_CHECK_LAUNCH("batchnorm (the rank's statistics)");
      sync->all_reduce_sum(gathered);
      saved.group_rows = Tensor::empty({2}, DType::F32, x.device());
      finish_synced_stats<<<grid_for(c), kThreads, 0, st>>>(gathered.data<float>(), world, out,
                                                             saved.group_rows.data<float>(), c);
      PIX_CUDA_CHECK_LAUNCH("batchnorm (the group's statistics)");
    }
    y = normalize_with<T>(x, scale_shift, params.relu, join, st);
  });
  return y;
}

Tensor batchnorm_forward_eval(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const BatchNormParams& params, const BatchNormJoin& join) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const int64_t c = x.size(-1);
  Tensor scale_shift = Tensor::empty({2, c}, DType::F32, x.device());
  eval_scale_shift<<<grid_for(c), kThreads, 0, st>>>(gamma.data<float>(), beta.data<float>(),
                                                      running_mean.data<float>(), running_var.data<float>(),
                                                      scale_shift.data<float>(), scale_shift.data<float>() + c, c,
                                                      params.eps);
  PIX_CUDA_CHECK_LAUNCH("batchnorm (evaluation scale)");
  Tensor y;
  with_activation_type(x.dtype(), "batchnorm", [&](auto zero) {
    using T = decltype(zero);
    y = normalize_with<T>(x, scale_shift, params.relu, join, st);
  });
  return y;
}

void batchnorm_backward(const Tensor& x, const Tensor& y, const Tensor& dy, const Tensor& gamma,
                        const BatchNormSaved& saved, const BatchNormParams& params, Tensor& dx, Tensor& dgamma,
                        Tensor& dbeta, GradWrite dx_write, Tensor* dresidual, GradWrite dresidual_write,
                        BatchNormSync* sync) {
  const int device = x.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  const int64_t c = x.size(-1), n = x.numel(), rows = n / c;
  Tensor coef = Tensor::empty({3, c}, DType::F32, x.device());
  with_activation_type(x.dtype(), "batchnorm_backward", [&](auto zero) {
    using T = decltype(zero);
    const T* ys = params.relu || dresidual ? y.data<T>() : nullptr;  // the mask: a fused ReLU's, or the join's
    Chunks chunks{};
    Tensor partial = launch_partials<T, true>(x, ys, dy.data<T>(), saved.mean.data<float>(),
                                              saved.invstd.data<float>(), st, &chunks);
    if (!sync) {
      finish_backward_stats<<<grid_for(c), kThreads, 0, st>>>(partial.data<double>(), chunks.count, gamma.data<float>(),
                                                               saved.invstd.data<float>(), dgamma.data<float>(),
                                                               dbeta.data<float>(), coef.data<float>(), rows, c);
      PIX_CUDA_CHECK_LAUNCH("batchnorm_backward (parameter gradients)");
    } else {
      Tensor sums = Tensor::empty({2, c}, DType::F32, x.device());
      local_gradient_sums<<<grid_for(c), kThreads, 0, st>>>(partial.data<double>(), chunks.count, dgamma.data<float>(),
                                                             dbeta.data<float>(), sums.data<float>(), c);
      PIX_CUDA_CHECK_LAUNCH("batchnorm_backward (parameter gradients)");
      sync->all_reduce_sum(sums);
      synced_coefficients<<<grid_for(c), kThreads, 0, st>>>(sums.data<float>(), saved.group_rows.data<float>(),
                                                             gamma.data<float>(), saved.invstd.data<float>(),
                                                             coef.data<float>(), c);
      PIX_CUDA_CHECK_LAUNCH("batchnorm_backward (the group's coefficients)");
    }
    if (!dx.defined()) {
      PIX_CHECK(!dresidual, "batchnorm_backward: on CUDA a join's gradient comes with dx");
      return;
    }
    T* dres = dresidual ? dresidual->data<T>() : nullptr;
    with_vector_width<T>(vector_width<T>(c, {x.raw_data(), ys, dy.raw_data(), dx.raw_data(), dres}), [&](auto width) {
      constexpr int V = decltype(width)::value;
      input_gradient<T, V><<<grid_for(n / V), kThreads, 0, st>>>(
          x.data<T>(), ys, dy.data<T>(), saved.mean.data<float>(), saved.invstd.data<float>(), coef.data<float>(),
          dx.data<T>(), dx_write == GradWrite::Overwrite, dres, dresidual_write == GradWrite::Overwrite, n, c);
    });
    PIX_CUDA_CHECK_LAUNCH("batchnorm_backward (input gradient)");
  });
}

}  // namespace pix::cuda
