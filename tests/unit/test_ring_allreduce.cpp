// RingAllreduce over real threads (InProcessTransport): exact sums, bitwise-identical
// results on every rank, pipelining with many chunks, scratch reuse; and the bucketing of
// GradientSynchronizer.
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "comm/gradient_synchronizer.h"
#include "comm/collectives/ring_allreduce.h"
#include "testing/in_process_communicator.h"
#include "testing/in_process_transport.h"

namespace dtrain::comm {
namespace {

// Pseudo-random integers below 4096, different for every (rank, index): sums of up to
// 4096 ranks are exact in float, and a segment reduced twice, dropped or put in the wrong
// place shows up as wrong elements.
float input(int rank, std::size_t i, std::uint64_t salt = 0) {
  return static_cast<float>(derive_seed(salt, static_cast<std::uint64_t>(rank), i) % 4096);
}

float expected(int ranks, std::size_t i, std::uint64_t salt = 0) {
  long long sum = 0;
  for (int r = 0; r < ranks; ++r) {
    sum += static_cast<long long>(input(r, i, salt));
  }
  return static_cast<float>(sum);
}

std::size_t count_wrong(const std::vector<float>& data, int ranks, std::uint64_t salt = 0) {
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    wrong += data[i] != expected(ranks, i, salt);
  }
  return wrong;
}

void expect_identical(const std::vector<std::vector<float>>& results, const std::string& what) {
  for (std::size_t r = 1; r < results.size(); ++r) {
    ASSERT_EQ(results[r].size(), results[0].size()) << what;
    if (results[0].empty()) {
      continue;  // memcmp's pointers must not be null, even for 0 bytes
    }
    EXPECT_EQ(std::memcmp(results[r].data(), results[0].data(), results[0].size() * sizeof(float)),
              0)
        << what << ": rank " << r << " differs from rank 0";
  }
}

// Runs one allreduce of `length` floats on `ranks` threads; returns each rank's result.
std::vector<std::vector<float>> run_ring(int ranks, std::size_t length, std::size_t chunk) {
  std::vector<std::vector<float>> results(static_cast<std::size_t>(ranks));
  test::run_ranks(ranks, [&](int rank, PeerTransport& transport) {
    std::vector<float> data(length);
    for (std::size_t i = 0; i < length; ++i) {
      data[i] = input(rank, i);
    }
    RingAllreduce ring(transport, chunk);
    ring.allreduce_sum(data);
    results[static_cast<std::size_t>(rank)] = std::move(data);
  });
  return results;
}

struct RingCase {
  int ranks;
  std::size_t chunk;
};

std::ostream& operator<<(std::ostream& out, const RingCase& c) {
  return out << "P=" << c.ranks << " chunk=" << c.chunk;
}

class RingAllreduceTest : public ::testing::TestWithParam<RingCase> {};

TEST_P(RingAllreduceTest, ExactSumBitwiseIdenticalOnEveryRank) {
  const auto [p, chunk] = GetParam();
  const auto up = static_cast<std::size_t>(p);
  std::vector<std::size_t> lengths{0, 1, up - 1, up, up + 1, 10007};
  // A 2^20+3 array in chunks of 3 floats would be millions of messages; the small-chunk
  // cases exercise pipelining on the 10007-float array instead.
  if (chunk >= 1024) {
    lengths.push_back((std::size_t{1} << 20) + 3);
  }
  for (std::size_t length : lengths) {
    const std::string what = "P=" + std::to_string(p) + " length=" + std::to_string(length) +
                             " chunk=" + std::to_string(chunk);
    const auto results = run_ring(p, length, chunk);
    for (int r = 0; r < p; ++r) {
      EXPECT_EQ(count_wrong(results[static_cast<std::size_t>(r)], p), 0u) << what << " rank " << r;
    }
    expect_identical(results, what);
  }
}

INSTANTIATE_TEST_SUITE_P(RanksAndChunks, RingAllreduceTest,
                         ::testing::Values(RingCase{1, RingAllreduce::kDefaultChunkFloats},
                                           RingCase{2, RingAllreduce::kDefaultChunkFloats},
                                           RingCase{3, RingAllreduce::kDefaultChunkFloats},
                                           RingCase{4, RingAllreduce::kDefaultChunkFloats},
                                           RingCase{5, RingAllreduce::kDefaultChunkFloats},
                                           RingCase{2, 3}, RingCase{3, 1}, RingCase{4, 7},
                                           RingCase{5, 3}, RingCase{3, 1000}, RingCase{5, 4099}),
                         [](const auto& test_case) {
                           return "P" + std::to_string(test_case.param.ranks) + "_chunk" +
                                  std::to_string(test_case.param.chunk);
                         });

TEST(RingAllreduce, SmallChunksReallyPipeline) {
  // 3 ranks, 3000 floats: segments of 1000, chunks of 10 -> 100 messages per step, 2 steps
  // per phase, 2 phases.
  test::InProcessNetwork network(3);
  test::run_ranks(network, [](int rank, PeerTransport& transport) {
    std::vector<float> data(3000);
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = input(rank, i);
    }
    RingAllreduce(transport, 10).allreduce_sum(data);
    EXPECT_EQ(count_wrong(data, 3), 0u);
  });
  for (int r = 0; r < 3; ++r) {
    EXPECT_EQ(network.in_process_transport(r).messages_sent(), 400u) << "rank " << r;
  }
}

