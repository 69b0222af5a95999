#include "comm/gradient_synchronizer.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "core/errors.h"

namespace dtrain::comm {

GradientSynchronizer::GradientSynchronizer(Communicator& comm, std::size_t bucket_bytes)
    : comm_(comm), bucket_floats_(bucket_bytes / sizeof(float)) {
  if (bucket_floats_ == 0) {
    throw ConfigError("gradient bucket size " + std::to_string(bucket_bytes) +
                      " bytes is too small (at least " + std::to_string(sizeof(float)) +
                      " bytes expected)");
  }
}

void GradientSynchronizer::synchronize(std::span<float> grads) {
  if (comm_.size() == 1) {
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t off = 0; off < grads.size(); off += bucket_floats_) {
    comm_.allreduce_sum(grads.subspan(off, std::min(bucket_floats_, grads.size() - off)));
  }
  comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace dtrain::comm
