// Every allreduce algorithm of src/comm/collectives over real threads (InProcessTransport;
// the hierarchical one also over shared memory between threads standing for one host's
// ranks): exact sums and bitwise-identical results on every rank for P = 1..9 and the
// issue's lengths; float inputs within the rounding bound of any summation order; scratch
// that stops growing in steady state; a barrier that really waits.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "comm/collectives/hierarchical.h"
#include "comm/collectives/host_barrier.h"
#include "comm/collectives/rabenseifner.h"
#include "comm/collectives/recursive_doubling.h"
#include "comm/collectives/ring_allreduce.h"
#include "core/rng.h"
#include "testing/collective_inputs.h"
#include "testing/in_process_transport.h"

namespace dtrain::comm {
namespace {

using test::count_wrong_sums;
using test::integer_input;

// Cache-line aligned, zeroed memory that the threads of one "host" share.
struct SharedMemory {
  explicit SharedMemory(std::size_t n)
      : bytes(n), data(static_cast<std::byte*>(::operator new (n, std::align_val_t{64}))) {
    std::memset(data, 0, n);
  }
  ~SharedMemory() { ::operator delete (data, std::align_val_t{64}); }
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  std::span<std::byte> span() { return {data, bytes}; }
  std::size_t bytes;
  std::byte* data;
};

// Host sizes for the hierarchical tests: all ranks on one host, or hosts of 1, 2, 3, 1, 2,
// 3, ... ranks (uneven, some with a single rank), ranks numbered host by host.
std::vector<int> host_sizes(int ranks, bool one_host) {
  if (one_host) return {ranks};
  std::vector<int> sizes;
  for (int left = ranks, k = 0; left > 0; ++k) {
    sizes.push_back(std::min(left, k % 3 + 1));
    left -= sizes.back();
  }
  return sizes;
}

// Runs `calls` allreduces per rank with algorithm `algo` on `ranks` threads; fill(rank,
// call, data) makes the inputs, check(rank, call, data) sees each result.
using Fill = std::function<void(int rank, std::size_t call, std::vector<float>&)>;
using Check = std::function<void(int rank, std::size_t call, std::vector<float>&)>;

struct Run {
  // ring, rd, rabenseifner, hierarchical, hierarchical-hosts; in-place- before the last two:
  // the data lies in arrays registered with add_array (the ranks of a host map each other's)
  std::string algo;
  std::size_t chunk = 32768;
  std::size_t piece = HierarchicalAllreduce::kDefaultPieceFloats;
};

void run_algo(const Run& run, int ranks, const std::vector<std::size_t>& lengths, const Fill& fill,
              const Check& check) {
  test::InProcessNetwork network(ranks);
  std::vector<int> host_of, local_of;
  const bool in_place = run.algo.starts_with("in-place-");
  const std::string algo = in_place ? run.algo.substr(9) : run.algo;
  std::vector<int> sizes = host_sizes(ranks, algo != "hierarchical-hosts");
  for (std::size_t h = 0; h < sizes.size(); ++h) {
    for (int l = 0; l < sizes[h]; ++l) {
      host_of.push_back(static_cast<int>(h));
      local_of.push_back(l);
    }
  }
  const int hosts = static_cast<int>(sizes.size());
  test::InProcessNetwork leaders(hosts);
  // In place: one array per rank, as long as the longest call plus the largest offset used
  // (calls start at offsets 0, 16 and 32 in turn, so a span is not always the whole array).
  std::size_t capacity = 32;
  for (std::size_t n : lengths) capacity = std::max(capacity, n + 32);
  std::vector<std::vector<float>> arrays(in_place ? static_cast<std::size_t>(ranks) : 0,
                                         std::vector<float>(capacity, 0.0f));
  std::vector<std::unique_ptr<SharedMemory>> shared;
  for (int size : sizes) {
    shared.push_back(
        std::make_unique<SharedMemory>(HierarchicalAllreduce::shared_bytes(size, run.piece)));
  }
  test::run_ranks(network, [&](int rank, PeerTransport& transport) {
    std::function<void(std::span<float>)> allreduce;
    std::unique_ptr<RingAllreduce> ring;
    std::unique_ptr<RecursiveDoublingAllreduce> rd;
    std::unique_ptr<RabenseifnerAllreduce> rab;
    std::unique_ptr<HierarchicalAllreduce> hier;
    if (algo == "ring") {
      ring = std::make_unique<RingAllreduce>(transport, run.chunk);
      allreduce = [&](std::span<float> d) { ring->allreduce_sum(d); };
    } else if (algo == "rd") {
      rd = std::make_unique<RecursiveDoublingAllreduce>(transport, run.chunk);
      allreduce = [&](std::span<float> d) { rd->allreduce_sum(d); };
    } else if (algo == "rabenseifner") {
      rab = std::make_unique<RabenseifnerAllreduce>(transport, run.chunk);
      allreduce = [&](std::span<float> d) { rab->allreduce_sum(d); };
    } else {
      const int h = host_of[static_cast<std::size_t>(rank)];
      HostGroup group;
      group.shared = shared[static_cast<std::size_t>(h)]->span();
      group.local_rank = local_of[static_cast<std::size_t>(rank)];
      group.local_size = sizes[static_cast<std::size_t>(h)];
      group.hosts = hosts;
      if (group.local_rank == 0 && hosts > 1) group.leaders = &leaders.transport(h);
      hier = std::make_unique<HierarchicalAllreduce>(group, run.piece);
      allreduce = [&](std::span<float> d) { hier->allreduce_sum(d); };
      if (in_place) {
        // The host's ranks are consecutive, local rank 0 first.
        const int first = rank - group.local_rank;
        std::vector<float*> bases;
        for (int k = 0; k < group.local_size; ++k) {
          bases.push_back(arrays[static_cast<std::size_t>(first + k)].data());
        }
        hier->add_array(bases, capacity);
      }
    }
    std::vector<float> data;
    for (std::size_t call = 0; call < lengths.size(); ++call) {
      data.assign(lengths[call], 0.0f);
      fill(rank, call, data);
      if (in_place) {
        const std::span<float> span = std::span<float>(arrays[static_cast<std::size_t>(rank)])
                                          .subspan(call % 3 * 16, data.size());
        std::copy(data.begin(), data.end(), span.begin());
        allreduce(span);
        std::copy(span.begin(), span.end(), data.begin());
      } else {
        allreduce(data);
      }
      check(rank, call, data);
    }
  });
}

struct Case {
  Run run;
  int ranks;
};

std::string case_name(const Case& c) {
  std::string algo = c.run.algo;
  for (char& ch : algo) {
    if (ch == '-') ch = '_';
  }
  return algo + "_P" + std::to_string(c.ranks) + "_chunk" + std::to_string(c.run.chunk) + "_piece" +
         std::to_string(c.run.piece);
}

std::ostream& operator<<(std::ostream& out, const Case& c) {
  return out << case_name(c);
}

class CollectiveTest : public ::testing::TestWithParam<Case> {};

TEST_P(CollectiveTest, ExactSumsBitwiseIdenticalOnEveryRank) {
  const auto& [run, p] = GetParam();
  const auto lengths = test::collective_lengths(p);
  // results[call][rank]
  std::vector<std::vector<std::vector<float>>> results(
      lengths.size(), std::vector<std::vector<float>>(static_cast<std::size_t>(p)));
  run_algo(
      run, p, lengths,
      [](int rank, std::size_t call, std::vector<float>& d) {
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = integer_input(rank, i, call);
      },
      [&](int rank, std::size_t call, std::vector<float>& d) {
        EXPECT_EQ(count_wrong_sums(d, p, call), 0u)
            << case_name(GetParam()) << " length " << d.size() << " rank " << rank;
        results[call][static_cast<std::size_t>(rank)] = d;
      });
  for (std::size_t call = 0; call < lengths.size(); ++call) {
    for (int r = 1; r < p; ++r) {
      EXPECT_TRUE(results[call][static_cast<std::size_t>(r)] == results[call][0])
          << case_name(GetParam()) << " length " << lengths[call] << ": rank " << r
          << " differs from rank 0";
    }
  }
}

TEST_P(CollectiveTest, FloatSumsWithinRoundingBoundAndIdentical) {
  const auto& [run, p] = GetParam();
  const std::vector<std::size_t> lengths{30011};
  auto value = [](int rank, std::size_t i) {
    Rng rng(derive_seed(99, static_cast<std::uint64_t>(rank), i));
    return rng.normal() * 100.0f;
  };
  std::vector<std::vector<float>> results(static_cast<std::size_t>(p));
  run_algo(
      run, p, lengths,
      [&](int rank, std::size_t, std::vector<float>& d) {
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = value(rank, i);
      },
      [&](int rank, std::size_t, std::vector<float>& d) {
        results[static_cast<std::size_t>(rank)] = d;
      });
  // Any order of P-1 float additions is within (P-1) u sum|x| of the exact sum (u = 2^-24,
  // to first order); a term lost or counted twice is far outside.
  const double u = std::ldexp(1.0, -24);
  std::size_t outside = 0;
  for (std::size_t i = 0; i < lengths[0]; ++i) {
    double exact = 0, magnitude = 0;
    for (int r = 0; r < p; ++r) {
      exact += static_cast<double>(value(r, i));
      magnitude += std::abs(static_cast<double>(value(r, i)));
    }
    const double bound = 1.01 * (p - 1) * u * magnitude;
    outside += std::abs(static_cast<double>(results[0][i]) - exact) > bound;
  }
  EXPECT_EQ(outside, 0u) << case_name(GetParam());
  for (int r = 1; r < p; ++r) {
    EXPECT_TRUE(results[static_cast<std::size_t>(r)] == results[0])
        << case_name(GetParam()) << ": rank " << r << " differs from rank 0";
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (int p = 1; p <= 9; ++p) {
    for (const char* algo : {"ring", "rd", "rabenseifner", "hierarchical", "hierarchical-hosts",
                             "in-place-hierarchical", "in-place-hierarchical-hosts"}) {
      cases.push_back({{algo}, p});
    }
  }
  // Many chunks per message and many pieces per array: the pipelining and parity paths.
  for (int p : {3, 5, 8}) {
    cases.push_back({{"rd", 1000}, p});
    cases.push_back({{"rabenseifner", 777}, p});
    cases.push_back({{"hierarchical", 32768, 4099}, p});
    cases.push_back({{"hierarchical-hosts", 32768, 4099}, p});
    cases.push_back({{"in-place-hierarchical-hosts", 32768, 4099}, p});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CollectiveTest, ::testing::ValuesIn(all_cases()),
                         [](const auto& test_case) { return case_name(test_case.param); });

TEST(Collectives, ScratchStopsGrowingInSteadyState) {
  const int p = 5;
  // A warm-up call of each size class, then the same sizes again: no growth.
  const std::vector<std::size_t> lengths{100000, 7, 4097, 100000, 7, 4097, 100000};
  test::run_ranks(p, [&](int rank, PeerTransport& transport) {
    RecursiveDoublingAllreduce rd(transport, 5000);
    RabenseifnerAllreduce rab(transport, 5000);
    RingAllreduce ring(transport, 5000);
    std::vector<float> data;
    std::size_t rd_after_warmup = 0, rab_after_warmup = 0, ring_after_warmup = 0;
    for (std::size_t call = 0; call < lengths.size(); ++call) {
      for (int algo = 0; algo < 3; ++algo) {
        data.assign(lengths[call], 0.0f);
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = integer_input(rank, i, call);
        if (algo == 0) rd.allreduce_sum(data);
        if (algo == 1) rab.allreduce_sum(data);
        if (algo == 2) ring.allreduce_sum(data);
        EXPECT_EQ(count_wrong_sums(data, p, call), 0u) << "call " << call << " algo " << algo;
      }
      if (call == 2) {
        rd_after_warmup = rd.scratch_floats();
        rab_after_warmup = rab.scratch_floats();
        ring_after_warmup = ring.scratch_floats();
        EXPECT_GT(rd_after_warmup, 0u);
      }
    }
    EXPECT_EQ(rd.scratch_floats(), rd_after_warmup);
    EXPECT_EQ(rab.scratch_floats(), rab_after_warmup);
    EXPECT_EQ(ring.scratch_floats(), ring_after_warmup);
  });
}

TEST(Collectives, ChunkOfZeroIsRejected) {
  test::InProcessNetwork network(1);
  EXPECT_THROW(RecursiveDoublingAllreduce(network.transport(0), 0), ConfigError);
  EXPECT_THROW(RabenseifnerAllreduce(network.transport(0), 0), ConfigError);
}

TEST(Collectives, HierarchicalRejectsTooLittleSharedMemory) {
  SharedMemory memory(HierarchicalAllreduce::shared_bytes(2, 1000) - 64);
  HostGroup group;
  group.shared = memory.span();
  group.local_size = 2;
  EXPECT_THROW(HierarchicalAllreduce(group, 1000), CommError);
}

// Rank `rank` of `ranks` threads standing for the ranks of one host.
HostGroup one_host(SharedMemory& memory, int rank, int ranks) {
  HostGroup group;
  group.shared = memory.span();
  group.local_rank = rank;
  group.local_size = ranks;
  return group;
}

// The in-place path on float inputs gives the staged path's bits: both add each element's
// host contributions in local-rank order.
TEST(Collectives, InPlaceAndStagedHierarchicalGiveTheSameBits) {
  const int p = 3;
  const std::size_t n = 50001;
  SharedMemory memory(HierarchicalAllreduce::shared_bytes(p));
  std::vector<std::vector<float>> arrays(p, std::vector<float>(n));
  std::vector<std::vector<float>> staged(p, std::vector<float>(n));
  test::run_ranks(p, [&](int rank, PeerTransport&) {
    HierarchicalAllreduce hier(one_host(memory, rank, p));
    hier.add_array({arrays[0].data(), arrays[1].data(), arrays[2].data()}, n);
    auto& mine = arrays[static_cast<std::size_t>(rank)];
    for (std::size_t i = 0; i < n; ++i) {
      Rng rng(derive_seed(7, static_cast<std::uint64_t>(rank), i));
      mine[i] = rng.normal();
    }
    staged[static_cast<std::size_t>(rank)] = mine;
    hier.allreduce_sum(mine);
    hier.allreduce_sum(staged[static_cast<std::size_t>(rank)]);
  });
  for (int r = 0; r < p; ++r) {
    EXPECT_TRUE(arrays[static_cast<std::size_t>(r)] == staged[0]) << "rank " << r;
  }
}

TEST(Collectives, InPlaceSpansThatDifferBetweenRanksAreRefused) {
  const int p = 2;
  SharedMemory memory(HierarchicalAllreduce::shared_bytes(p));
  std::vector<std::vector<float>> arrays(p, std::vector<float>(10000, 1.0f));
  std::atomic<int> refused{0};
  test::run_ranks(p, [&](int rank, PeerTransport&) {
    HierarchicalAllreduce hier(one_host(memory, rank, p));
    hier.add_array({arrays[0].data(), arrays[1].data()}, 10000);
    // Rank 1 starts 16 floats later: a broken contract, reported by both.
    const auto span = std::span<float>(arrays[static_cast<std::size_t>(rank)])
                          .subspan(static_cast<std::size_t>(rank) * 16, 5000);
    try {
      hier.allreduce_sum(span);
    } catch (const CommError& e) {
      EXPECT_NE(std::string(e.what()).find("every rank must reduce the same span"),
                std::string::npos)
          << e.what();
      refused.fetch_add(1);
    }
  });
  EXPECT_EQ(refused.load(), p);
  EXPECT_EQ(arrays[0][0], 1.0f);  // nothing summed
}

TEST(HostBarrier, NobodyPassesBeforeEveryoneArrived) {
  const int ranks = 4;
  SharedMemory memory(HostBarrier::shared_bytes(ranks));
  std::vector<std::atomic<int>> arrived(20);
  std::atomic<int> early{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      HostBarrier barrier(memory.span(), r, ranks);
      for (std::size_t round = 0; round < arrived.size(); ++round) {
        if (r == static_cast<int>(round) % ranks) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a late rank
        }
        arrived[round].fetch_add(1);
        barrier.arrive_and_wait();
        if (arrived[round].load() != ranks) early.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(early.load(), 0);
}

// The simulated build's barrier (HostGroup::blocking_barrier, an MPI_Barrier under SMPI):
// each rank publishes its flag and blocks in the given barrier instead of spinning; the flags
// still say how far every rank has come, and nobody passes early.
TEST(HostBarrier, BlockingBarrierIsUsedInsteadOfSpinning) {
  const int ranks = 3;
  const std::size_t rounds = 10;
  SharedMemory memory(HostBarrier::shared_bytes(ranks));
  std::barrier<> transport_barrier(ranks);
  std::atomic<int> blocking_calls{0};
  std::vector<std::atomic<int>> arrived(rounds);
  std::atomic<int> early{0};
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      HostBarrier barrier(memory.span(), r, ranks, {}, [&] {
        blocking_calls.fetch_add(1);
        transport_barrier.arrive_and_wait();
      });
      for (std::size_t round = 0; round < rounds; ++round) {
        if (r == static_cast<int>(round) % ranks) {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a late rank
        }
        arrived[round].fetch_add(1);
        barrier.arrive_and_wait();
        if (arrived[round].load() != ranks) early.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(blocking_calls.load(), ranks * static_cast<int>(rounds));
  for (int r = 0; r < ranks; ++r) {  // every flag holds the last barrier's number
    EXPECT_EQ(*reinterpret_cast<std::uint64_t*>(memory.data + HostBarrier::kLineBytes * r), rounds);
  }
}

}  // namespace
}  // namespace dtrain::comm
