// NCCL collectives on the engine's stream. Every call sets its device first (the binding may call
// from a libuv worker thread, whose current device is its own) and passes cuda::stream(device) to
// NCCL. Flat buffers come from the caching allocator and go back to it as soon as their work is
// queued: all work of a device is ordered on that one stream (caching_allocator.cu), NCCL's
// kernels included, so a block handed out again is only touched after the collective is done.
//
// Gathering and scattering are one cudaMemcpyAsync per tensor (~160 for a ResNet-50), a few
// microseconds each on the host; a pointer-table kernel would do it in one launch if that ever shows.
#include "distributed/cuda/nccl_comm.h"

#include <cuda_runtime.h>

#include "core/cuda/check.h"
#include "ops/cuda/launch.cuh"

namespace pix::nccl {
namespace {

struct Extras {
  float values[Communicator::kMaxExtras];
  int count;
};

// Host scalars into the buffer by value (a kernel argument): a copy from pageable host memory
// could synchronise the stream and stall the buckets queued before it.
__global__ void write_extras(float* dst, Extras extras) {
  if (threadIdx.x < extras.count) dst[threadIdx.x] = extras.values[threadIdx.x];
}

__global__ void scale_in_place(float* data, int64_t count, float scale) {
  PIX_GRID_STRIDE(i, count) { data[i] *= scale; }
}

DataType nccl_type(DType dtype) { return dtype == DType::BF16 ? kBfloat16 : kFloat32; }

}  // namespace

UniqueId unique_id() {
  UniqueId id{};
  check(api().GetUniqueId(&id), "ncclGetUniqueId");
  return id;
}

Communicator::Communicator(const UniqueId& id, int world_size, int rank, int device)
    : world_size_(world_size), rank_(rank), device_(device) {
  PIX_CHECK(world_size >= 1, "NcclComm: world size must be at least 1, got ", world_size);
  PIX_CHECK(rank >= 0 && rank < world_size, "NcclComm: rank must be in [0, ", world_size - 1, "], got ", rank);
  const Api& nccl = api();
  cuda::set_device(device);
  cuda::stream(device);  // the engine's stream exists (and its device is current) before NCCL starts
  Comm comm = nullptr;
  check(nccl.CommInitRank(&comm, world_size, id, rank), concat("ncclCommInitRank (", where(), ")").c_str());
  comm_ = comm;
}

Communicator::~Communicator() {
  try {
    destroy();
  } catch (...) {
  }
}

std::string Communicator::where() const {
  return concat("rank ", rank_, " of ", world_size_, " on cuda:", device_);
}

void Communicator::ensure_alive(const char* fn) const {
  PIX_CHECK(comm_ != nullptr, "NcclComm.", fn, ": the communicator was destroyed");
}

void Communicator::check_tensor(const Tensor& tensor, const char* fn, bool f32_only) const {
  PIX_CHECK(tensor.defined(), "NcclComm.", fn, ": the tensor is undefined");
  PIX_CHECK(tensor.device() == Device::cuda(device_), "NcclComm.", fn, ": the tensor is on ", tensor.device().str(),
            ", the communicator on cuda:", device_);
  const bool ok = tensor.dtype() == DType::F32 || (!f32_only && tensor.dtype() == DType::BF16);
  PIX_CHECK(ok, "NcclComm.", fn, ": ", f32_only ? "f32" : "f32 or bf16", " tensors only, got ", dtype_name(tensor.dtype()));
}

void Communicator::all_reduce_sum(const Tensor& tensor) {
  ensure_alive("allReduceSum");
  check_tensor(tensor, "allReduceSum", false);
  if (tensor.numel() == 0) return;
  cuda::set_device(device_);
  check(api().AllReduce(tensor.raw_data(), tensor.raw_data(), static_cast<size_t>(tensor.numel()), nccl_type(tensor.dtype()),
                        kSum, comm_, engine_stream()),
        "ncclAllReduce", comm_);
}

void Communicator::all_reduce_sum_in_order(const Tensor& tensor) {
  ensure_alive("allReduceSum");
  check_tensor(tensor, "allReduceSum", false);
  if (tensor.numel() == 0) return;
  const Stream side = side_stream();
  order_after(side, engine_stream());
  check(api().AllReduce(tensor.raw_data(), tensor.raw_data(), static_cast<size_t>(tensor.numel()), nccl_type(tensor.dtype()),
                        kSum, comm_, side),
        "ncclAllReduce", comm_);
  order_after(engine_stream(), side);
}

void Communicator::broadcast(const Tensor& tensor, int root) {
  ensure_alive("broadcast");
  check_tensor(tensor, "broadcast", false);
  PIX_CHECK(root >= 0 && root < world_size_, "NcclComm.broadcast: root must be in [0, ", world_size_ - 1, "], got ", root);
  if (tensor.numel() == 0) return;
  cuda::set_device(device_);
  check(api().Broadcast(tensor.raw_data(), tensor.raw_data(), static_cast<size_t>(tensor.numel()), nccl_type(tensor.dtype()),
                        root, comm_, engine_stream()),
        "ncclBroadcast", comm_);
}

std::vector<float> Communicator::all_reduce_flat(const std::vector<Tensor>& tensors, float scale,
                                                 const std::vector<float>& extras) {
  const Stream stream = engine_stream();
  // On the engine's stream the buffer may go back at once: whatever gets it next is queued after the collective.
  const Tensor flat = queue_all_reduce_flat(tensors, scale, extras, stream);
  return extras.empty() ? std::vector<float>{} : read_extras(flat, extras.size(), stream);
}

Tensor Communicator::queue_all_reduce_flat(const std::vector<Tensor>& tensors, float scale, const std::vector<float>& extras,
                                           Stream queue) {
  ensure_alive("allReduceGradients");
  PIX_CHECK(extras.size() <= static_cast<size_t>(kMaxExtras), "NcclComm.allReduceGradients: at most ", kMaxExtras,
            " extra values, got ", extras.size());
  int64_t total = 0;
  for (const Tensor& t : tensors) {
    check_tensor(t, "allReduceGradients", true);
    total += t.numel();
  }
  const int64_t count = total + static_cast<int64_t>(extras.size());
  if (count == 0) return Tensor();
  cuda::set_device(device_);
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(queue);
  Tensor flat = Tensor::empty({count}, DType::F32, Device::cuda(device_));
  float* base = flat.data<float>();
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    PIX_CUDA_CHECK(cudaMemcpyAsync(base + offset, t.raw_data(), t.nbytes(), cudaMemcpyDeviceToDevice, stream));
    offset += t.numel();
  }
  if (!extras.empty()) {
    Extras e{};
    e.count = static_cast<int>(extras.size());
    for (size_t i = 0; i < extras.size(); ++i) e.values[i] = extras[i];
    write_extras<<<1, kMaxExtras, 0, stream>>>(base + total, e);
    PIX_CUDA_CHECK_LAUNCH("write_extras");
  }
  check(api().AllReduce(base, base, static_cast<size_t>(count), kFloat32, kSum, comm_, queue), "ncclAllReduce", comm_);
  if (scale != 1.0f && total > 0) {
    scale_in_place<<<cuda::grid_for(total), cuda::kThreads, 0, stream>>>(base, total, scale);
    PIX_CUDA_CHECK_LAUNCH("scale_in_place");
  }
  offset = 0;
  for (const Tensor& t : tensors) {
    PIX_CUDA_CHECK(cudaMemcpyAsync(t.raw_data(), base + offset, t.nbytes(), cudaMemcpyDeviceToDevice, stream));
    offset += t.numel();
  }
  return flat;
}

