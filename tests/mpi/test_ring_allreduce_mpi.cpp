// The collectives under real MPI (run by CTest with 2, 3 and 4 ranks): exact sums for the
// ring and for MPI_Allreduce, results bitwise identical across ranks (compared through an
// allgather of a hash), broadcast, allgather, allreduce_max, and --allreduce validation.
// Checks that could differ between ranks use EXPECT (never ASSERT) before a collective, so
// a failure on one rank cannot leave the others waiting.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"
#include "comm/mpi/mpi_communicator.h"
#include "testing/mpi_test_env.h"

namespace dtrain::comm {
namespace {

float input(int rank, std::size_t i) {
  return static_cast<float>(derive_seed(11, static_cast<std::uint64_t>(rank), i) % 4096);
}

std::size_t count_wrong(const std::vector<float>& data, int ranks) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    long long sum = 0;
    for (int r = 0; r < ranks; ++r) {
      sum += static_cast<long long>(input(r, i));
    }
    wrong += data[i] != static_cast<float>(sum);
  }
  return wrong;
}

struct AlgoCase {
  std::string algo;
  std::size_t chunk;
};

std::ostream& operator<<(std::ostream& out, const AlgoCase& c) {
  return out << c.algo << " chunk=" << c.chunk;
}

class MpiAllreduceTest : public ::testing::TestWithParam<AlgoCase> {};

TEST_P(MpiAllreduceTest, ExactSumBitwiseIdenticalOnEveryRank) {
  MpiCommunicator comm(GetParam().algo, GetParam().chunk);
  const int p = comm.size();
  ASSERT_EQ(p, test::world_size());
  const auto up = static_cast<std::size_t>(p);
  for (std::size_t length : {std::size_t{0}, std::size_t{1}, up - 1, up, up + 1, std::size_t{10007},
                             (std::size_t{1} << 20) + 3}) {
    std::vector<float> data(length);
    for (std::size_t i = 0; i < length; ++i) {
      data[i] = input(comm.rank(), i);
    }
    comm.allreduce_sum(data);
    EXPECT_EQ(count_wrong(data, p), 0u) << "length " << length;
    const auto hashes = comm.allgather(test::fingerprint(data));
    for (int r = 1; r < p; ++r) {
      EXPECT_EQ(hashes[static_cast<std::size_t>(r)], hashes[0])
          << "length " << length << ": rank " << r << " differs from rank 0";
    }
  }
}

TEST_P(MpiAllreduceTest, RoundedSumsStillAgreeBitwise) {
  MpiCommunicator comm(GetParam().algo, GetParam().chunk);
  Rng rng(derive_seed(3, static_cast<std::uint64_t>(comm.rank())));
  std::vector<float> data(50021);
  for (float& x : data) {
    x = rng.normal();
  }
  comm.allreduce_sum(data);
  const auto hashes = comm.allgather(test::fingerprint(data));
  for (int r = 1; r < comm.size(); ++r) {
    EXPECT_EQ(hashes[static_cast<std::size_t>(r)], hashes[0]) << "rank " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Algos, MpiAllreduceTest,
                         ::testing::Values(AlgoCase{"ring", RingAllreduce::kDefaultChunkFloats},
                                           AlgoCase{"ring", 1000},
                                           AlgoCase{"mpi", RingAllreduce::kDefaultChunkFloats}),
                         [](const auto& test_case) {
                           return test_case.param.algo == "mpi"
                                      ? std::string("mpi")
                                      : "ring_chunk" + std::to_string(test_case.param.chunk);
                         });

TEST(MpiCommunicator, DoubleSumMaxAllgatherBarrier) {
  MpiCommunicator comm("ring");
  const int p = comm.size();
  const int r = comm.rank();
  std::vector<double> sums{0.5 * r, 1.0, static_cast<double>(r * r)};
  comm.allreduce_sum(sums);
  double squares = 0.0;
  for (int k = 0; k < p; ++k) {
    squares += k * k;
  }
  EXPECT_EQ(sums, (std::vector<double>{0.25 * p * (p - 1), 1.0 * p, squares}));

  EXPECT_EQ(comm.allreduce_max(r == 1 ? 42 : -r), 42);
  EXPECT_EQ(comm.allreduce_max(-10 - r), -10);

  const auto values = comm.allgather(1000u + 7u * static_cast<std::uint64_t>(r));
  ASSERT_EQ(values.size(), static_cast<std::size_t>(p));
  for (int k = 0; k < p; ++k) {
    EXPECT_EQ(values[static_cast<std::size_t>(k)], 1000u + 7u * static_cast<std::uint64_t>(k));
  }
  comm.barrier();
}

TEST(MpiCommunicator, BroadcastFromEveryRoot) {
  MpiCommunicator comm("mpi");
  for (int root = 0; root < comm.size(); ++root) {
    std::vector<float> floats(1001);
    for (std::size_t i = 0; i < floats.size(); ++i) {
      floats[i] = comm.rank() == root ? static_cast<float>(i) * 0.5f + root
                                      : -1.0f - static_cast<float>(comm.rank());
    }
    comm.broadcast(floats, root);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < floats.size(); ++i) {
      wrong += floats[i] != static_cast<float>(i) * 0.5f + root;
    }
    EXPECT_EQ(wrong, 0u) << "root " << root;

    std::vector<std::byte> bytes(77, std::byte(comm.rank() == root ? 0xA5 : 0x00));
    bytes[3] = std::byte(root);
    comm.broadcast(bytes, root);
    EXPECT_EQ(bytes[0], std::byte{0xA5}) << "root " << root;
    EXPECT_EQ(bytes[3], std::byte(root)) << "root " << root;
    EXPECT_EQ(bytes[76], std::byte{0xA5}) << "root " << root;
  }
}

TEST(MpiCommunicator, UnknownAlgorithmNamesTheOption) {
  try {
    MpiCommunicator comm("tree");
    ADD_FAILURE() << "accepted --allreduce tree";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("--allreduce"), std::string::npos) << message;
    EXPECT_NE(message.find("ring"), std::string::npos) << message;
    EXPECT_NE(message.find("mpi"), std::string::npos) << message;
  }
}

TEST(MpiCommunicator, BadBroadcastRootIsACommError) {
  MpiCommunicator comm("mpi");
  std::vector<float> data(4);
  // Every rank passes the same invalid root, so every rank fails locally; none waits.
  EXPECT_THROW(comm.broadcast(data, comm.size()), CommError);
}

}  // namespace
}  // namespace dtrain::comm