TEST(RingAllreduce, RepeatedCallsReuseScratch) {
  const std::vector<std::size_t> lengths{1000, 10, 100001, 0, 7, 50000, 100001, 3};
  const int p = 4;
  std::vector<std::vector<std::vector<float>>> results(lengths.size(),
                                                       std::vector<std::vector<float>>(p));
  test::run_ranks(p, [&](int rank, PeerTransport& transport) {
    RingAllreduce ring(transport, 5000);
    std::size_t largest_segment = 0;
    for (std::size_t call = 0; call < lengths.size(); ++call) {
      std::vector<float> data(lengths[call]);
      for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = input(rank, i, call);
      }
      ring.allreduce_sum(data);
      largest_segment = std::max(largest_segment, (lengths[call] + p - 1) / p);
      // Grows to the largest segment seen so far, never beyond, never shrinks.
      EXPECT_EQ(ring.scratch_floats(), largest_segment) << "call " << call;
      EXPECT_EQ(count_wrong(data, p, call), 0u) << "call " << call << " rank " << rank;
      results[call][static_cast<std::size_t>(rank)] = std::move(data);
    }
  });
  for (std::size_t call = 0; call < lengths.size(); ++call) {
    expect_identical(results[call], "call " + std::to_string(call));
  }
}

TEST(RingAllreduce, NonIntegerInputsAgreeBitwiseAcrossRanks) {
  // Rounding makes the sum order-dependent here; identity must hold anyway, because each
  // segment is summed on one rank and copied.
  const int p = 5;
  std::vector<std::vector<float>> results(p);
  test::run_ranks(p, [&](int rank, PeerTransport& transport) {
    Rng rng(derive_seed(7, static_cast<std::uint64_t>(rank)));
    std::vector<float> data(30011);
    for (float& x : data) {
      x = rng.normal() * 1e3f;
    }
    RingAllreduce(transport, 1000).allreduce_sum(data);
    results[static_cast<std::size_t>(rank)] = std::move(data);
  });
  expect_identical(results, "normal inputs");
}

TEST(RingAllreduce, ZeroChunkIsRejected) {
  test::InProcessNetwork network(1);
  EXPECT_THROW(RingAllreduce(network.transport(0), 0), ConfigError);
}

// Records the spans passed to allreduce_sum, to check how the synchronizer cuts buckets.
class RecordingCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void allreduce_sum(std::span<float> data) override {
    calls.push_back(data);
    for (float& x : data) {
      x *= 2.0f;  // what a 2-rank sum of equal inputs gives
    }
  }
  void allreduce_sum(std::span<double>) override {}
  int allreduce_max(int value) override { return value; }
  void broadcast(std::span<float>, int) override {}
  void broadcast(std::span<std::byte>, int) override {}
  std::vector<std::uint64_t> allgather(std::uint64_t value) override { return {value, value}; }
  void barrier() override {}
  [[noreturn]] void abort(int) override { throw CommError("abort"); }

  std::vector<std::span<float>> calls;
};

TEST(GradientSynchronizer, BucketsAreContiguousAndCoverTheArrayOnce) {
  for (std::size_t bucket_floats : {1u, 7u, 10u, 100u, 1000u}) {
    RecordingCommunicator comm;
    GradientSynchronizer sync(comm, bucket_floats * sizeof(float));
    std::vector<float> grads(100);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      grads[i] = static_cast<float>(i);
    }
    sync.synchronize(grads);
    const std::size_t expected_calls = (grads.size() + bucket_floats - 1) / bucket_floats;
    ASSERT_EQ(comm.calls.size(), expected_calls) << "bucket " << bucket_floats;
    const float* next = grads.data();
    for (const auto& call : comm.calls) {
      EXPECT_EQ(call.data(), next) << "bucket " << bucket_floats;  // in place, no copy
      EXPECT_LE(call.size(), bucket_floats);
      next += call.size();
    }
    EXPECT_EQ(next, grads.data() + grads.size());
    for (std::size_t i = 0; i < grads.size(); ++i) {
      EXPECT_EQ(grads[i], 2.0f * static_cast<float>(i)) << "each element reduced exactly once";
    }
  }
}

TEST(GradientSynchronizer, SumsOverThreadsAndCountsTime) {
  const int p = 3;
  test::run_communicator_ranks(p, [&](Communicator& comm) {
    // 28-byte buckets = 7 floats: 10007 does not divide into them.
    GradientSynchronizer sync(comm, 28);
    EXPECT_EQ(sync.bucket_floats(), 7u);
    std::vector<float> grads(10007);
    for (std::size_t i = 0; i < grads.size(); ++i) {
      grads[i] = input(comm.rank(), i);
    }
    sync.synchronize(grads);
    EXPECT_EQ(count_wrong(grads, p), 0u) << "rank " << comm.rank();
    EXPECT_GT(sync.comm_seconds(), 0.0);
    sync.reset_comm_seconds();
    EXPECT_EQ(sync.comm_seconds(), 0.0);
  });
}

TEST(GradientSynchronizer, RejectsBucketSmallerThanAFloat) {
  RecordingCommunicator comm;
  EXPECT_THROW(GradientSynchronizer(comm, 3), ConfigError);
}

}  // namespace
}  // namespace dtrain::comm
