// normalize_erase_batch on CUDA: one thread per pixel looks its three bytes up in the normalisation
// table (computed on the host by image::normalize_table, uploaded, held in shared memory) and, when one of its
// sample's boxes covers it, takes the last such box's fill, as the CPU's in-order filling leaves it.
// Each erased element's noise index follows from the box order alone (image/normalize_erase.h), and
// the noise is image/normal_draws.h's, built from correctly rounded operations only, so the floats
// are the CPU's bit for bit.
// The table and the per-sample erasing (boxes, mode, seed) travel as two small tensors uploaded per
// call; the batch's upload has just synchronised the stream, so these copies wait for nothing.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/cuda/check.h"
#include "image/normal_draws.h"
#include "ops/cuda/launch.cuh"
#include "ops/normalize_erase_batch.h"

namespace pix::cuda {
namespace {

constexpr int kTableSize = image::kChannels * 256;  // table[c * 256 + v]

// Fields of erase_records' per-sample and per-box records.
constexpr int kSampleFields = 4;
constexpr int kBoxFields = 5;

// Pixel i of the batch x (N,H,W,3) into y; erase holds N sample records then the box records
// (null when nothing is erased). Host and device, so the index arithmetic can be checked on a
// machine without a GPU.
PIX_HOST_DEVICE inline void normalize_erase_pixel(const uint8_t* x, float* y, int64_t i, int64_t n, int h, int w,
                                                  const float* table, const int64_t* erase) {
  const uint8_t* px = x + i * 3;
  float v[3] = {table[px[0]], table[256 + px[1]], table[512 + px[2]]};
  if (erase != nullptr) {
    const int64_t pixels = static_cast<int64_t>(h) * w, sample = i / pixels, at = i - sample * pixels;
    const int64_t row = at / w, col = at - row * w;
    const int64_t* record = erase + sample * kSampleFields;
    const int64_t* boxes = erase + n * kSampleFields + record[0] * kBoxFields;
    for (int64_t b = record[1] - 1; b >= 0; --b) {  // the last box drawn over a pixel is what stays
      const int64_t* box = boxes + b * kBoxFields;
      const int64_t dy = row - box[0], dx = col - box[1];
      if (dy < 0 || dy >= box[2] || dx < 0 || dx >= box[3]) continue;
      const auto mode = static_cast<image::EraseMode>(record[2]);
      const uint64_t seed = static_cast<uint64_t>(record[3]);
      const uint64_t first = static_cast<uint64_t>(box[4] + (mode == image::EraseMode::Pixel ? (dy * box[3] + dx) * 3 : 0));
      for (int c = 0; c < 3; ++c) v[c] = mode == image::EraseMode::Const ? 0.0f : image::normal_value(seed, first + c);
      break;
    }
  }
  float* out = y + i * 3;
  out[0] = v[0];
  out[1] = v[1];
  out[2] = v[2];
}

__global__ void normalize_erase_kernel(const uint8_t* x, float* y, int64_t n, int h, int w, const float* table,
                                       const int64_t* erase) {
  __shared__ float local[kTableSize];
  for (int k = threadIdx.x; k < kTableSize; k += blockDim.x) local[k] = table[k];
  __syncthreads();
  PIX_GRID_STRIDE(i, n * h * w) normalize_erase_pixel(x, y, i, n, h, w, local, erase);
}

// The records normalize_erase_pixel reads, or nothing when no sample has a box. Per sample: [first
// box, box count, mode, seed]; per box: [top, left, height, width, the noise index of its first
// value] (the boxes before it used the indices below).
std::vector<int64_t> erase_records(const NormalizeEraseBatchParams& params, int64_t n) {
  int64_t box_count = 0;
  for (const SampleErase& e : params.erase) box_count += static_cast<int64_t>(e.boxes.size());
  if (box_count == 0) return {};
  std::vector<int64_t> records(n * kSampleFields + box_count * kBoxFields);
  int64_t* sample = records.data();
  int64_t* box = sample + n * kSampleFields;
  int64_t first = 0;
  for (const SampleErase& e : params.erase) {
    *sample++ = first;
    *sample++ = static_cast<int64_t>(e.boxes.size());
    *sample++ = static_cast<int64_t>(e.mode);
    *sample++ = static_cast<int64_t>(e.seed);
    int64_t base = 0;
    for (const image::EraseBox& b : e.boxes) {
      *box++ = b.top;
      *box++ = b.left;
      *box++ = b.height;
      *box++ = b.width;
      *box++ = base;
      base += e.mode == image::EraseMode::Pixel ? static_cast<int64_t>(b.height) * b.width * 3
              : e.mode == image::EraseMode::Rand ? 3 : 0;
    }
    first += static_cast<int64_t>(e.boxes.size());
  }
  return records;
}

}  // namespace

void normalize_erase_batch(const Tensor& x, Tensor& y, const NormalizeEraseBatchParams& params) {
  const int device = x.device().index;
  const int64_t n = x.size(0);
  const int h = static_cast<int>(x.size(1)), w = static_cast<int>(x.size(2));
  image::NormalizeTable values;
  image::normalize_table(params.mean, params.std, values);
  Tensor table = Tensor::empty({kTableSize}, DType::F32);
  std::memcpy(table.data<float>(), values, sizeof values);
  table = table.to(x.device());
  const std::vector<int64_t> records = erase_records(params, n);
  Tensor erase;  // the records on the device
  if (!records.empty()) {
    Tensor host = Tensor::empty({static_cast<int64_t>(records.size())}, DType::I64);
    std::copy(records.begin(), records.end(), host.data<int64_t>());
    erase = host.to(x.device());
  }
  set_device(device);
  normalize_erase_kernel<<<grid_for(n * h * w), kThreads, 0, stream(device)>>>(
      x.data<uint8_t>(), y.data<float>(), n, h, w, table.data<float>(), erase.defined() ? erase.data<int64_t>() : nullptr);
  PIX_CUDA_CHECK_LAUNCH("normalize_erase_batch");
}

}  // namespace pix::cuda
