#pragma once
// Turns examples of a Dataset (bytes) into the float/int32 buffers a model consumes.
// The caller owns the output buffers, so a trainer allocates them once per run.
#include <cstddef>
#include <cstdint>
#include <span>

#include "data/dataset.h"

namespace dtrain::data {

// Writes indices.size() * ds.sample_size() floats in [0, 1] (byte / 255), sample-major,
// HWC. std::out_of_range for an index >= ds.size().
void gather_images(const Dataset& ds, std::span<const std::uint32_t> indices, float* out);
// Writes indices.size() labels. std::logic_error for an unlabeled data set.
void gather_labels(const Dataset& ds, std::span<const std::uint32_t> indices, std::int32_t* out);

// Contiguous variants, for evaluation shards: examples [begin, begin + count).
void gather_range(const Dataset& ds, std::size_t begin, std::size_t count, float* out);
void gather_range_labels(const Dataset& ds, std::size_t begin, std::size_t count,
                         std::int32_t* out);

// One rank's contiguous share of an evaluation set of n examples: the first n % world ranks
// get one more, nothing is padded or repeated, so summing (correct, count, loss) over ranks
// counts every example exactly once. Ranks may get count 0 when n < world.
struct EvalShard {
  std::size_t begin = 0;
  std::size_t count = 0;
};
EvalShard eval_shard(std::size_t n, int rank, int world);

}  // namespace dtrain::data
