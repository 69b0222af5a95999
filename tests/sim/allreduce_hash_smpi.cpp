// The SMPI side of the sim tests (allreduce_hash.h): under smpirun, every algorithm of
// MpiCommunicator (and SMPI's MPI_Allreduce, `mpi`, for the exact check only) on the lengths
// of the collectives tests, in an array from allocate_array as the trainer's gradients are
// (hierarchical sums spans from 256 floats in place, shorter ones staged). Every rank's
// result must be bitwise rank 0's; rank 0 checks the exact sums and prints.
//   smpirun -np P -platform X.xml -hostfile H ... allreduce-hash-smpi
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "comm/mpi/mpi_communicator.h"
#include "comm/mpi/mpi_runtime.h"
#include "sim/allreduce_hash.h"

int main(int argc, char** argv) {
  using namespace dtrain;
  comm::MpiRuntime mpi(&argc, &argv, comm::ThreadLevel::kFunneled);
  comm::MpiCommunicator comm("auto");
  const int p = comm.size();
  const int rank = comm.rank();
  const auto lengths = test::collective_lengths(p);
  const std::size_t longest =
      std::max<std::size_t>(1, *std::max_element(lengths.begin(), lengths.end()));
  const std::span<float> array = comm.allocate_array(longest);
  auto algos = test::hash_algos();
  algos.push_back("mpi");
  int failures = 0;
  for (std::size_t n : lengths) {
    const std::span<float> data = array.first(n);
    const std::vector<float> exact = rank == 0 ? test::exact_sums(p, n) : std::vector<float>();
    for (const auto& algo : algos) {
      auto run = [&] {
        if (algo == "auto") {
          comm.allreduce_sum(data);
        } else {
          comm.allreduce_sum(data, *comm::parse_algo(algo));
        }
      };
      // Integer inputs: exact sums, and the same bits on every rank.
      for (std::size_t i = 0; i < n; ++i) data[i] = test::integer_input(rank, i);
      run();
      auto hashes = comm.allgather(test::hash_floats(data));
      bool same = std::all_of(hashes.begin(), hashes.end(), [&](auto h) { return h == hashes[0]; });
      if (rank == 0) {
        const std::uint64_t wrong = test::count_differences(data, exact);
        std::printf("wrong %s %zu %llu%s\n", algo.c_str(), n,
                    static_cast<unsigned long long>(wrong), same ? "" : " differs-between-ranks");
        failures += wrong != 0 || !same;
      }
      if (algo == "mpi") continue;
      // Float inputs: the bits depend on the order of additions.
      for (std::size_t i = 0; i < n; ++i) data[i] = test::float_input(rank, i);
      run();
      hashes = comm.allgather(test::hash_floats(data));
      same = std::all_of(hashes.begin(), hashes.end(), [&](auto h) { return h == hashes[0]; });
      if (rank == 0) {
        std::printf("hash %s %zu %016llx%s\n", algo.c_str(), n,
                    static_cast<unsigned long long>(hashes[0]),
                    same ? "" : " differs-between-ranks");
        failures += !same;
      }
    }
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}
