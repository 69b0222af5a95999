// RingAllreduce over real threads (InProcessTransport): exact sums, bitwise-identical
// results on every rank, pipelining with many chunks, scratch reuse. (The synchronizer's
// buckets: test_gradient_synchronizer.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "comm/collectives/ring_allreduce.h"
#include "core/rng.h"
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
                           // Appended piecewise: GCC 12 warns (-Wrestrict, falsely) on
                           // "P" + std::to_string(...) here.
                           std::string name = "P";
                           name += std::to_string(test_case.param.ranks);
                           name += "_chunk";
                           name += std::to_string(test_case.param.chunk);
                           return name;
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

// Rank 0 of a ring of two, the other rank played by the transport: a receive is filled
// with 2.0f when the ring waits for it (or at wait_all), and every wait_recv notes how
// many receives and sends were started and how much of the reduced segment (rank 0 adds
// segment 1 in its one reduce-scatter step) already holds the sum 1 + 2.
class ScriptedPeer final : public PeerTransport {
 public:
  struct Wait {
    std::size_t index, recvs_started, sends_started, summed;
  };
  explicit ScriptedPeer(std::span<const float> reduced) : reduced_(reduced) {}
  int rank() const override { return 0; }
  int size() const override { return 2; }
  void start_send(std::span<const float>, int to) override {
    EXPECT_EQ(to, 1);
    ++sends_;
  }
  void start_recv(std::span<float> into, int from) override {
    EXPECT_EQ(from, 1);
    recvs_.push_back({into, false});
  }
  void wait_recv(std::size_t index) override {
    std::size_t summed = 0;
    for (float v : reduced_) summed += v == 3.0f;
    waits.push_back({index, recvs_.size(), sends_, summed});
    arrive(recvs_.at(index));
  }
  void wait_all() override {
    for (auto& recv : recvs_) arrive(recv);
    recvs_.clear();
    sends_ = 0;
  }
  std::vector<Wait> waits;

 private:
  struct Recv {
    std::span<float> into;
    bool arrived;
  };
  static void arrive(Recv& recv) {
    if (!recv.arrived) std::ranges::fill(recv.into, 2.0f);
    recv.arrived = true;
  }
  std::span<const float> reduced_;
  std::vector<Recv> recvs_;
  std::size_t sends_ = 0;
};

TEST(RingAllreduce, EachChunkIsAddedWhileLaterOnesAreOnTheWire) {
  // 36 floats on 2 ranks: segments of 18; chunks of 4 -> 4, 4, 4, 4, 2.
  std::vector<float> data(36, 1.0f);
  ScriptedPeer peer(std::span<const float>(data).subspan(18));
  RingAllreduce(peer, 4).allreduce_sum(data);
  // Every receive and send of the step is started before the first wait; at the wait for
  // chunk i exactly chunks 0..i-1 have been added.
  ASSERT_EQ(peer.waits.size(), 5u);
  for (std::size_t i = 0; i < peer.waits.size(); ++i) {
    EXPECT_EQ(peer.waits[i].index, i);
    EXPECT_EQ(peer.waits[i].recvs_started, 5u) << "wait " << i;
    EXPECT_EQ(peer.waits[i].sends_started, 5u) << "wait " << i;
    EXPECT_EQ(peer.waits[i].summed, std::min<std::size_t>(4 * i, 18)) << "wait " << i;
  }
  // Segment 1 summed here; segment 0 received complete in the allgather.
  for (std::size_t i = 0; i < data.size(); ++i) EXPECT_EQ(data[i], i < 18 ? 2.0f : 3.0f) << i;
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

}  // namespace
}  // namespace dtrain::comm
