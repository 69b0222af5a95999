#pragma once
// The sharded sampler of docs/design.md "Distributed semantics".
//
// Every rank computes the same permutation of [0, N) per epoch, seeded from (seed, epoch)
// only, never from rank or world size, so a run resumed on a different number of ranks
// still visits the same examples in the same global order. Step s covers global
// positions [s*B, (s+1)*B) of that permutation; rank r takes a contiguous part of it:
//
//   B = q*P + rem:   | r0: q+1 | r1: q+1 | ... r(rem-1): q+1 | r(rem): q | ... | r(P-1): q |
//
// so the per-rank slices concatenate, in rank order, to the global window, and a mean over
// the global batch equals the size-weighted mean of the per-rank means.
// The ragged tail (N mod B positions) is dropped so all ranks run the same number of steps.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dtrain::data {

class ShardedSampler {
 public:
  // Throws ConfigError (naming --batch-size and the valid range) unless
  // world_size <= global_batch <= dataset_size; std::invalid_argument for a bad rank or
  // world size, or a data set too large for 32-bit indices.
  ShardedSampler(std::size_t dataset_size, std::size_t global_batch, int rank, int world_size,
                 std::uint64_t seed);

  // Computes the permutation for `epoch` in place (no allocation). Any integer works; the
  // permutation depends only on (seed, epoch). The trainer numbers epochs from 1, as in the
  // metrics file. Must be called before local_indices/global_indices.
  void start_epoch(int epoch);

  std::size_t steps_per_epoch() const { return dataset_size_ / global_batch_; }

  // The examples this rank trains on at `step` of the current epoch (local_batch() of them).
  // std::out_of_range unless step < steps_per_epoch().
  std::span<const std::uint32_t> local_indices(std::size_t step) const;
  // All global_batch() examples of `step`, in rank order.
  std::span<const std::uint32_t> global_indices(std::size_t step) const;

  std::size_t local_batch(int rank) const;
  std::size_t local_offset(int rank) const;  // position of rank's slice in the window
  std::size_t local_batch() const { return local_batch(rank_); }
  std::size_t local_offset() const { return local_offset(rank_); }

  std::size_t dataset_size() const { return dataset_size_; }
  std::size_t global_batch() const { return global_batch_; }
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int epoch() const { return epoch_; }
  std::span<const std::uint32_t> permutation() const { return permutation_; }

 private:
  void check_rank(int rank) const;
  void check_step(std::size_t step) const;

  std::size_t dataset_size_;
  std::size_t global_batch_;
  int rank_;
  int world_size_;
  std::uint64_t seed_;
  int epoch_ = 0;
  bool started_ = false;
  std::vector<std::uint32_t> permutation_;
};

}  // namespace dtrain::data
