// The allreduce benchmark over threads: sizes, statistics and, above all, that its
// correctness check catches a broken allreduce.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/allreduce_bench.h"
#include "core/errors.h"
#include "testing/in_process_communicator.h"

namespace dtrain::bench {
namespace {

using comm::Communicator;

TEST(AllreduceBench, CorrectAllreduceHasNoWrongElements) {
  const int p = 3;
  std::vector<std::vector<AllreduceBenchResult>> results(p);
  test::run_communicator_ranks(p, [&](Communicator& comm) {
    AllreduceBenchOptions options;
    options.min_bytes = 8;
    options.max_bytes = 100000;  // 8, 16, ..., 65536
    options.iters = 3;
    options.algos = {"ring", "again"};
    std::vector<std::string> seen;
    results[static_cast<std::size_t>(comm.rank())] = run_allreduce_bench(
        options,
        [&](std::span<float> data, const std::string& algo) {
          seen.push_back(algo);
          comm.allreduce_sum(data);
        },
        comm);
    // Start-up rounds (10 per algo at a time, for at least a second), then 1 warm-up + 3
    // timed calls per size and algo.
    ASSERT_GE(seen.size(), 2u * 10u + 2u * 14u * 4u);
    EXPECT_EQ((seen.size() - 2u * 14u * 4u) % 20u, 0u);
    // Algorithms take turns call by call (noise on a shared machine hits both alike).
    for (std::size_t i = 0; i + 1 < seen.size(); i += 2) {
      EXPECT_EQ(seen[i], "ring");
      EXPECT_EQ(seen[i + 1], "again");
    }
  });
  const auto& r0 = results[0];
  ASSERT_EQ(r0.size(), 28u);
  EXPECT_EQ(r0[0].algo, "ring");
  EXPECT_EQ(r0[14].algo, "again");
  for (std::size_t i = 0; i < r0.size(); ++i) {
    EXPECT_EQ(r0[i].bytes, std::size_t{8} << (i % 14));
    EXPECT_EQ(r0[i].ranks, p);
    EXPECT_EQ(r0[i].wrong, 0);
    EXPECT_GT(r0[i].time_us_p50, 0.0);
    EXPECT_GE(r0[i].time_us_p95, r0[i].time_us_p50);
    EXPECT_NEAR(r0[i].busbw_gbs, r0[i].algbw_gbs * 4.0 / 3.0, 1e-9 * r0[i].algbw_gbs);
    // Every rank reports the same figures (times are gathered, not local).
    for (int r = 1; r < p; ++r) {
      EXPECT_EQ(results[static_cast<std::size_t>(r)][i].time_us_p50, r0[i].time_us_p50);
      EXPECT_EQ(results[static_cast<std::size_t>(r)][i].wrong, r0[i].wrong);
    }
  }
}

TEST(AllreduceBench, BrokenAllreduceIsCounted) {
  const int p = 2;
  long long wrong = -1;
  test::run_communicator_ranks(p, [&](Communicator& comm) {
    AllreduceBenchOptions options;
    options.min_bytes = 4096;
    options.max_bytes = 4096;
    options.iters = 2;
    options.algos = {"broken"};
    const auto results = run_allreduce_bench(
        options,
        [&](std::span<float> data, const std::string&) {
          comm.allreduce_sum(data);
          if (comm.rank() == 1) {
            data[17] += 1.0f;  // one wrong element on one rank per call
          }
        },
        comm);
    ASSERT_EQ(results.size(), 1u);
    if (comm.rank() == 0) {
      wrong = results[0].wrong;
    }
  });
  EXPECT_EQ(wrong, 3) << "warm-up and 2 timed iterations, one element each";
}

TEST(AllreduceBench, InvalidOptionsNameTheOption) {
  test::run_communicator_ranks(1, [](Communicator& comm) {
    auto noop = [](std::span<float>, const std::string&) {};
    AllreduceBenchOptions options;
    options.min_bytes = 2;
    try {
      run_allreduce_bench(options, noop, comm);
      ADD_FAILURE() << "min_bytes 2 accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("--min-bytes"), std::string::npos) << e.what();
    }
    options.min_bytes = 64;
    options.max_bytes = 32;
    EXPECT_THROW(run_allreduce_bench(options, noop, comm), ConfigError);
  });
}

TEST(AllreduceBench, DefaultItersShrinkWithSize) {
  EXPECT_EQ(default_bench_iters(8), 200);
  EXPECT_EQ(default_bench_iters(std::size_t{256} << 20), 5);
  EXPECT_GE(default_bench_iters(std::size_t{1} << 20), default_bench_iters(std::size_t{16} << 20));
}

}  // namespace
}  // namespace dtrain::bench
