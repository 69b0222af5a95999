// Every --allreduce algorithm under real MPI (CTest runs this with 2, 3, 4 and 5 ranks,
// oversubscribed): exact sums for the lengths, results bitwise identical across
// ranks (compared through an allgather of a hash), float sums within the rounding bound,
// auto choosing the same algorithm on every rank, and ranks with different tables refused.
// Checks that could differ between ranks use EXPECT before a collective, never ASSERT.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <span>
#include <string>
#include <vector>

#include "comm/mpi/mpi_communicator.h"
#include "core/errors.h"
#include "core/rng.h"
#include "testing/collective_inputs.h"
#include "testing/mpi_test_env.h"

namespace dtrain::comm {
namespace {

// Fills data with call `call`'s integer inputs, allreduces it, and expects the exact sums,
// bitwise the same on every rank (compared through an allgather of a hash).
void expect_exact_and_identical(MpiCommunicator& comm, std::span<float> data, std::size_t call) {
  const int p = comm.size();
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = test::integer_input(comm.rank(), i, call);
  }
  comm.allreduce_sum(data);
  const std::vector<float> result(data.begin(), data.end());
  EXPECT_EQ(test::count_wrong_sums(result, p, call), 0u) << "length " << data.size();
  const auto hashes = comm.allgather(test::fingerprint(result));
  for (int r = 1; r < p; ++r) {
    EXPECT_EQ(hashes[static_cast<std::size_t>(r)], hashes[0])
        << "length " << data.size() << ": rank " << r << " differs from rank 0";
  }
}

class MpiCollectiveTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MpiCollectiveTest, ExactSumsBitwiseIdenticalOnEveryRank) {
  MpiCommunicator comm(GetParam());
  const int p = comm.size();
  ASSERT_EQ(p, test::world_size());
  const auto lengths = test::collective_lengths(p);
  for (std::size_t call = 0; call < lengths.size(); ++call) {
    std::vector<float> data(lengths[call]);
    expect_exact_and_identical(comm, data, call);
  }
}

// The same on spans of an array from allocate_array (the trainer's gradients live in one),
// at offsets 0, 16 and 32 in turn: hierarchical (and auto) then sum in place.
TEST_P(MpiCollectiveTest, ExactSumsOnASharedArray) {
  MpiCommunicator comm(GetParam());
  const int p = comm.size();
  const auto lengths = test::collective_lengths(p);
  std::size_t capacity = 0;
  for (std::size_t n : lengths) capacity = std::max(capacity, n + 32);
  const std::span<float> array = comm.allocate_array(capacity);
  ASSERT_EQ(array.size(), capacity);
  for (int round = 0; round < 2; ++round) {
    for (std::size_t call = 0; call < lengths.size(); ++call) {
      expect_exact_and_identical(comm, array.subspan(call % 3 * 16, lengths[call]), call);
    }
  }
}

// A rank that cannot create its shared segment (here: a file-size limit, as a full disk or
// a small container would give) makes every rank fall back to private memory together; the
// sums stay exact and nobody waits forever.
TEST(MpiCollectives, SharedArrayThatFailsOnOneRankFallsBackEverywhere) {
  MpiCommunicator comm("hierarchical");
  const int p = comm.size();
  rlimit saved{};
  getrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, SIG_IGN);
  if (comm.rank() == p - 1) {
    rlimit small = saved;
    small.rlim_cur = 4096;
    setrlimit(RLIMIT_FSIZE, &small);
  }
  const std::span<float> data = comm.allocate_array(100000);
  if (comm.rank() == p - 1) setrlimit(RLIMIT_FSIZE, &saved);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = test::integer_input(comm.rank(), i, 3);
  comm.allreduce_sum(data);
  const std::vector<float> result(data.begin(), data.end());
  EXPECT_EQ(test::count_wrong_sums(result, p, 3), 0u);
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
