// The in-process side of the sim tests (allreduce_hash.h): the algorithm classes that
// MpiCommunicator runs, set up as it sets them up (chunk by topology, the host groups and
// leaders of --hosts, one shared array per rank registered for in-place sums, auto's pick
// from the built-in table), over InProcessTransport threads. Prints what
// allreduce_hash_smpi prints for our algorithms.
//   allreduce-hash-in-process P [HOST_SIZES]     e.g. 7 3,3,1 (ranks numbered host by host)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "comm/collectives/algorithm_table.h"
#include "comm/collectives/hierarchical.h"
#include "comm/collectives/rabenseifner.h"
#include "comm/collectives/recursive_doubling.h"
#include "comm/collectives/ring_allreduce.h"
#include "sim/allreduce_hash.h"
#include "testing/in_process_transport.h"

namespace {

using namespace dtrain;

struct Aligned {  // zeroed, cache-line aligned memory, as MPI's shared window is
  explicit Aligned(std::size_t n)
      : data(static_cast<std::byte*>(::operator new (n, std::align_val_t{64}))), bytes(n) {
    std::memset(data, 0, n);
  }
  ~Aligned() { ::operator delete (data, std::align_val_t{64}); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  std::byte* data;
  std::size_t bytes;
};

struct Line {
  std::string text;
  bool failed = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: allreduce-hash-in-process P [HOST_SIZES, e.g. 3,3,1]\n");
    return 2;
  }
  const int p = std::atoi(argv[1]);
  std::vector<int> sizes;
  if (argc > 2) {
    std::stringstream in(argv[2]);
    for (std::string part; std::getline(in, part, ',');) sizes.push_back(std::stoi(part));
  } else {
    sizes.assign(static_cast<std::size_t>(p), 1);
  }
  std::vector<int> host_of, local_of;
  for (std::size_t h = 0; h < sizes.size(); ++h) {
    for (int l = 0; l < sizes[h]; ++l) {
      host_of.push_back(static_cast<int>(h));
      local_of.push_back(l);
    }
  }
  if (p < 1 || static_cast<int>(host_of.size()) != p) {
    std::fprintf(stderr, "allreduce-hash-in-process: host sizes must add up to P\n");
    return 2;
  }
  const int hosts = static_cast<int>(sizes.size());
  const bool shared_hosts = *std::max_element(sizes.begin(), sizes.end()) > 1;
  const auto topology =
      shared_hosts ? comm::Topology::kSharedHosts : comm::Topology::kOneRankPerHost;
  const std::size_t chunk = shared_hosts ? comm::RingAllreduce::kDefaultChunkFloats
                                         : comm::RingAllreduce::kNetChunkFloats;
  const auto table = comm::AlgorithmTable::builtin();
  const auto lengths = test::collective_lengths(p);
  const std::size_t longest =
      std::max<std::size_t>(1, *std::max_element(lengths.begin(), lengths.end()));
  std::vector<std::vector<float>> exact;
  for (std::size_t n : lengths) exact.push_back(test::exact_sums(p, n));
  const auto algos = test::hash_algos();

  std::vector<std::unique_ptr<Aligned>> shared;
  for (int size : sizes)
    shared.push_back(std::make_unique<Aligned>(comm::HierarchicalAllreduce::shared_bytes(size)));
  std::vector<std::unique_ptr<Aligned>> arrays;
  for (int r = 0; r < p; ++r) arrays.push_back(std::make_unique<Aligned>(longest * sizeof(float)));
  // results[rank][k]: hash of call k (lengths x algos x {integer, float}), and rank 0's wrongs.
  std::vector<std::vector<std::uint64_t>> results(static_cast<std::size_t>(p));
  std::vector<std::uint64_t> wrong;
  test::InProcessNetwork network(p);
  test::InProcessNetwork leaders(hosts);
  test::run_ranks(network, [&](int rank, comm::PeerTransport& transport) {
    const auto r = static_cast<std::size_t>(rank);
    comm::RingAllreduce ring(transport, chunk);
    comm::RecursiveDoublingAllreduce rd(transport, chunk);
    comm::RabenseifnerAllreduce rabenseifner(transport, chunk);
    const int h = host_of[r];
    comm::HostGroup group;
    group.shared = {shared[static_cast<std::size_t>(h)]->data,
                    shared[static_cast<std::size_t>(h)]->bytes};
    group.local_rank = local_of[r];
    group.local_size = sizes[static_cast<std::size_t>(h)];
    group.hosts = hosts;
    if (group.local_rank == 0 && hosts > 1) group.leaders = &leaders.transport(h);
    comm::HierarchicalAllreduce hierarchical(group);
    std::vector<float*> bases;
    for (int k = 0; k < group.local_size; ++k) {
      bases.push_back(reinterpret_cast<float*>(
          arrays[r - static_cast<std::size_t>(group.local_rank) + static_cast<std::size_t>(k)]
              ->data));
    }
    hierarchical.add_array(bases, longest);
    const std::span<float> array(reinterpret_cast<float*>(arrays[r]->data), longest);
    for (std::size_t li = 0; li < lengths.size(); ++li) {
      const std::size_t n = lengths[li];
      const std::span<float> data = array.first(n);
      for (const auto& name : algos) {
        auto run = [&] {
          if (p == 1 || n == 0) return;  // as MpiCommunicator::allreduce_sum
          const auto algo =
              name == "auto" ? table.choose(topology, n * sizeof(float)) : *comm::parse_algo(name);
          switch (algo) {
            case comm::AllreduceAlgo::kRing:
              return ring.allreduce_sum(data);
            case comm::AllreduceAlgo::kRecursiveDoubling:
              return rd.allreduce_sum(data);
            case comm::AllreduceAlgo::kRabenseifner:
              return rabenseifner.allreduce_sum(data);
            case comm::AllreduceAlgo::kHierarchical:
              return hierarchical.allreduce_sum(data);
            case comm::AllreduceAlgo::kMpi:
              break;
          }
          throw CommError("auto picked mpi");
        };
        for (std::size_t i = 0; i < n; ++i) data[i] = test::integer_input(rank, i);
        run();
        results[r].push_back(test::hash_floats(data));
        if (rank == 0) wrong.push_back(test::count_differences(data, exact[li]));
        for (std::size_t i = 0; i < n; ++i) data[i] = test::float_input(rank, i);
        run();
        results[r].push_back(test::hash_floats(data));
      }
    }
  });
  int failures = 0;
  std::size_t k = 0;
  for (std::size_t li = 0; li < lengths.size(); ++li) {
    for (std::size_t a = 0; a < algos.size(); ++a, k += 2) {
      bool same_int = true, same_float = true;
      for (const auto& mine : results) {
        same_int = same_int && mine[k] == results[0][k];
        same_float = same_float && mine[k + 1] == results[0][k + 1];
      }
      const auto w = wrong[li * algos.size() + a];
      std::printf("wrong %s %zu %llu%s\n", algos[a].c_str(), lengths[li],
                  static_cast<unsigned long long>(w), same_int ? "" : " differs-between-ranks");
      std::printf("hash %s %zu %016llx%s\n", algos[a].c_str(), lengths[li],
                  static_cast<unsigned long long>(results[0][k + 1]),
                  same_float ? "" : " differs-between-ranks");
      failures += w != 0 || !same_int || !same_float;
    }
  }
  return failures == 0 ? 0 : 1;
}
