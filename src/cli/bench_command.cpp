#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "bench/allreduce_model.h"
#include "cli/bench_allreduce_command.h"
#include "cli/command_guard.h"
#include "comm/mpi/mpi_communicator.h"

namespace dtrain::cli {

namespace {

// --tune: the fastest of our algorithms at each measured size, as table entries for the
// topology this job runs on (the other topology keeps its current entries).
comm::AlgorithmTable tuned_table(const std::vector<bench::AllreduceBenchResult>& results,
                                 const comm::MpiCommunicator& comm) {
  std::vector<std::size_t> sizes;
  for (const auto& r : results) {
    if (std::find(sizes.begin(), sizes.end(), r.bytes) == sizes.end()) sizes.push_back(r.bytes);
  }
  std::vector<comm::AlgorithmTable::Entry> entries;
  for (std::size_t bytes : sizes) {
    const bench::AllreduceBenchResult* best = nullptr;
    for (const auto& r : results) {
      if (r.bytes == bytes && (!best || r.time_us_p50 < best->time_us_p50)) best = &r;
    }
    const auto algo = *comm::parse_algo(best->algo);
    if (!entries.empty() && entries.back().algo == algo) {
      entries.back().up_to_bytes = bytes;
    } else {
      entries.push_back({bytes, algo});
    }
  }
  entries.back().up_to_bytes = comm::AlgorithmTable::kMax;
  comm::AlgorithmTable table = comm.table();
  table.set(comm.topology(), entries);
  return table;
}

void print_fits(const std::vector<bench::CostFit>& fits) {
  std::printf("\n%-13s %6s %12s %14s %14s %9s %9s\n", "fit", "ranks", "alpha_us", "beta_ns/B",
              "gamma_ns/B", "rms_err", "max_err");
  for (const auto& f : fits) {
    std::printf("%-13s %6d %12.3f %14.5f %14.5f %8.1f%% %8.1f%%\n", f.algo.c_str(), f.ranks,
                f.alpha_s * 1e6, f.beta_s_per_byte * 1e9, f.gamma_s_per_byte * 1e9,
                100 * f.rms_rel_error, 100 * f.max_rel_error);
  }
}

}  // namespace

int run_bench_allreduce(const BenchAllreduceOptions& o) {
  comm::MpiCommunicator comm("auto", comm::MpiCommunicator::kChunkByTopology, o.allreduce_table);
  std::vector<bench::AllreduceBenchResult> results;
  double gamma = 0.0;
  run_guarded(comm, [&] {
    results = bench::run_allreduce_bench(
        o.bench,
        [&](std::span<float> data, const std::string& algo) {
          if (algo == "auto") {
            comm.allreduce_sum(data);
          } else {
            comm.allreduce_sum(data, *comm::parse_algo(algo));
          }
        },
        comm);
    if (o.fit) gamma = bench::measure_gamma();
  });
  if (comm.rank() != 0) return kExitOk;
  long long wrong = 0;
  if (!o.json) {
    std::printf(
        "# %d rank(s) on %d host(s); algorithms measured in turns, p50/p95 of the slowest "
        "rank\n",
        comm.size(), comm.hosts());
    std::printf("%-13s %12s %6s %12s %12s %10s %10s %6s\n", "algo", "bytes", "ranks", "p50_us",
                "p95_us", "algbw_GB/s", "busbw_GB/s", "wrong");
  }
  for (const auto& r : results) {
    wrong += r.wrong;
    if (o.json) {
      // For auto, which algorithm the table picked at this size.
      const std::string chosen =
          r.algo == "auto"
              ? ",\"chosen\":\"" + std::string(comm::algo_name(comm.algorithm_for(r.bytes))) + "\""
              : std::string();
      std::printf(
          "{\"algo\":\"%s\",\"bytes\":%zu,\"ranks\":%d,\"time_us_p50\":%.3f,\"time_us_p95\":%.3f,"
          "\"algbw_gbs\":%.4f,\"busbw_gbs\":%.4f,\"wrong\":%lld%s}\n",
          r.algo.c_str(), r.bytes, r.ranks, r.time_us_p50, r.time_us_p95, r.algbw_gbs, r.busbw_gbs,
          r.wrong, chosen.c_str());
    } else {
      std::printf("%-13s %12zu %6d %12.2f %12.2f %10.3f %10.3f %6lld\n", r.algo.c_str(), r.bytes,
                  r.ranks, r.time_us_p50, r.time_us_p95, r.algbw_gbs, r.busbw_gbs, r.wrong);
    }
  }
  int code = wrong == 0 ? kExitOk : kExitRuntime;  // a wrong sum is a failed run
  if (o.fit && !o.json) {
    const auto fits = bench::fit_cost_model(results, gamma, !o.bench.private_buffer);
    print_fits(fits);
    if (!o.fit_json.empty()) {
      std::ofstream out(o.fit_json);
      out << bench::cost_fits_json(fits);
      if (!out) {
        std::fprintf(stderr, "dtrain: --fit-json: cannot write '%s'\n", o.fit_json.c_str());
        code = kExitRuntime;
      }
    }
  }
  if (o.tune) {
    const auto table = tuned_table(results, comm);
    std::ofstream out(o.output);
    out << "# measured by dtrain bench allreduce --tune at " << comm.size() << " ranks on "
        << comm.hosts() << " host(s), topology " << comm::topology_name(comm.topology()) << "\n"
        << table.to_text();
    out.flush();
    if (!out) {
      std::fprintf(stderr, "dtrain: --output: cannot write '%s'\n", o.output.c_str());
      code = kExitRuntime;
    } else if (!o.json) {
      std::printf("\ntable written to %s:\n%s", o.output.c_str(), table.to_text().c_str());
    }
  }
  std::fflush(stdout);
  return code;
}

}  // namespace dtrain::cli
