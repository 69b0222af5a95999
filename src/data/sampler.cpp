#include "data/sampler.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "core/rng.h"

namespace dtrain::data {
namespace {

constexpr std::uint64_t kPermutationPurpose = 0x5045524D;  // "PERM"

}  // namespace

ShardedSampler::ShardedSampler(std::size_t dataset_size, std::size_t global_batch, int rank,
                               int world_size, std::uint64_t seed)
    : dataset_size_(dataset_size),
      global_batch_(global_batch),
      rank_(rank),
      world_size_(world_size),
      seed_(seed) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw std::invalid_argument("ShardedSampler: rank " + std::to_string(rank) +
                                " outside world of size " + std::to_string(world_size));
  }
  if (dataset_size > std::numeric_limits<std::uint32_t>::max()) {
    throw std::invalid_argument("ShardedSampler: " + std::to_string(dataset_size) +
                                " examples exceed 32-bit indices");
  }
  const auto world = static_cast<std::size_t>(world_size);
  if (global_batch < world || global_batch > dataset_size) {
    std::string msg = "--batch-size " + std::to_string(global_batch) +
                      " is the global batch and must be in [" + std::to_string(world) + ", " +
                      std::to_string(dataset_size) + "]: at least one example per rank (" +
                      std::to_string(world) + " ranks) and at most the " +
                      std::to_string(dataset_size) + " training examples";
    if (world > dataset_size) msg += " (the training set is smaller than the number of ranks)";
    throw ConfigError(msg);
  }
  permutation_.resize(dataset_size);
}

void ShardedSampler::start_epoch(int epoch) {
  // Refilled from the identity each time so an epoch's order does not depend on which
  // epochs were computed before it (a resumed run starts mid-sequence).
  std::iota(permutation_.begin(), permutation_.end(), std::uint32_t{0});
  Rng rng(derive_seed(seed_, kPermutationPurpose, static_cast<std::uint64_t>(epoch)));
  rng.shuffle(std::span<std::uint32_t>(permutation_));
  epoch_ = epoch;
  started_ = true;
}

void ShardedSampler::check_rank(int rank) const {
  if (rank < 0 || rank >= world_size_) {
    throw std::invalid_argument("ShardedSampler: rank " + std::to_string(rank) +
                                " outside world of size " + std::to_string(world_size_));
  }
}

std::size_t ShardedSampler::local_batch(int rank) const {
  check_rank(rank);
  const auto world = static_cast<std::size_t>(world_size_);
  const auto r = static_cast<std::size_t>(rank);
  return global_batch_ / world + (r < global_batch_ % world ? 1 : 0);
}

std::size_t ShardedSampler::local_offset(int rank) const {
  check_rank(rank);
  const auto world = static_cast<std::size_t>(world_size_);
  const auto r = static_cast<std::size_t>(rank);
  const std::size_t q = global_batch_ / world;
  const std::size_t rem = global_batch_ % world;
  return r * q + std::min(r, rem);
}

void ShardedSampler::check_step(std::size_t step) const {
  if (!started_) throw std::logic_error("ShardedSampler: start_epoch() was not called");
  if (step >= steps_per_epoch()) {
    throw std::out_of_range("ShardedSampler: step " + std::to_string(step) + " of an epoch of " +
                            std::to_string(steps_per_epoch()) + " steps");
  }
}

std::span<const std::uint32_t> ShardedSampler::global_indices(std::size_t step) const {
  check_step(step);
  return std::span<const std::uint32_t>(permutation_).subspan(step * global_batch_, global_batch_);
}

std::span<const std::uint32_t> ShardedSampler::local_indices(std::size_t step) const {
  return global_indices(step).subspan(local_offset(rank_), local_batch(rank_));
}

}  // namespace dtrain::data
