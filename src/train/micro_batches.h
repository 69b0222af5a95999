#pragma once
// --accumulate N (docs/training.md "Gradient accumulation"): an optimizer step of global
// batch B runs N micro-batches of B/N global examples (B/(N*P) per rank). The sampler cuts
// the epoch into micro-batches, so micro-batch k of step s covers global positions
// [sB + kB/N, sB + (k+1)B/N): the step sees exactly the examples of a step of batch B. Each
// micro-batch's loss is normalized by B, and layers add into the gradients, which are
// zeroed only before the first; so the sum is the gradient of batch B up to float rounding.
// Only the last micro-batch's backward starts the gradient buckets' reduction and only it
// applies the optimizer: one allreduce per step.
#include <cstddef>
#include <cstdint>

#include "train/train_config.h"

namespace dtrain::train {

// The global micro-batch B/N. Throws ConfigError naming --accumulate unless N divides the
// global batch and every rank gets at least one example of each micro-batch.
std::size_t micro_batch_size(const TrainConfig& config, int world_size);

// Micro-batch k's stream for dropout: micro-batch 0 keeps the step's (so N = 1 is the run
// it always was), the others derive their own.
std::uint64_t micro_batch_seed(std::uint64_t step_rank_seed, int k);

}  // namespace dtrain::train
