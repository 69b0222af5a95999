// `dtrain bench allreduce` under real MPI: every algorithm gives exact sums at every size,
// and every rank reports the same figures (rank 0 prints them, but all must agree).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/allreduce_bench.h"
#include "comm/mpi/mpi_communicator.h"
#include "testing/mpi_test_env.h"

namespace dtrain::bench {
namespace {

using comm::MpiCommunicator;
using comm::parse_algo;

TEST(AllreduceBenchMpi, EveryAlgorithmIsExactAtEverySize) {
  MpiCommunicator reference("auto", 1024);  // small chunks: sizes above 4 KiB pipeline
  AllreduceBenchOptions options;
  options.min_bytes = 4;
  options.max_bytes = std::size_t{1} << 20;  // 4 B .. 1 MiB: 19 sizes
  options.iters = 3;
  options.algos = {"ring", "auto", "rd", "rabenseifner", "hierarchical", "mpi"};
  const auto results = run_allreduce_bench(
      options,
      [&](std::span<float> data, const std::string& algo) {
        if (algo == "auto") {
          reference.allreduce_sum(data);
        } else {
          reference.allreduce_sum(data, *parse_algo(algo));
        }
      },
      reference);
  ASSERT_EQ(results.size(), 6u * 19u);
  for (const auto& result : results) {
    EXPECT_EQ(result.wrong, 0) << result.algo << " " << result.bytes << " bytes";
    EXPECT_EQ(result.ranks, test::world_size());
    EXPECT_GT(result.time_us_p50, 0.0);
    EXPECT_GE(result.time_us_p95, result.time_us_p50);
    // The same p50 on every rank: times are gathered, not local.
    const auto p50 = reference.allgather(std::bit_cast<std::uint64_t>(result.time_us_p50));
    for (std::size_t r = 1; r < p50.size(); ++r) {
      EXPECT_EQ(p50[r], p50[0]) << "rank " << r;
    }
  }
  EXPECT_EQ(results.front().algo, "ring");
  EXPECT_EQ(results.back().algo, "mpi");
  EXPECT_EQ(results.back().bytes, std::size_t{1} << 20);
}

}  // namespace
}  // namespace dtrain::bench
