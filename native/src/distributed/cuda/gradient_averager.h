// PyTorch DDP's overlap of the gradient all-reduce with the backward pass. The model tells the
// averager (an nn::GradientListener) each time a part's gradients are final; a bucket whose every
// gradient is final goes out at once on the communicator's side stream, after the engine's work
// queued so far, and its collective runs while the engine's stream goes on with the earlier layers'
// backward. Buckets go out in their order and only in it, the same on every rank (NCCL needs the
// ranks to call their collectives in one order); planned in reverse parameter order, as DDP plans
// them (electron/host/distributed/nccl_group.ts), they complete in that order anyway. SyncBatchNorm's
// sums, issued by the same backward, go through the same side stream (all_reduce_sum_in_order), so
// the GPU runs every collective in the order it was issued.
//
// finish(), after the backward, sends what is left, makes the engine's stream wait for every
// bucket (the optimizer step reads the averaged gradients there) and returns the extras (the loss,
// stop votes) summed over the ranks, which ride in the last bucket. The arithmetic is
// all_reduce_flat's, bucket for bucket: the gradients come out with the same bits as from a
// backward followed by all_reduce_flat on each bucket.
//
// Only the last micro-batch of an accumulated step is averaged this way (DDP's no_sync for the
// others): the earlier ones just accumulate.
#pragma once

#include <unordered_map>
#include <vector>

#include "distributed/cuda/nccl_comm.h"
#include "nn/model.h"

namespace pix::nccl {

class GradientAverager final : public nn::GradientListener {
 public:
  // buckets: parameters (their gradients f32 on the communicator's device), each in one bucket at
  // most; extras ride in the last bucket (an empty one is added for them when there is none).
  GradientAverager(Communicator& comm, std::vector<std::vector<nn::StateEntry*>> buckets, float scale,
                   std::vector<float> extras);
  ~GradientAverager() override;  // without finish(): the engine's stream still waits for what went out
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  void gradients_ready(const std::vector<nn::StateEntry*>& parameters) override;
  std::vector<float> finish();

  // How many buckets went out while the backward still ran (before finish): what overlapped.
  size_t sent_during_backward() const { return sent_during_backward_; }
  size_t buckets() const { return gradients_.size(); }

 private:
  void send_ready_buckets();
  void send(size_t bucket);

  Communicator& comm_;
  std::vector<std::vector<Tensor>> gradients_;         // per bucket
  std::vector<size_t> waiting_;                        // per bucket: gradients not final yet
  std::unordered_map<const nn::StateEntry*, size_t> bucket_of_;
  float scale_;
  std::vector<float> extras_;
  size_t next_ = 0;                                    // the next bucket to send
  size_t sent_during_backward_ = 0;
  std::vector<Tensor> in_flight_;                      // flat buffers, kept until the engine waits for them
  bool finished_ = false;
};

}  // namespace pix::nccl
