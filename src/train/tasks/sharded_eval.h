#pragma once
// What every task's evaluation shares (docs/design.md "Distributed semantics"): a data set
// sharded over ranks without padding (data::eval_shard: rank r takes one contiguous range,
// the first size % P ranks one example more), run in forward passes of at most `eval_batch`
// examples, each pass adding its figures into this rank's sums, then ONE allreduce of the
// sums, so every example counts exactly once whatever the rank count. The passes run at the
// global batch (not the rank's share), so the figures do not depend on P.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "data/dataset.h"
#include "tensor/tensor.h"

namespace dtrain::train {

// One forward pass's examples: x holds data set examples [first, first + n).
struct EvalBatch {
  const tensor::Tensor& x;               // [n, example shape]
  std::span<const std::int32_t> labels;  // n labels with `with_labels`, else empty
  std::size_t first = 0;
  std::size_t n = 0;
};

// Calls `add` for each batch of this rank's shard, in data set order, then sums `sums` over
// ranks. Collective.
void evaluate_sharded(const data::Dataset& ds, const tensor::Shape& example, bool with_labels,
                      comm::Communicator& comm, int eval_batch, std::span<double> sums,
                      const std::function<void(const EvalBatch&)>& add);

// "key value" with `decimals` digits: the figures of rank 0's epoch and final lines.
std::string figure(const std::string& key, double value, int decimals = 4);

}  // namespace dtrain::train
