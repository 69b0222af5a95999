// Every --allreduce algorithm under real MPI (CTest runs this with 2, 3, 4 and 5 ranks,
// oversubscribed): exact sums for the lengths, results bitwise identical across
// ranks (compared through an allgather of a hash), float sums within the rounding bound,
// auto choosing the same algorithm on every rank, and ranks with different tables refused.
// Checks that could differ between ranks use EXPECT before a collective, never ASSERT.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "comm/mpi/mpi_communicator.h"
#include "core/errors.h"
#include "core/rng.h"
#include "testing/collective_inputs.h"
#include "testing/mpi_test_env.h"

namespace dtrain::comm {
namespace {

class MpiCollectiveTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MpiCollectiveTest, ExactSumsBitwiseIdenticalOnEveryRank) {
  MpiCommunicator comm(GetParam());
  const int p = comm.size();
  ASSERT_EQ(p, test::world_size());
  const auto lengths = test::collective_lengths(p);
  for (std::size_t call = 0; call < lengths.size(); ++call) {
    std::vector<float> data(lengths[call]);
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = test::integer_input(comm.rank(), i, call);
    }
    comm.allreduce_sum(data);
    EXPECT_EQ(test::count_wrong_sums(data, p, call), 0u) << "length " << lengths[call];
    const auto hashes = comm.allgather(test::fingerprint(data));
    for (int r = 1; r < p; ++r) {
      EXPECT_EQ(hashes[static_cast<std::size_t>(r)], hashes[0])
          << "length " << lengths[call] << ": rank " << r << " differs from rank 0";
    }
  }
}

TEST_P(MpiCollectiveTest, FloatSumsWithinRoundingBoundAndIdentical) {
  MpiCommunicator comm(GetParam());
  const int p = comm.size();
  auto value = [](int rank, std::size_t i) {
    Rng rng(derive_seed(5, static_cast<std::uint64_t>(rank), i));
    return rng.normal() * 100.0f;
  };
  std::vector<float> data(20011);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = value(comm.rank(), i);
  comm.allreduce_sum(data);
  const double u = std::ldexp(1.0, -24);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    double exact = 0, magnitude = 0;
    for (int r = 0; r < p; ++r) {
      exact += static_cast<double>(value(r, i));
      magnitude += std::abs(static_cast<double>(value(r, i)));
    }
    outside += std::abs(static_cast<double>(data[i]) - exact) > 1.01 * (p - 1) * u * magnitude;
  }
  EXPECT_EQ(outside, 0u);
  const auto hashes = comm.allgather(test::fingerprint(data));
  for (int r = 1; r < p; ++r) {
    EXPECT_EQ(hashes[static_cast<std::size_t>(r)], hashes[0]) << "rank " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Algos, MpiCollectiveTest,
                         ::testing::Values("auto", "ring", "rd", "rabenseifner", "hierarchical",
                                           "mpi"));

TEST(MpiCollectives, AutoChoosesTheSameAlgorithmOnEveryRank) {
  MpiCommunicator comm("auto");
  for (std::size_t bytes : {std::size_t{8}, std::size_t{4096}, std::size_t{1} << 20}) {
    const auto choices = comm.allgather(static_cast<std::uint64_t>(comm.algorithm_for(bytes)));
    for (int r = 1; r < comm.size(); ++r) {
      EXPECT_EQ(choices[static_cast<std::size_t>(r)], choices[0]) << bytes << " bytes";
    }
  }
  // Every rank of this test runs on one host.
  EXPECT_EQ(comm.topology(), Topology::kSharedHosts);
  EXPECT_EQ(comm.hosts(), 1);
}

TEST(MpiCollectives, DifferentTablesOnDifferentRanksAreRefusedEverywhere) {
  auto table = AlgorithmTable::builtin();
  if (test::world_rank() == 1) {
    table = AlgorithmTable::parse("shm 4096 rd\nshm max ring\n", "rank1-table");
  }
  try {
    MpiCommunicator comm("auto", RingAllreduce::kDefaultChunkFloats, table);
    ADD_FAILURE() << "ranks with different tables were accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("--allreduce-table"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace dtrain::comm
