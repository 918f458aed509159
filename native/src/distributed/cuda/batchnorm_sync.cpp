#include "distributed/cuda/nccl_comm.h"

namespace pix::nccl {
namespace {

class NcclBatchNormSync final : public BatchNormSync {
 public:
  explicit NcclBatchNormSync(std::shared_ptr<Communicator> comm) : comm_(std::move(comm)) {}
  int rank() const override { return comm_->rank(); }
  int world_size() const override { return comm_->world_size(); }
  // In order with the gradient buckets a backward overlaps (GradientAverager): both use the side stream.
  void all_reduce_sum(const Tensor& values) override { comm_->all_reduce_sum_in_order(values); }

 private:
  std::shared_ptr<Communicator> comm_;
};

}  // namespace

std::shared_ptr<BatchNormSync> batchnorm_sync(std::shared_ptr<Communicator> comm) {
  return std::make_shared<NcclBatchNormSync>(std::move(comm));
}

}  // namespace pix::nccl