std::vector<float> Communicator::read_extras(const Tensor& flat, size_t count, Stream queue) {
  PIX_CHECK(flat.defined() && count <= static_cast<size_t>(flat.numel()), "NcclComm: no room for ", count, " extras");
  cuda::set_device(device_);
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(queue);
  std::vector<float> summed(count);
  if (count == 0) return summed;
  PIX_CUDA_CHECK(cudaMemcpyAsync(summed.data(), flat.data<float>() + (flat.numel() - static_cast<int64_t>(count)),
                                 count * sizeof(float), cudaMemcpyDeviceToHost, stream));
  PIX_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (api().CommGetAsyncError) {
    Result async_error = kSuccess;
    check(api().CommGetAsyncError(comm_, &async_error), "ncclCommGetAsyncError", comm_);
    check(async_error, "ncclAllReduce (asynchronous)", comm_);
  }
  return summed;
}

Stream Communicator::engine_stream() const { return reinterpret_cast<Stream>(cuda::stream(device_)); }

Stream Communicator::side_stream() {
  ensure_alive("sideStream");
  if (!side_stream_) {
    cuda::set_device(device_);
    cudaStream_t stream = nullptr;
    PIX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    side_stream_ = reinterpret_cast<Stream>(stream);
  }
  return side_stream_;
}

