// ShardedSampler: the global/per-rank windows of docs/design.md "Distributed semantics".
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"
#include "data/sampler.h"

namespace dtrain::data {
namespace {

using Indices = std::vector<std::uint32_t>;

Indices to_vector(std::span<const std::uint32_t> s) {
  return Indices(s.begin(), s.end());
}

TEST(ShardedSampler, WindowsPartitionAPermutation) {
  for (std::size_t n : {1u, 7u, 64u, 101u}) {
    for (std::size_t b : {1u, 3u, 8u}) {
      if (b > n) continue;
      ShardedSampler s(n, b, 0, 1, 42);
      s.start_epoch(1);
      ASSERT_EQ(s.steps_per_epoch(), n / b);
      Indices perm = to_vector(s.permutation());
      Indices sorted = perm;
      std::sort(sorted.begin(), sorted.end());
      Indices identity(n);
      std::iota(identity.begin(), identity.end(), 0u);
      ASSERT_EQ(sorted, identity) << "n=" << n;
      // Window s is exactly positions [s*B, (s+1)*B), so no index repeats within an epoch.
      Indices seen;
      for (std::size_t step = 0; step < s.steps_per_epoch(); ++step) {
        const Indices w = to_vector(s.global_indices(step));
        ASSERT_EQ(w.size(), b);
        EXPECT_TRUE(
            std::equal(w.begin(), w.end(), perm.begin() + static_cast<std::ptrdiff_t>(step * b)));
        seen.insert(seen.end(), w.begin(), w.end());
      }
      std::sort(seen.begin(), seen.end());
      EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
      EXPECT_EQ(seen.size(), (n / b) * b);  // the ragged tail is dropped
    }
  }
}

TEST(ShardedSampler, RankSlicesConcatenateToGlobalWindow) {
  constexpr std::size_t kN = 103;  // odd, prime: no batch divides it
  for (int world = 1; world <= 5; ++world) {
    for (std::size_t b :
         {static_cast<std::size_t>(world), std::size_t{7}, std::size_t{13}, std::size_t{16}}) {
      std::vector<ShardedSampler> ranks;
      for (int r = 0; r < world; ++r) {
        ranks.emplace_back(kN, b, r, world, 9);
        ranks.back().start_epoch(3);
      }
      const std::size_t q = b / static_cast<std::size_t>(world);
      const std::size_t rem = b % static_cast<std::size_t>(world);
      std::size_t total = 0;
      for (int r = 0; r < world; ++r) {
        EXPECT_EQ(ranks[0].local_batch(r), q + (static_cast<std::size_t>(r) < rem ? 1 : 0));
        EXPECT_EQ(ranks[0].local_offset(r), total);
        EXPECT_EQ(ranks[static_cast<std::size_t>(r)].local_batch(), ranks[0].local_batch(r));
        total += ranks[0].local_batch(r);
      }
      EXPECT_EQ(total, b);
      for (int r = 0; r < world; ++r) {
        EXPECT_EQ(ranks[static_cast<std::size_t>(r)].steps_per_epoch(), kN / b);
      }
      for (std::size_t step = 0; step < kN / b; ++step) {
        Indices joined;
        for (const auto& s : ranks) {
          const auto local = s.local_indices(step);
          EXPECT_EQ(local.size(), s.local_batch());
          joined.insert(joined.end(), local.begin(), local.end());
        }
        ASSERT_EQ(joined, to_vector(ranks[0].global_indices(step))) << "P=" << world << " B=" << b;
        for (const auto& s : ranks) {
          EXPECT_EQ(to_vector(s.global_indices(step)), joined);  // same permutation on all ranks
        }
      }
    }
  }
}

TEST(ShardedSampler, PermutationIndependentOfWorldSize) {
  // A run resumed on a different number of ranks must continue the same global order.
  ShardedSampler one(50, 12, 0, 1, 5);
  ShardedSampler four(50, 12, 3, 4, 5);
  one.start_epoch(2);
  four.start_epoch(2);
  EXPECT_EQ(to_vector(one.permutation()), to_vector(four.permutation()));
}

TEST(ShardedSampler, DeterministicAcrossInstancesAndEpochOrder) {
  ShardedSampler a(200, 10, 0, 2, 77);
  ShardedSampler b(200, 10, 1, 2, 77);
  a.start_epoch(1);
  a.start_epoch(2);
  b.start_epoch(2);  // skipping epoch 1 (a resume) gives the same epoch 2
  EXPECT_EQ(to_vector(a.permutation()), to_vector(b.permutation()));
}

TEST(ShardedSampler, EpochsAndSeedsDiffer) {
  ShardedSampler s(200, 10, 0, 1, 77);
  s.start_epoch(1);
  const Indices e1 = to_vector(s.permutation());
  s.start_epoch(2);
  const Indices e2 = to_vector(s.permutation());
  EXPECT_NE(e1, e2);
  ShardedSampler other_seed(200, 10, 0, 1, 78);
  other_seed.start_epoch(1);
  EXPECT_NE(to_vector(other_seed.permutation()), e1);
  Indices identity(200);
  std::iota(identity.begin(), identity.end(), 0u);
  EXPECT_NE(e1, identity);
}

TEST(ShardedSampler, StartEpochDoesNotReallocate) {
  ShardedSampler s(1000, 32, 0, 1, 1);
  s.start_epoch(1);
  const std::uint32_t* data = s.permutation().data();
  for (int e = 2; e < 6; ++e) {
    s.start_epoch(e);
    EXPECT_EQ(s.permutation().data(), data);
  }
}

TEST(ShardedSampler, BatchEqualToDatasetGivesOneStep) {
  ShardedSampler s(9, 9, 2, 3, 0);
  s.start_epoch(1);
  EXPECT_EQ(s.steps_per_epoch(), 1u);
  EXPECT_EQ(s.local_indices(0).size(), 3u);
  EXPECT_THROW(s.local_indices(1), std::out_of_range);
}

TEST(ShardedSampler, RequiresStartEpoch) {
  ShardedSampler s(10, 2, 0, 1, 0);
  EXPECT_THROW(s.local_indices(0), std::logic_error);
}

void expect_batch_error(std::size_t n, std::size_t b, int world, const std::string& range) {
  try {
    ShardedSampler s(n, b, 0, world, 0);
    ADD_FAILURE() << "no error for B=" << b;
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--batch-size"), std::string::npos) << msg;
    EXPECT_NE(msg.find(range), std::string::npos) << msg;
  }
}

TEST(ShardedSampler, InvalidBatchSizes) {
  expect_batch_error(100, 0, 1, "[1, 100]");
  expect_batch_error(100, 3, 4, "[4, 100]");
  expect_batch_error(100, 101, 4, "[4, 100]");
  expect_batch_error(3, 3, 4, "[4, 3]");  // fewer examples than ranks: no valid batch
  EXPECT_NO_THROW(ShardedSampler(100, 4, 3, 4, 0));
  EXPECT_NO_THROW(ShardedSampler(100, 100, 0, 4, 0));
}

TEST(ShardedSampler, InvalidRank) {
  EXPECT_THROW(ShardedSampler(10, 4, 4, 4, 0), std::invalid_argument);
  EXPECT_THROW(ShardedSampler(10, 4, -1, 4, 0), std::invalid_argument);
  EXPECT_THROW(ShardedSampler(10, 4, 0, 0, 0), std::invalid_argument);
  ShardedSampler s(10, 4, 0, 2, 0);
  EXPECT_THROW(s.local_batch(2), std::invalid_argument);
}

}  // namespace
}  // namespace dtrain::data
