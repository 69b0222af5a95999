#include "train/tasks/sharded_eval.h"

#include <algorithm>
#include <cstdio>

#include "data/batch.h"

namespace dtrain::train {

void evaluate_sharded(const data::Dataset& ds, const tensor::Shape& example, bool with_labels,
                      comm::Communicator& comm, int eval_batch, std::span<double> sums,
                      const std::function<void(const EvalBatch&)>& add) {
  const auto shard = data::eval_shard(ds.size(), comm.rank(), comm.size());
  tensor::Tensor x;
  std::vector<std::int32_t> labels;
  for (std::size_t done = 0; done < shard.count;) {
    const std::size_t n = std::min<std::size_t>(eval_batch, shard.count - done);
    const std::size_t first = shard.begin + done;
    x.resize(example.with_batch(n));
    data::gather_range(ds, first, n, x.data());
    if (with_labels) {
      labels.resize(n);
      data::gather_range_labels(ds, first, n, labels.data());
    }
    add({.x = x, .labels = labels, .first = first, .n = n});
    done += n;
  }
  comm.allreduce_sum(sums);
}

std::string figure(const std::string& key, double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return key + " " + text;
}

}  // namespace dtrain::train
