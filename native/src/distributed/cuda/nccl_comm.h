// One rank's NCCL communicator, its collectives ordered on the engine's CUDA stream of its device
// (core/cuda/check.h: cuda::stream), so they run after the kernels queued before them (the
// backward that wrote the gradients) and before those queued after (the optimizer step), with no
// host synchronisation in between. Plain C++ (no CUDA or NCCL headers), implemented in
// nccl_comm.cu and reached from the binding only through PIX_CUDA_CALL.
//
// The flat collectives are data parallelism's: several tensors gathered into one buffer, one
// NCCL call, scattered back (PyTorch DDP's gradient buckets). A few host scalars (the loss, stop
// votes) can ride at the end of the buffer, as the CPU process group does it.
#pragma once

#include <memory>
#include <vector>

#include "core/tensor.h"
#include "ops/batchnorm.h"
#include "distributed/nccl_library.h"

namespace pix::nccl {

// ncclGetUniqueId: made by one rank (rank 0) and handed to every other before they all join.
UniqueId unique_id();

class Communicator {
 public:
  static constexpr int kMaxExtras = 16;

  // Joins the communicator of `world_size` ranks named by `id` as `rank`, on cuda:`device`.
  // Blocks until every rank has joined (NCCL's bootstrap); NCCL refuses two ranks on one GPU.
  Communicator(const UniqueId& id, int world_size, int rank, int device);
  ~Communicator();  // destroy(), errors swallowed
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int device() const { return device_; }
  bool alive() const { return comm_ != nullptr; }

  // In place on an f32 or bf16 tensor of this communicator's device; returns once queued.
  void all_reduce_sum(const Tensor& tensor);
  // The same on the side stream, between the engine's work queued before and after: every
  // collective that may be in flight beside the engine's kernels (the overlapped gradient buckets,
  // SyncBatchNorm's sums) goes through the one side stream, so the GPU runs them in the order they
  // were issued, which is the same on every rank (PyTorch keeps one NCCL stream per device for this).
  void all_reduce_sum_in_order(const Tensor& tensor);
  void broadcast(const Tensor& tensor, int root);

  // One collective over f32 tensors of this device: gathered into one buffer with `extras` (at
  // most kMaxExtras) after them, summed over the ranks, the tensors multiplied by `scale`, and
  // scattered back. Returns the summed extras, waiting for the collective only when there are any.
  std::vector<float> all_reduce_flat(const std::vector<Tensor>& tensors, float scale, const std::vector<float>& extras);
  // all_reduce_flat's steps, queued on any stream of this device (the engine's, or side_stream()
  // to overlap other work). The flat buffer is returned and must be kept until that stream's work
  // is done: the caching allocator orders its blocks on the engine's stream alone, so a block freed
  // early could go to engine work that runs while the collective still uses it.
  Tensor queue_all_reduce_flat(const std::vector<Tensor>& tensors, float scale, const std::vector<float>& extras,
                               Stream stream);
  // The `count` extras at the end of a flat buffer, once `stream`'s work is done (this waits), with
  // NCCL's asynchronous errors raised.
  std::vector<float> read_extras(const Tensor& flat, size_t count, Stream stream);
  // A stream of this communicator's own (non-blocking, on its device, made on first use): collectives
  // queued there run beside the engine's kernels.
  Stream side_stream();
  Stream engine_stream() const;
  // Work queued on `waiter` from now on starts after everything queued on `producer` so far.
  void order_after(Stream waiter, Stream producer) const;
  // Rank root's values of f32 `tensors` to every rank, through one buffer and one collective.
  void broadcast_flat(const std::vector<Tensor>& tensors, int root);

  // Waits for the queued work and frees NCCL's resources (an errored communicator is aborted
  // instead); later calls throw. abort() frees them without waiting.
  void destroy();
  void abort();

 private:
  void check_tensor(const Tensor& tensor, const char* fn, bool f32_only) const;
  void ensure_alive(const char* fn) const;
  void release_side_stream();
  std::string where() const;  // "rank 1 of 2 on cuda:0"

  Comm comm_ = nullptr;
  Stream side_stream_ = nullptr;
  int world_size_ = 0;
  int rank_ = 0;
  int device_ = 0;
};

// SyncBatchNorm's group (ops/batchnorm.h: BatchNormSync) over `comm`: its sums are
// all_reduce_sum_in_order's, between the BatchNorm kernels. It keeps the communicator alive.
std::shared_ptr<BatchNormSync> batchnorm_sync(std::shared_ptr<Communicator> comm);

}  // namespace pix::nccl
