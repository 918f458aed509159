#include "distributed/cuda/gradient_averager.h"

#include "core/error.h"

namespace pix::nccl {

GradientAverager::GradientAverager(Communicator& comm, std::vector<std::vector<nn::StateEntry*>> buckets, float scale,
                                   std::vector<float> extras)
    : comm_(comm), scale_(scale), extras_(std::move(extras)) {
  PIX_CHECK(extras_.size() <= static_cast<size_t>(Communicator::kMaxExtras), "NcclComm.backwardAllReduce: at most ",
            Communicator::kMaxExtras, " extras, got ", extras_.size());
  if (buckets.empty() && !extras_.empty()) buckets.emplace_back();
  gradients_.resize(buckets.size());
  waiting_.resize(buckets.size());
  for (size_t b = 0; b < buckets.size(); ++b) {
    for (nn::StateEntry* entry : buckets[b]) {
      PIX_CHECK(entry->is_parameter() && entry->grad.defined(), "NcclComm.backwardAllReduce: '", entry->key,
                "' is a buffer and has no gradient");
      PIX_CHECK(bucket_of_.emplace(entry, b).second, "NcclComm.backwardAllReduce: '", entry->key,
                "' is in more than one bucket");
      gradients_[b].push_back(entry->grad);
    }
    waiting_[b] = buckets[b].size();
  }
}

GradientAverager::~GradientAverager() {
  if (finished_ || in_flight_.empty()) return;
  // A backward that failed half-way: the buffers go back to the cache only once the engine's
  // stream, which hands them out again, is past the collectives that use them.
  try {
    comm_.order_after(comm_.engine_stream(), comm_.side_stream());
  } catch (...) {
  }
}

void GradientAverager::gradients_ready(const std::vector<nn::StateEntry*>& parameters) {
  for (const nn::StateEntry* entry : parameters) {
    const auto found = bucket_of_.find(entry);
    if (found != bucket_of_.end()) --waiting_[found->second];
  }
  send_ready_buckets();
}

void GradientAverager::send_ready_buckets() {
  // A bucket of no gradients (the extras' own, added last) has nothing to wait for: it goes at finish().
  while (next_ < gradients_.size() && waiting_[next_] == 0 && !gradients_[next_].empty()) {
    send(next_++);
    ++sent_during_backward_;
  }
}

void GradientAverager::send(size_t bucket) {
  const Stream side = comm_.side_stream();
  comm_.order_after(side, comm_.engine_stream());  // the gradients it reads are written by then
  const bool last = bucket + 1 == gradients_.size();
  Tensor flat = comm_.queue_all_reduce_flat(gradients_[bucket], scale_, last ? extras_ : std::vector<float>{}, side);
  if (flat.defined()) in_flight_.push_back(std::move(flat));
}

std::vector<float> GradientAverager::finish() {
  PIX_CHECK(!finished_, "GradientAverager.finish: called twice");
  // Whatever the listener was not told of (a parameter the backward does not reach) is final now.
  while (next_ < gradients_.size()) send(next_++);
  std::vector<float> summed;
  const Stream side = comm_.side_stream();
  if (!extras_.empty() && !in_flight_.empty()) summed = comm_.read_extras(in_flight_.back(), extras_.size(), side);
  comm_.order_after(comm_.engine_stream(), side);
  in_flight_.clear();  // safe now: the engine's stream, which hands blocks out again, waits for the side stream
  finished_ = true;
  return summed;
}

}  // namespace pix::nccl
