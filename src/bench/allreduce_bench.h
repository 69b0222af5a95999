#pragma once
// `dtrain bench allreduce`: times an allreduce over doubling message sizes and checks every
// result against the exact expected sum (docs/design.md "Command line", the bench's JSON fields).
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"

namespace dtrain::bench {

struct AllreduceBenchOptions {
  std::size_t min_bytes = 8;
  std::size_t max_bytes = std::size_t{256} << 20;
  int iters = 0;  // timed iterations per size; 0 = chosen by size
  std::vector<std::string> algos{"auto", "mpi"};
  // The buffer: by default from comm.allocate_array (shared with the host's other ranks, as
  // the trainer's gradient arena is, so hierarchical sums in place); true: a plain vector.
  bool private_buffer = false;
};

struct AllreduceBenchResult {
  std::string algo;
  std::size_t bytes = 0;
  int ranks = 0;
  double time_us_p50 = 0.0;  // per iteration, slowest rank
  double time_us_p95 = 0.0;
  double algbw_gbs = 0.0;  // bytes / time_us_p50, in 1e9 bytes per second
  double busbw_gbs = 0.0;  // algbw * 2(P-1)/P, the nccl-tests definition
  long long wrong = 0;     // elements differing from the exact sum, over all ranks and iterations
};

// Timed iterations used for a message size when options.iters is 0.
int default_bench_iters(std::size_t bytes);

// Collective. For bytes = min_bytes, 2*min_bytes, ... <= max_bytes, for each algo (taking
// turns iteration by iteration), calls allreduce(data, algo); results come algo by algo.
// For each algo, for bytes = min_bytes, 2*min_bytes, ... <= max_bytes, calls
// allreduce(data, algo) with rank- and index-dependent integer data (the sum is exact in
// float for up to ~1600 ranks). Throws ConfigError naming --min-bytes/--max-bytes/--iters
// for invalid options. The results are the same on every rank; rank 0 prints them.
std::vector<AllreduceBenchResult> run_allreduce_bench(
    const AllreduceBenchOptions& options,
    const std::function<void(std::span<float>, const std::string& algo)>& allreduce,
    comm::Communicator& comm);

}  // namespace dtrain::bench
