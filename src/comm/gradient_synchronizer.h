#pragma once
// Averages gradients across ranks after the backward pass: an in-place allreduce of the
// flat gradient array (ParamArena layout), one contiguous bucket at a time. Buckets bound
// the size of a single collective (and of the ring's scratch) without copying into a
// fusion buffer. The loss already scales by 1/global_batch, so the sum is the average.
#include <cstddef>
#include <span>

#include "comm/communicator.h"

namespace dtrain::comm {

class GradientSynchronizer {
 public:
  static constexpr std::size_t kDefaultBucketBytes = std::size_t{4} << 20;

  // comm must outlive this object. bucket_bytes must hold at least one float.
  explicit GradientSynchronizer(Communicator& comm, std::size_t bucket_bytes = kDefaultBucketBytes);

  // Collective: every rank passes an array of the same length.
  void synchronize(std::span<float> grads);

  // Wall time spent inside synchronize() since construction or the last reset.
  double comm_seconds() const { return comm_seconds_; }
  void reset_comm_seconds() { comm_seconds_ = 0.0; }

  std::size_t bucket_floats() const { return bucket_floats_; }

 private:
  Communicator& comm_;
  std::size_t bucket_floats_;
  double comm_seconds_ = 0.0;
};

}  // namespace dtrain::comm