void Communicator::order_after(Stream waiter, Stream producer) const {
  if (waiter == producer) return;
  cuda::set_device(device_);
  cudaEvent_t event = nullptr;
  PIX_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  const cudaError_t recorded = cudaEventRecord(event, reinterpret_cast<cudaStream_t>(producer));
  const cudaError_t waited = recorded == cudaSuccess
                                 ? cudaStreamWaitEvent(reinterpret_cast<cudaStream_t>(waiter), event, 0)
                                 : recorded;
  cudaEventDestroy(event);  // legal while the wait is pending: CUDA frees it once that is done
  PIX_CUDA_CHECK(waited);
}

void Communicator::broadcast_flat(const std::vector<Tensor>& tensors, int root) {
  ensure_alive("broadcastState");
  PIX_CHECK(root >= 0 && root < world_size_, "NcclComm.broadcastState: root must be in [0, ", world_size_ - 1, "], got ", root);
  int64_t total = 0;
  for (const Tensor& t : tensors) {
    check_tensor(t, "broadcastState", true);
    total += t.numel();
  }
  if (total == 0) return;
  cuda::set_device(device_);
  cudaStream_t stream = cuda::stream(device_);
  Tensor flat = Tensor::empty({total}, DType::F32, Device::cuda(device_));
  float* base = flat.data<float>();
  int64_t offset = 0;
  if (rank_ == root) {
    for (const Tensor& t : tensors) {
      PIX_CUDA_CHECK(cudaMemcpyAsync(base + offset, t.raw_data(), t.nbytes(), cudaMemcpyDeviceToDevice, stream));
      offset += t.numel();
    }
  }
  check(api().Broadcast(base, base, static_cast<size_t>(total), kFloat32, root, comm_, reinterpret_cast<Stream>(stream)),
        "ncclBroadcast", comm_);
  if (rank_ != root) {
    for (const Tensor& t : tensors) {
      PIX_CUDA_CHECK(cudaMemcpyAsync(t.raw_data(), base + offset, t.nbytes(), cudaMemcpyDeviceToDevice, stream));
      offset += t.numel();
    }
  }
}

void Communicator::destroy() {
  if (!comm_) return;
  const Api& nccl = api();
  Result async_error = kSuccess;
  if (nccl.CommGetAsyncError) nccl.CommGetAsyncError(comm_, &async_error);
  if (async_error != kSuccess && async_error != kInProgress) {
    abort();
    return;
  }
  cuda::set_device(device_);
  Comm comm = comm_;
  comm_ = nullptr;
  // The queued collectives finish first; a CUDA error here is reported, the communicator freed anyway.
  cudaError_t synced = cudaStreamSynchronize(cuda::stream(device_));
  if (side_stream_) {
    const cudaError_t side = cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(side_stream_));
    if (synced == cudaSuccess) synced = side;
    release_side_stream();
  }
  check(nccl.CommDestroy(comm), "ncclCommDestroy");
  if (synced != cudaSuccess) {
    cudaGetLastError();
    throw Error(concat("NcclComm.destroy: CUDA error while waiting for the queued collectives: ", cudaGetErrorString(synced)));
  }
}

void Communicator::abort() {
  if (!comm_) return;
  Comm comm = comm_;
  comm_ = nullptr;
  cuda::set_device(device_);
  release_side_stream();  // CUDA frees a stream with work still queued once that work is done
  check(api().CommAbort(comm), "ncclCommAbort");
}

void Communicator::release_side_stream() {
  if (side_stream_) cudaStreamDestroy(reinterpret_cast<cudaStream_t>(side_stream_));
  side_stream_ = nullptr;
}

}  // namespace pix::nccl
