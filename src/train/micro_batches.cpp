#include "train/micro_batches.h"

#include <string>

#include "core/errors.h"
#include "core/rng.h"

namespace dtrain::train {

std::size_t micro_batch_size(const TrainConfig& config, int world_size) {
  const int n = config.accumulate, batch = config.global_batch;
  if (n <= 1) return static_cast<std::size_t>(batch);
  const std::string option = "--accumulate " + std::to_string(n) + ": ";
  if (batch % n != 0) {
    throw ConfigError(option + "the global batch " + std::to_string(batch) +
                      " is not a multiple of " + std::to_string(n));
  }
  if (batch / n < world_size) {
    throw ConfigError(option + "micro-batches of " + std::to_string(batch / n) +
                      " examples are fewer than the " + std::to_string(world_size) +
                      " ranks (--batch-size must be >= accumulate x ranks)");
  }
  return static_cast<std::size_t>(batch / n);
}

std::uint64_t micro_batch_seed(std::uint64_t step_rank_seed, int k) {
  constexpr std::uint64_t kMicroStream = 0x6d6963726fULL;  // "micro"
  return k == 0 ? step_rank_seed
                : derive_seed(step_rank_seed, kMicroStream, static_cast<std::uint64_t>(k));
}

}  // namespace dtrain::train
