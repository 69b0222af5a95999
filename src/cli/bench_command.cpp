#include <cstdio>

#include "cli/commands.h"
#include "comm/mpi/mpi_communicator.h"
#include "tensor/blas.h"

namespace dtrain::cli {

int run_bench_allreduce(const CliOptions& o) {
  tensor::set_blas_threads(1);
  comm::MpiCommunicator ring("ring");
  comm::MpiCommunicator reference("mpi");
  std::vector<comm::AllreduceBenchResult> results;
  run_guarded(ring, [&] {
    results = comm::run_allreduce_bench(
        o.bench,
        [&](std::span<float> data, const std::string& algo) {
          (algo == "ring" ? ring : reference).allreduce_sum(data);
        },
        ring);
  });
  if (ring.rank() != 0) return kExitOk;
  long long wrong = 0;
  if (!o.bench_json) {
    std::printf("%-5s %12s %6s %12s %12s %10s %10s %6s\n", "algo", "bytes", "ranks", "p50_us",
                "p95_us", "algbw_GB/s", "busbw_GB/s", "wrong");
  }
  for (const auto& r : results) {
    wrong += r.wrong;
    if (o.bench_json) {
      std::printf(
          "{\"algo\":\"%s\",\"bytes\":%zu,\"ranks\":%d,\"time_us_p50\":%.3f,\"time_us_p95\":%.3f,"
          "\"algbw_gbs\":%.4f,\"busbw_gbs\":%.4f,\"wrong\":%lld}\n",
          r.algo.c_str(), r.bytes, r.ranks, r.time_us_p50, r.time_us_p95, r.algbw_gbs, r.busbw_gbs,
          r.wrong);
    } else {
      std::printf("%-5s %12zu %6d %12.2f %12.2f %10.3f %10.3f %6lld\n", r.algo.c_str(), r.bytes,
                  r.ranks, r.time_us_p50, r.time_us_p95, r.algbw_gbs, r.busbw_gbs, r.wrong);
    }
  }
  std::fflush(stdout);
  // A wrong sum is a failed run, not a slow one.
  return wrong == 0 ? kExitOk : kExitRuntime;
}

}  // namespace dtrain::cli
